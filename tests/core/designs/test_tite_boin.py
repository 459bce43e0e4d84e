"""TITE-BOIN live decisions against TITEgBOIN 0.2.1 (next_TITE_QuasiBOIN, R 4.2.2).

Each case gives the R call; ``ft`` (total follow-up days of the pending patients, window
``maxt=28``) is split evenly over the pending patients as fractions of the window.
"""

from __future__ import annotations

import pytest

from oncotrials.core.designs import Action, DoseData
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.errors import ValidationError


def pend(n: int, y: int, npend: int, ft_days: float) -> DoseData:
    return DoseData(n, y, npend, tuple([ft_days / 28 / npend] * npend) if npend else ())


CASES = [
    # (R call, data, current (0-based), expected R d (1-based), expected action)
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,6,4,0,0), npend=c(0,0,2,0,0), y=c(0,1,1,0,0), "
        "ft=c(0,0,30,0,0), d=3, maxt=28) -> d=3",
        [DoseData(3, 0), DoseData(6, 1), pend(4, 1, 2, 30), DoseData(0, 0), DoseData(0, 0)],
        2,
        3,
        Action.STAY,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,6,6,0,0), npend=c(0,0,2,0,0), y=c(0,1,1,0,0), "
        "ft=c(0,0,50,0,0), d=3, maxt=28) -> d=4",
        [DoseData(3, 0), DoseData(6, 1), pend(6, 1, 2, 50), DoseData(0, 0), DoseData(0, 0)],
        2,
        4,
        Action.ESCALATE,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,6,6,0,0), npend=c(0,0,3,0,0), y=c(0,1,0,0,0), "
        "ft=c(0,0,14,0,0), d=3, maxt=28) -> d=4",
        [DoseData(3, 0), DoseData(6, 1), pend(6, 0, 3, 14), DoseData(0, 0), DoseData(0, 0)],
        2,
        4,
        Action.ESCALATE,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,6,6,0,0), npend=c(0,0,4,0,0), y=c(0,1,0,0,0), "
        "ft=c(0,0,14,0,0), d=3, maxt=28) -> d=3, pending=1 (suspend)",
        [DoseData(3, 0), DoseData(6, 1), pend(6, 0, 4, 14), DoseData(0, 0), DoseData(0, 0)],
        2,
        3,
        Action.SUSPEND,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,6,6,3,0), npend=c(0,0,0,1,0), y=c(0,1,1,3,0), "
        "ft=c(0,0,0,7,0), d=4, maxt=28) -> d=3, elimi=0,0,0,1,1",
        [DoseData(3, 0), DoseData(6, 1), DoseData(6, 1), DoseData(3, 3), DoseData(0, 0)],
        3,
        3,
        Action.ELIMINATE,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(6,3,0), npend=c(2,0,0), y=c(2,0,0), ft=c(10,0,0), d=1, "
        "maxt=28) -> d=1, pending=1",
        [pend(6, 2, 2, 10), DoseData(3, 0), DoseData(0, 0)],
        0,
        1,
        Action.SUSPEND,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,3,6,0), npend=c(0,0,2,0), y=c(0,0,1,0), ft=c(0,0,42,0), "
        "d=3, maxt=28) -> d=4",
        [DoseData(3, 0), DoseData(3, 0), pend(6, 1, 2, 42), DoseData(0, 0)],
        2,
        4,
        Action.ESCALATE,
    ),
    (
        "next_TITE_QuasiBOIN(0.3, n=c(3,3,6,0), npend=c(0,0,2,0), y=c(0,0,1,0), ft=c(0,0,2,0), "
        "d=3, maxt=28) -> d=3",
        [DoseData(3, 0), DoseData(3, 0), pend(6, 1, 2, 2), DoseData(0, 0)],
        2,
        3,
        Action.STAY,
    ),
]


@pytest.mark.parametrize(
    ("call", "data", "current", "r_dose", "action"), CASES, ids=[c[0][:70] for c in CASES]
)
def test_next_dose_matches_titegboin(
    call: str, data: list[DoseData], current: int, r_dose: int, action: Action
) -> None:
    dec = TITEBOIN(0.3).decide(data, current)
    assert dec.action is action
    assert dec.next_dose == r_dose - 1


def test_effective_sample_size() -> None:
    # ESS = n - n_pending + STFT: 6 - 2 + 50/28
    assert TITEBOIN(0.3).effective_sample_size(pend(6, 1, 2, 50)) == pytest.approx(4 + 50 / 28)


@pytest.mark.parametrize(
    ("ntox", "npts", "mtd"),
    [
        # select_mtd_TITE_QuasiBOIN(target=0.3, ntox=..., npts=...) -> MTD (1-based)
        ([0, 1, 2, 4, 0], [3, 6, 9, 6, 0], 3),
        ([0, 0, 3, 3, 0], [3, 3, 9, 9, 0], 3),
    ],
)
def test_select_mtd_matches_titegboin(ntox: list[int], npts: list[int], mtd: int) -> None:
    sel = TITEBOIN(0.3).select_mtd(list(zip(npts, ntox, strict=True)))
    assert sel.dose == mtd - 1


def test_without_pending_it_is_boin() -> None:
    from oncotrials.core.designs import BOIN

    data = [(3, 0), (6, 1), (3, 1), (0, 0)]
    for cur in range(3):
        assert TITEBOIN(0.3).decide(data, cur).next_dose == BOIN(0.3).decide(data, cur).next_dose


@pytest.mark.parametrize(
    ("dose", "fragment"),
    [
        (DoseData(3, 1, 3), "pending patients are counted in treated"),
        (DoseData(3, 0, 2, (0.5,)), "one fraction per pending patient"),
        (DoseData(3, 0, 1, (1.5,)), "got 1.5"),
    ],
)
def test_bad_pending_data(dose: DoseData, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TITEBOIN(0.3).decide([dose, DoseData(0, 0)], 0)
    assert fragment in exc.value.message
