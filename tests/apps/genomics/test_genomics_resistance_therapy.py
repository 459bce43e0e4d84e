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


# --------------------------------------------------------------------------- serial pairs
@pytest.fixture
def followed(unit: Any, tmp_path: Path) -> Any:
    from serial_resistance import four_samples

    (patient,) = make_patients(unit.main, ["P-SER"], diagnosis="LUAD")
    four_samples(unit, patient, tmp_path)
    return patient


def _pairs(series: Any) -> list[tuple[Any, ...]]:
    return [
        (
            p.earlier.sample_id[-2:],
            p.later.sample_id[-2:],
            p.consecutive,
            p.from_baseline,
            p.drugs,
            sorted((a.label, a.mechanism.value) for a in p.report.acquired) if p.report else None,
        )
        for p in series.pairs
    ]


def test_every_serial_pair_is_classified_under_the_therapy_of_its_interval(unit, followed):
    from oncotrials.apps.genomics.selectors import resistance_for_patient, serial_pairs

    series = serial_pairs(patient=followed, user=unit.users["admin"])
    assert series.baseline.sample_id == "P-SER-S1"
    on_target = "on_target_secondary"
    assert _pairs(series) == [
        # Baseline -> C3 under Drug A: the KRAS G12C missed at C3 is lost, nothing acquired.
        ("S1", "S2", True, True, ("Drug A",), []),
        # C3 -> progression 1: G12C is "new" against C3 only; the baseline pair knows better.
        (
            "S2",
            "S3",
            True,
            False,
            ("Drug A",),
            [("KRAS p.G12C", on_target), ("KRAS p.Y96D", on_target)],
        ),
        ("S1", "S3", False, True, ("Drug A",), [("KRAS p.Y96D", on_target)]),
        # Progression 1 -> 2: Drug A ended on the day of S3, so trametinib alone.
        ("S3", "S4", True, False, ("trametinib",), [("MAP2K1 p.K57N", on_target)]),
        # Baseline -> progression 2: both lines were given in between.
        (
            "S1",
            "S4",
            False,
            True,
            ("Drug A", "trametinib"),
            [("KRAS p.Y96D", on_target), ("MAP2K1 p.K57N", on_target)],
        ),
    ]
    assert "registration T-OTHER" in series.pairs[3].report.therapy_source
    assert "T-MAIN" not in series.pairs[3].report.therapy_source
    # First against last is the baseline against the latest progression.
    head = resistance_for_patient(patient=followed, user=unit.users["admin"])
    assert (head.baseline_sample, head.progression_sample) == ("P-SER-S1", "P-SER-S4")


def test_the_atlas_counts_each_patient_once_per_drug_with_the_interval_that_selected(
    unit, followed
):
    from oncotrials.apps.genomics.selectors import resistance_atlas_for_user

    atlas = resistance_atlas_for_user(user=unit.users["admin"])
    rows = [
        (r.drug, r.mechanism, r.gene, [p.patient.research_id for p in r.patients])
        for r in atlas.by_drug
    ]
    # KRAS Y96D is seen in three pairs and G12C looks new after the C3 sample that missed it:
    # one patient under Drug A for KRAS, one under trametinib for MAP2K1, nothing else.
    assert rows == [
        ("Drug A", "on_target_secondary", "KRAS", ["P-SER"]),
        ("trametinib", "on_target_secondary", "MAP2K1", ["P-SER"]),
    ]
    assert atlas.counts == {
        ("on_target_secondary", "KRAS"): 1,
        ("on_target_secondary", "MAP2K1"): 1,
    }
    only = resistance_atlas_for_user(user=unit.users["admin"], drug="Mekinist")  # trametinib
    assert [r.drug for r in only.by_drug] == ["trametinib"]
    assert only.counts == {("on_target_secondary", "MAP2K1"): 1}


def test_serial_pairs_are_scoped_by_what_the_reader_may_see(unit, followed, client_for):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    url = f"/api/v1/genomics/patients/{followed.pk}/resistance"
    doc = client_for("investigator").get(url).json()
    assert (doc["baseline_sample"], doc["progression_sample"]) == ("P-SER-S1", "P-SER-S4")
    assert [(p["earlier_sample"], p["later_sample"], p["drugs"]) for p in doc["pairs"]][3] == (
        "P-SER-S3",
        "P-SER-S4",
        ["trametinib"],
    )
    assert doc["pairs"][2]["acquired"][0]["label"] == "KRAS p.Y96D"
    # A member limited to T-OTHER sees the patient (registered there) but not the T-MAIN line:
    # the intervals under Drug A are not classified, and Drug A is named nowhere.
    board = user_create(username="board_other", password="a-long-test-password-42")
    membership_grant(
        user=board, role=Role.TUMOUR_BOARD_COORDINATOR, site=unit.main, trial=unit.trial_other
    )
    unit.users["board_other"] = board
    limited = client_for("board_other").get(url)
    assert limited.status_code == 200
    assert "Drug A" not in limited.content.decode()
    pairs = limited.json()["pairs"]
    assert [p["drugs"] for p in pairs] == [[], [], [], ["trametinib"], ["trametinib"]]
    assert "no trial registration before sample P-SER-S2" in pairs[0]["problem"]
    atlas = client_for("board_other").get("/api/v1/genomics/resistance-atlas").json()
    assert [r["drug"] for r in atlas["by_drug"]] == ["trametinib"]
    # T-MAIN's monitor sees the first line and never the T-OTHER one.
    mon = client_for("monitor").get(url)
    assert [p["drugs"] for p in mon.json()["pairs"]][:3] == [["Drug A"]] * 3
    assert "trametinib" not in mon.content.decode()
    # A patient of T-MAIN only is nobody the T-OTHER member sees; other sites see nothing.
    from serial_resistance import register

    (main_only,) = make_patients(unit.main, ["P-MAIN"], diagnosis="LUAD")
    register(unit, main_only, unit.trial_main, "Drug A", dt.date(2026, 2, 1))
    other_url = f"/api/v1/genomics/patients/{main_only.pk}/resistance"
    assert client_for("board_other").get(other_url).status_code == 404
    for who in ("partner_investigator", "outsider"):
        assert client_for(who).get(url).status_code == 404, who
        assert client_for(who).get("/api/v1/genomics/resistance-atlas").json()["by_drug"] == []


def test_the_genomics_page_shows_every_pair_and_the_atlas_links_the_patient(
    unit, followed, client_for
):
    client = client_for("investigator")
    page = client.get(f"/genomics/patients/{followed.pk}/resistance/").content.decode()
    assert page.count('data-testid="serial-pair"') == 5
    assert "MAP2K1 p.K57N" in page
    atlas = client.get("/genomics/resistance/").content.decode()
    assert 'data-testid="atlas-by-drug"' in atlas
    assert f'href="/genomics/patients/{followed.pk}/resistance/"' in atlas  # no board case yet


def test_an_agent_without_targets_refuses_only_the_pairs_of_its_interval(unit, followed):
    from oncotrials.apps.genomics.selectors import serial_pairs
    from oncotrials.apps.trials.models import Trial

    Trial.objects.filter(pk=unit.trial_main.pk).update(targets=[])  # Drug A is then unknown
    series = serial_pairs(patient=followed, user=unit.users["admin"])
    refused = [p for p in series.pairs if p.error is not None]
    assert len(refused) == 4
    assert all("'Drug A' is not in the drug -> target map" in p.problem for p in refused)
    (kept,) = [p for p in series.pairs if p.report is not None]
    assert (kept.later.sample_id, kept.drugs) == ("P-SER-S4", ("trametinib",))
