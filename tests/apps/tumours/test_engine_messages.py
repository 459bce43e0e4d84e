"""The RECIST engine (framework-free) refuses with a code and its values; the tumours app words
each refusal a person can meet in their language, and leaves any other code as the engine said
it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.translation import override

from oncotrials.apps.accounts.core_messages import core_errors_translated, translated
from oncotrials.apps.tumours.services import RECIST_MESSAGES
from oncotrials.core import recist
from oncotrials.core.errors import ValidationError

T, NT = recist.LesionRole.TARGET, recist.LesionRole.NON_TARGET


def _refusal(*lesions: recist.BaselineLesion) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        recist.select_targets(tuple(lesions))
    return caught.value


def _lesion(lesion_id: str, organ: str, mm: str, **kw: object) -> recist.BaselineLesion:
    return recist.BaselineLesion(lesion_id, organ, Decimal(mm), **kw)  # type: ignore[arg-type]


REFUSALS = {
    "recist_normal_node": lambda: _refusal(_lesion("N1", "lymph node", "8", nodal=True, role=NT)),
    "recist_target_too_small": lambda: _refusal(_lesion("T1", "liver", "7", role=T)),
    "recist_target_node_too_small": lambda: _refusal(
        _lesion("N1", "lymph node", "12", nodal=True, role=T)
    ),
    "recist_too_many_targets": lambda: _refusal(
        *(_lesion(f"T{i}", f"organ {i}", "20", role=T) for i in range(6))
    ),
    "recist_too_many_targets_in_organ": lambda: _refusal(
        *(_lesion(f"T{i}", "liver", "20", role=T) for i in range(3))
    ),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_each_worded_refusal_carries_the_values_its_french_names(code):
    exc = REFUSALS[code]()
    assert exc.code == code
    assert exc.extra["field"] in {"role", "diameter_mm"}
    with override("fr"):
        french = translated(exc, RECIST_MESSAGES)
    assert french is not exc
    assert type(french) is ValidationError
    assert french.code == code
    assert dict(french.extra) == dict(exc.extra)
    assert french.message != exc.message  # the French wording, with every value filled in
    assert "%(" not in french.message
    with override("en"):
        assert translated(exc, RECIST_MESSAGES).message != exc.message  # plain words in English


def test_a_code_without_wording_keeps_the_engines_text():
    exc = ValidationError("Engine says no.", code="recist_something_else", lesion_id="T1")
    assert translated(exc, RECIST_MESSAGES) is exc
    with pytest.raises(ValidationError) as caught, core_errors_translated(RECIST_MESSAGES):
        raise exc
    assert caught.value is exc


def test_a_wording_whose_value_is_missing_keeps_the_engines_text():
    exc = ValidationError("Engine says no.", code="recist_normal_node", lesion_id="N1")
    assert translated(exc, RECIST_MESSAGES) is exc
