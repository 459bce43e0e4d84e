"""What every dose-finding design shares: the data so far, and the decision it returns."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from oncotrials.core.errors import ValidationError


class Action(str, enum.Enum):
    """The next step a design recommends for the current dose."""

    ESCALATE = "escalate"
    STAY = "stay"
    DE_ESCALATE = "de-escalate"
    ELIMINATE = "eliminate"  # eliminate the current dose and those above, then de-escalate
    STOP = "stop"  # stop the trial (no dose is safe enough, or the sample size is reached)
    SUSPEND = "suspend"  # wait for pending follow-up before the next cohort


@dataclass(frozen=True, slots=True)
class DoseData:
    """Outcomes observed at one dose level.

    ``pending`` counts patients still inside the DLT window (``follow_up`` gives, per pending
    patient, the fraction of the window already observed, for time-to-event designs).
    """

    treated: int
    dlts: int
    pending: int = 0
    follow_up: tuple[float, ...] = ()

    def check(self, *, dose: int) -> None:
        if self.treated < 0 or self.dlts < 0 or self.pending < 0:
            raise ValidationError(
                f"Dose {dose}: counts must be non-negative; got treated={self.treated}, "
                f"dlts={self.dlts}, pending={self.pending}."
            )
        if self.dlts > self.treated:
            raise ValidationError(
                f"Dose {dose}: {self.dlts} DLTs among {self.treated} treated patients; "
                "DLTs cannot exceed the number treated."
            )


@dataclass(frozen=True, slots=True)
class Decision:
    """A design's answer for the data so far: what to do next, why, and the table row used."""

    action: Action
    current_dose: int  # 0-based index into the dose levels
    next_dose: int | None  # None when the trial stops
    reason: str
    rule: str = ""  # the decision-table row or rule that decided
    eliminated: tuple[int, ...] = field(default_factory=tuple)


def check_doses(data: Sequence[DoseData], *, n_doses: int | None = None) -> None:
    """Validate per-dose data and, when given, that it covers exactly ``n_doses`` levels."""
    if n_doses is not None and len(data) != n_doses:
        raise ValidationError(
            f"Got data for {len(data)} dose levels but the design has {n_doses}; "
            "give one entry per dose level, in increasing order."
        )
    for i, d in enumerate(data):
        d.check(dose=i)
