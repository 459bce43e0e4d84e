"""The SPREC centrifugation elements derived from each spin's recorded settings, and the checks
on those settings (units, plausible ranges), without a database.

The rule reads ``data/sprec_centrifugation.csv`` and uses only rows checked against SPREC 2.0
Table 1 (source ``v2-T1``). The shipped table holds no such row yet, so the rule's mechanics are
tested on a table given here whose letters are placeholders, not SPREC's; every verified row the
shipped table gains is checked by ``test_every_verified_row_is_derived_from_its_own_settings``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from oncotrials.core.biobank.centrifugation import Spin, braking_value, spin_value
from oncotrials.core.biobank.sprec import (
    SprecInput,
    spin_element,
    spin_rows_parse,
    spin_table,
    sprec_code,
)
from oncotrials.core.errors import ValidationError

HEADER = "element,code,temp_lo,temp_hi,min_lo,min_hi,g_lo,g_hi,braking,label,source\n"
TABLE = spin_rows_parse(
    HEADER
    + "centrifugation,P,15,28,10,16,0,3000,on,placeholder room-temperature braked,v2-T1\n"
    + "centrifugation,Q,15,28,10,16,0,3000,off,placeholder room-temperature unbraked,v2-T1\n"
    + "centrifugation,R,2,10,10,16,3000,6000,on,placeholder cold braked,recalled\n"
    + "second_centrifugation,S,2,10,10,16,3000,,on,placeholder second cold braked,v2-T1\n"
)
SPUN = Spin(temp_c=20, g=2000, minutes=10, braking=True)


def plasma(first: Spin | None, second: Spin | None = None, spins: int = 1) -> list[str]:
    code = sprec_code(
        SprecInput(
            specimen_type="plasma",
            container_type="EDTA",
            precentrifugation_delay_min=60,
            precentrifugation_temp="RT",
            centrifugations=spins,
            first_spin=first,
            second_spin=second,
        ),
        spin_rows=TABLE,
    )
    return code.code.split("-")


def test_a_verified_row_gives_its_letter_and_braking_selects_it() -> None:
    assert plasma(SPUN)[3] == "P"
    assert plasma(Spin(temp_c=20, g=2000, minutes=10, braking=False))[3] == "Q"


def test_ranges_are_half_open() -> None:
    assert plasma(Spin(temp_c=15, g=0, minutes=10, braking=True))[3] == "P"
    # 3000 × g is the upper bound of P, excluded; 16 min likewise.
    assert plasma(Spin(temp_c=20, g=3000, minutes=10, braking=True))[3] == "X"
    assert plasma(Spin(temp_c=20, g=2999, minutes=16, braking=True))[3] == "X"


def test_a_recalled_row_is_never_used_and_no_match_is_unknown_not_other() -> None:
    # R would match a cold 4000 × g spin, but it is not verified.
    element = spin_element("centrifugation", Spin(4, 4000, 12, True), TABLE)
    assert element[0] == "X"
    assert "no verified SPREC row for 4 °C, 4000 × g, 12 min, braked" in element[1]


def test_missing_settings_are_unknown_and_named() -> None:
    code, meaning = spin_element("centrifugation", Spin(temp_c=20, g=2000), TABLE)
    assert code == "X"
    assert meaning == "unknown (not recorded: duration, braking)"
    assert plasma(None)[3] == "X"


def test_second_spin_is_coded_only_when_done() -> None:
    second = Spin(temp_c=4, g=16000, minutes=10, braking=True)
    assert plasma(SPUN, second, spins=2)[3:5] == ["P", "S"]
    assert plasma(SPUN, second, spins=1)[3:5] == ["P", "N"]  # one spin: no second
    assert plasma(None, None, spins=0)[2:6] == ["N", "N", "N", "N"]


def test_the_shipped_table_only_holds_checked_sources() -> None:
    assert {r.source for r in spin_table()} <= {"v2-T1", "recalled"}


def _inside(bounds: tuple[float | None, float | None], below_hi: float) -> float:
    lo, hi = bounds
    if lo is not None:
        return lo
    return (hi - below_hi) if hi is not None else 0.0


@pytest.mark.parametrize(
    "row",
    [r for r in spin_table() if r.source == "v2-T1"],
    ids=lambda r: f"{r.element}-{r.code}",
)
def test_every_verified_row_is_derived_from_its_own_settings(row) -> None:  # type: ignore[no-untyped-def]
    spin = Spin(
        temp_c=_inside(row.temp, 1),
        g=_inside(row.g, 1),
        minutes=_inside(row.minutes, 0.5),
        braking=row.braking == "on",
    )
    assert spin_element(row.element, spin) == (row.code, row.label)


def test_without_verified_rows_a_recorded_spin_stays_unknown() -> None:
    if any(r.source == "v2-T1" for r in spin_table()):
        pytest.skip("the shipped table has verified rows; the test above covers them")
    code = sprec_code(
        SprecInput(specimen_type="serum", container_type="SST", centrifugations=1, first_spin=SPUN)
    )
    assert code.code.split("-")[3] == "X"
    assert code.elements[3][2].startswith("unknown (no verified SPREC row")


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("temp_c", "4 °C", Decimal("4.0")),
        ("temp_c", 21.5, Decimal("21.5")),
        ("g", "2000 x g", Decimal("2000.0")),
        ("g", "1600×g", Decimal("1600.0")),
        ("g", 16000, Decimal("16000.0")),
        ("min", "10 min", Decimal("10.0")),
        ("min", "90 s", Decimal("1.5")),
        ("min", "0,5 h", Decimal("30.0")),
    ],
)
def test_settings_are_stored_in_the_field_unit(kind: str, value: object, stored: Decimal) -> None:
    assert spin_value(kind, value, "f") == stored


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("g", "3000 rpm", "not rpm"),
        ("g", "2000 kg", "in × g"),
        ("g", 5, "outside the plausible range 10–30000 × g"),
        ("g", 200000, "outside the plausible range"),
        ("temp_c", "39 °F", "°C"),
        ("temp_c", "277 K", "°C"),
        ("temp_c", -20, "outside the plausible range 0–40 °C"),
        ("min", "10 days", "in minutes"),
        ("min", 0, "outside the plausible range"),
        ("min", "4 h", "outside the plausible range"),
        ("min", "ten", "must be a number"),
        ("temp_c", True, "must be a number"),
    ],
)
def test_a_bad_setting_names_its_field(kind: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        spin_value(kind, value, "centrifuge_x")
    assert caught.value.extra["field"] == "centrifuge_x"


def test_braking_words() -> None:
    assert braking_value("Yes", "b") == "on"
    assert braking_value("unbraked", "b") == "off"
    with pytest.raises(ValidationError, match="on or off") as caught:
        braking_value("maybe", "centrifuge_braking")
    assert caught.value.extra["field"] == "centrifuge_braking"
