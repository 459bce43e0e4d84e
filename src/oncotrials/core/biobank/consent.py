"""What a specimen may be used for, from the patient's translational consent tiers.

The tiers are the optional consents of a translational ICF version (MIABIS-SAMPLE-11 "Use &
access conditions"): storage, future research, genetic analysis, xenograft / animal work,
sharing outside the EU, commercial use. A use needs every tier it names answered Yes; a No, a
withdrawal or no answer refuses it, naming the tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    SAMPLE_STORAGE = "sample_storage"
    FUTURE_RESEARCH = "future_research"
    GENETIC_ANALYSIS = "genetic_analysis"
    XENOGRAFT = "xenograft"
    OUTSIDE_EU = "outside_eu_sharing"
    COMMERCIAL = "commercial_use"


class Use(StrEnum):
    STORAGE = "storage"
    RESEARCH = "research"
    SEQUENCING = "sequencing"
    XENOGRAFT = "xenograft"
    DISTRIBUTION_EU = "distribution_eu"
    DISTRIBUTION_NON_EU = "distribution_non_eu"
    COMMERCIAL = "commercial"


# Use -> tiers it needs (every one must be Yes).
USE_TIERS: dict[Use, tuple[Tier, ...]] = {
    Use.STORAGE: (Tier.SAMPLE_STORAGE,),
    Use.RESEARCH: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH),
    Use.SEQUENCING: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH, Tier.GENETIC_ANALYSIS),
    Use.XENOGRAFT: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH, Tier.XENOGRAFT),
    Use.DISTRIBUTION_EU: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH),
    Use.DISTRIBUTION_NON_EU: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH, Tier.OUTSIDE_EU),
    Use.COMMERCIAL: (Tier.SAMPLE_STORAGE, Tier.FUTURE_RESEARCH, Tier.COMMERCIAL),
}


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    WITHDRAWN = "withdrawn"
    NOT_SPECIFIED = "not_specified"


@dataclass(frozen=True, slots=True)
class Refusal:
    use: Use
    tier: Tier
    answer: Answer

    def message(self) -> str:
        said = {
            Answer.NO: "the patient answered No to",
            Answer.WITHDRAWN: "the patient withdrew",
            Answer.NOT_SPECIFIED: "no signed translational consent covers",
        }[self.answer]
        return (
            f"{self.use.value.replace('_', ' ').capitalize()} is not allowed: {said} the "
            f"'{self.tier.value}' tier."
        )


def refusal_for(use: Use | str, answers: Mapping[str, Answer]) -> Refusal | None:
    """The first tier that forbids ``use`` (None: allowed)."""
    u = Use(use)
    for tier in USE_TIERS[u]:
        answer = answers.get(tier.value, Answer.NOT_SPECIFIED)
        if answer is not Answer.YES:
            return Refusal(u, tier, answer)
    return None


def uses_blocked_by(tier: Tier | str) -> frozenset[Use]:
    t = Tier(tier)
    return frozenset(u for u, tiers in USE_TIERS.items() if t in tiers)
