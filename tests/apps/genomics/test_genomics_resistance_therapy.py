"""Acquired resistance under each patient's own therapy: the agents of the trial registration
(an investigational agent takes its trial's targets), the sample's recorded therapy as a
fallback, and an atlas that classifies every patient under their own drugs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from genomics_helpers import make_patients

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.normalised import PatientMap

HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"


def _import(tmp_path: Path, unit: Any, rows: list[tuple[str, str, str, str]], pmap: str) -> None:
    from oncotrials.apps.genomics.services import genomics_import

    p = tmp_path / "serial.maf"
    p.write_text(HEADER + "".join("\t".join(r) + "\n" for r in rows))
    genomics_import(path=p, by=unit.users["admin"], patient_map=PatientMap.parse(pmap))


def _register(unit: Any, patient: Any, trial: Any, agent: str, on: dt.date) -> None:
    """Test set-up: a registration at a dose level of ``agent`` (as the subjects app records)."""
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.trials.models import Cohort, DoseLevel

    cohort = Cohort.objects.filter(trial=trial).first() or Cohort.objects.create(
        trial=trial, code="EXP", name="Expansion", kind="expansion"
    )
    level, _ = DoseLevel.objects.get_or_create(
        cohort=cohort, level=1, agent=agent, defaults={"dose": 300, "unit": "mg"}
    )
    Registration.objects.create(
        patient=patient,
        trial=trial,
        cohort=cohort,
        dose_level=level,
        registered_on=on,
        registered_by=unit.users["admin"],
        status_date=on,
    )


@pytest.fixture
def serial(unit: Any, tmp_path: Path) -> dict[str, Any]:
    """P-A: KRAS G12C, registered in T-MAIN (agent 'Drug A', target KRAS G12C), acquires KRAS
    Y96D. P-B: PIK3CA H1047R, registered in T-OTHER on alpelisib, acquires a PTEN loss."""
    a, b = make_patients(unit.main, ["P-A", "P-B"], diagnosis="LUAD")
    rows = [
        ("KRAS", "A-BASE", "Missense_Mutation", "p.G12C"),
        ("KRAS", "A-PROG", "Missense_Mutation", "p.G12C"),
        ("KRAS", "A-PROG", "Missense_Mutation", "p.Y96D"),
        ("PIK3CA", "B-BASE", "Missense_Mutation", "p.H1047R"),
        ("PIK3CA", "B-PROG", "Missense_Mutation", "p.H1047R"),
        ("PTEN", "B-PROG", "Nonsense_Mutation", "p.R130*"),
    ]
    pmap = (
        "sample_id,research_id,timepoint,collected_on\n"
        "A-BASE,P-A,baseline,2026-01-10\nA-PROG,P-A,progression,2026-06-10\n"
        "B-BASE,P-B,baseline,2026-01-12\nB-PROG,P-B,progression,2026-07-01\n"
    )
    _import(tmp_path, unit, rows, pmap)
    _register(unit, a, unit.trial_main, "Drug A", dt.date(2026, 2, 1))
    _register(unit, b, unit.trial_other, "alpelisib", dt.date(2026, 2, 3))
    return {"a": a, "b": b}


def test_the_patients_own_trial_drug_is_used_not_refused(unit, serial):
    from oncotrials.apps.genomics.selectors import resistance_for_patient
    from oncotrials.core.genomics.resistance import Mechanism

    report = resistance_for_patient(patient=serial["a"], user=unit.users["admin"])
    assert report is not None
    assert report.drugs == ("Drug A",)  # investigational: the targets of trial T-MAIN
    assert report.targets == frozenset({"KRAS"})
    assert "registration T-MAIN" in report.therapy_source
    assert [(a.label, a.mechanism) for a in report.acquired] == [
        ("KRAS p.Y96D", Mechanism.ON_TARGET_SECONDARY)
    ]
    other = resistance_for_patient(patient=serial["b"], user=unit.users["admin"])
    assert other is not None
    assert other.drugs == ("alpelisib",)
    assert [(a.gene, a.mechanism) for a in other.acquired] == [("PTEN", Mechanism.BYPASS)]


def test_a_registration_after_the_progression_sample_is_not_the_therapy(unit, serial):
    from oncotrials.apps.genomics.selectors import resistance_for_patient
    from oncotrials.apps.subjects.models import Registration

    Registration.objects.filter(patient=serial["a"]).update(registered_on=dt.date(2026, 9, 1))
    with pytest.raises(ValidationError, match="no trial registration before sample A-PROG"):
        resistance_for_patient(patient=serial["a"])
    # the sample's recorded therapy is the fallback
    from oncotrials.apps.genomics.models import Sample

    Sample.objects.filter(sample_id="A-PROG").update(therapy="sotorasib")
    report = resistance_for_patient(patient=serial["a"])
    assert report is not None
    assert (report.drugs, report.therapy_source) == (("sotorasib",), "sample A-PROG therapy")


def test_the_atlas_applies_each_patients_own_therapy(unit, serial):
    from oncotrials.apps.genomics.selectors import resistance_atlas_for_user

    atlas = resistance_atlas_for_user(user=unit.users["admin"])
    assert atlas.counts == {("bypass", "PTEN"): 1, ("on_target_secondary", "KRAS"): 1}
    assert atlas.skipped == []
    only = resistance_atlas_for_user(user=unit.users["admin"], drug="Piqray")  # alpelisib
    assert [r.patient_id for r in only.reports] == ["P-B"]


def test_the_api_and_page_show_where_the_therapy_comes_from(unit, serial, client_for):
    client = client_for("admin")
    doc = client.get(f"/api/v1/genomics/patients/{serial['a'].pk}/resistance").json()
    assert doc["drugs"] == ["Drug A"]
    assert doc["therapy_source"].startswith("registration T-MAIN")
    page = client.get(f"/genomics/patients/{serial['a'].pk}/resistance/")
    assert page.status_code == 200
    assert "registration T-MAIN" in page.content.decode()
