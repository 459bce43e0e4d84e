"""The SDTM and ODM cores' refusals (framework-free) read in French when the exports app writes
a cut for a French user, with the dataset, subject and values in place; in English they are the
core's words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import override

from oncotrials.apps.accounts.core_messages import translated
from oncotrials.apps.exports.core_messages import EXPORT_CORE_MESSAGES
from oncotrials.apps.exports.formats import sdtm_write
from oncotrials.apps.exports.formats_odm import odm_write
from oncotrials.core import sdtm
from oncotrials.core.errors import ValidationError
from oncotrials.core.sdtm import model as m
from oncotrials.core.sdtm.writers import check_xpt_limits

CREATED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _subject(research_id: str, **kw) -> m.Subject:
    return m.Subject(
        research_id=research_id,
        site="main",
        country="FRA",
        sex="F",
        arm_code="DL1",
        arm="Dose level 1",
        registered_on=dt.date(2026, 3, 1),
        **kw,
    )


def _study(*subjects: m.Subject) -> str:
    return sdtm.study_to_json(m.Study(study_id="ONC-1", title="Phase I", subjects=subjects))


def _write(call, *, french: bool) -> ValidationError:
    with override("fr" if french else "en"), pytest.raises(ValidationError) as caught:
        call()
    return caught.value


def test_a_cut_with_a_repeated_subject_is_refused_in_french():
    text = _study(_subject("P-001"), _subject("P-001"))
    english = _write(lambda: sdtm_write(text, CREATED), french=False)
    assert english.message == "Research identifiers appear twice in the cut: ['P-001']."
    french = _write(lambda: sdtm_write(text, CREATED), french=True)
    assert (
        french.message
        == "Des identifiants de recherche figurent deux fois dans le gel : ['P-001']."
    )
    assert french.code == english.code == "sdtm_research_identifiers_appear_twice"


def test_an_unknown_vital_sign_names_the_subject_in_french():
    vital = m.VitalSign(test="glow", value=Decimal("1"), on=dt.date(2026, 3, 2))
    text = _study(_subject("P-002", vitals=(vital,)))
    english = _write(lambda: sdtm_write(text, CREATED), french=False)
    assert english.message.startswith("Subject P-002: unknown vital sign 'glow'; known: ")
    french = _write(lambda: sdtm_write(text, CREATED), french=True)
    assert french.message.startswith("Sujet P-002 : signe vital inconnu 'glow' ; connus : ")


def test_an_unreadable_odm_cut_is_refused_in_french():
    english = _write(lambda: odm_write("{}", CREATED), french=False)
    assert english.message.startswith("The ODM data of this cut cannot be read: ")
    french = _write(lambda: odm_write("{}", CREATED), french=True)
    assert french.message.startswith("Les données ODM de ce gel sont illisibles : ")
    assert french.code == english.code == "odm_cut_unreadable"


def test_a_value_too_long_for_xpt_keeps_dataset_and_variable_in_french():
    dataset = sdtm.Dataset(
        "AE",
        "Adverse Events",
        "EVENTS",
        "One record per adverse event",
        (m.Variable("AETERM", "Reported Term", "text"),),
        (("x" * 201,),),
    )
    with pytest.raises(ValidationError) as caught:
        check_xpt_limits(dataset)
    exc = caught.value
    with override("en"):
        assert translated(exc, EXPORT_CORE_MESSAGES).message == exc.message
    with override("fr"):
        assert translated(exc, EXPORT_CORE_MESSAGES).message == (
            "AE.AETERM : une valeur compte 201 octets ; XPT v5 en admet 200. Reportez le reste "
            "dans SUPPAE (ne la tronquez jamais)."
        )
