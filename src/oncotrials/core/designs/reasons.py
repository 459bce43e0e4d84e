"""Why a design decided as it did: a stable code and the values it names.

A :class:`Decision` carries its reason as English text (``reason``), and, for the designs that
word it from this table, as an :class:`Explanation` too, so that an application can word the
same reason in its user's language from the code and the values. A value may itself be an
explanation (the action part of "2/6 DLTs at dose 3: escalate to dose 4.").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

#: code -> the English reason, with ``{name}`` for each value it names.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "lowest_overly_toxic": (
            "The lowest dose is overly toxic ({dlts}/{treated} DLTs); stop the trial, no MTD."
        ),
        "untreated_next_cohort": "No patient treated yet at dose {dose}; treat the next cohort there.",
        "untreated_next_cohort_short": "No patient yet at dose {dose}; treat the next cohort there.",
        "max_sample_select": "The maximum sample size ({size}) is reached; select dose {mtd} as the MTD.",
        "max_sample_none": "The maximum sample size ({size}) is reached; no dose is selected.",
        "eliminate_current": (
            "{y}/{n} DLTs at dose {dose}: P(DLT rate > {target}) > {cutoff}; eliminate dose "
            "{dose} and higher doses, de-escalate to dose {next}."
        ),
        "eliminate_above": (
            "Dose {first} ({dlts}/{treated} DLTs) is eliminated with every higher dose, "
            "including dose {dose}; go to dose {next}."
        ),
        "earlystop_select": (
            "{count} patients at dose {dose} reach n_earlystop={n_earlystop}; stop and select "
            "dose {mtd}."
        ),
        "earlystop_none": (
            "{count} patients at dose {dose} reach n_earlystop={n_earlystop}; stop and select none."
        ),
        "observed": "{y}/{n} DLTs at dose {dose}: {action}.",
        "escalate_to": "escalate to dose {dose}",
        "deescalate_to": "de-escalate to dose {dose}",
        "stay_highest": "stay (highest dose)",
        "stay_next_eliminated": "stay (the next dose is eliminated)",
        "stay_lowest": "stay (already at the lowest dose)",
        "stay_at": "stay at dose {dose}",
        # TITE-BOIN
        "tite_eliminated": (
            "Dose {first} and higher are overly toxic; de-escalate to dose {next}."
        ),
        "tite_max_sample_select": (
            "The maximum sample size is reached and every patient is evaluated; select dose {mtd}."
        ),
        "tite_max_sample_none": (
            "The maximum sample size is reached and every patient is evaluated; select none."
        ),
        "tite_too_many_pending": (
            "{pending} of {treated} patients at dose {dose} are still pending (more than "
            "{share}); suspend accrual until more are evaluated."
        ),
        "tite_lowest_pending": (
            "p_hat={p_hat} at the lowest dose with {pending} pending; wait for their follow-up."
        ),
        "tite_earlystop_select": (
            "{count} patients at dose {dose} reach n_earlystop and the decision is to stay; "
            "stop and select dose {mtd}."
        ),
        "tite_earlystop_none": (
            "{count} patients at dose {dose} reach n_earlystop and the decision is to stay; "
            "stop and select none."
        ),
        "tite_observed": "{dlts} DLTs, {pending} pending among {treated} at dose {dose}: {action}.",
        # 3+3
        "tpt_untreated": "No patient yet at dose {dose}; treat 3 there.",
        "tpt_lowest_toxic": "{y}/{n} DLTs at the lowest dose: stop the trial, no MTD.",
        "tpt_mtd": "{y}/{n} DLTs at dose {dose}: stop; dose {mtd} is the MTD.",
        "tpt_escalate": "{y}/{n} DLTs at dose {dose}: escalate to dose {next}.",
        "tpt_exceed": "{y}/{n} DLTs at dose {dose} exceed the MTD: treat 3 more at dose {next}.",
        "tpt_stay": "{y}/{n} DLTs at dose {dose}: treat 3 more at dose {dose}.",
        # model-based designs (CRM, TITE-CRM, EWOC)
        "model_untreated_cohort": (
            "No patient treated yet; treat the first cohort at dose {dose}."
        ),
        "model_untreated_patient": (
            "No patient treated yet; treat the first patient at dose {dose}."
        ),
        "crm_safety_stop": (
            "P(DLT rate at the lowest dose > {target}) = {p} exceeds the safety threshold "
            "{threshold}: stop, no dose is safe."
        ),
        "crm_max_n": "Sample size reached ({total} of {max_n}); the MTD estimate is dose {mtd}.",
        "crm_stop_n": (
            "Dose {dose} already has {count} patients (stop_n_at_dose={stop_n}); the MTD "
            "estimate is dose {dose}."
        ),
        "crm_posterior_mean": (
            "Posterior mean of beta {beta}; DLT estimates [{estimates}] for target {target}."
        ),
        "crm_posterior_mle": (
            "Posterior MLE of beta {beta}; DLT estimates [{estimates}] for target {target}."
        ),
        "titecrm_posterior": (
            "TITE-CRM posterior mean of beta {beta} with {pending} pending patient(s) weighted "
            "by follow-up; DLT estimates [{estimates}] for target {target}."
        ),
        "ewoc_stop": "P(DLT rate at the first dose > {target}) = {p} exceeds {threshold}: stop.",
        "ewoc_next": (
            "P(MTD < dose {dose}) = {p} <= alpha {alpha}; posterior mean DLT probability there "
            "{pdlt}."
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Explanation:
    """A reason by its code (a key of :data:`REASONS`) and the values it names."""

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return REASONS[self.code].format(**{k: str(v) for k, v in self.values})


def explain(code: str, **values: Any) -> Explanation:
    """The explanation ``code`` with ``values`` (an unknown code is a programming error)."""
    if code not in REASONS:
        raise KeyError(code)
    return Explanation(code, tuple(values.items()))


def reason(code: str, **values: Any) -> dict[str, Any]:
    """The ``reason`` and ``explained`` fields of a :class:`Decision`, from one explanation."""
    e = explain(code, **values)
    return {"reason": str(e), "explained": e}
