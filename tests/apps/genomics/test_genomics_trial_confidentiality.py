"""A genomic result of a specimen collected under a trial registration belongs to that trial.

The patient of ``trial_biopsy`` is in trials A (T-MAIN) and B (T-OTHER); its progression biopsy
was collected under the B registration. A member limited to trial A (investigator, molecular
biologist, sponsor monitor) sees the patient and its baseline results, never the biopsy's:
every genomics read (report, samples, timeline, segments, LOH, cohort, oncoprint, serial
pairs, atlas, biobank serial view, cBioPortal export) leaves it out or answers 404. The
site-wide investigator still sees everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trial_biopsy import HIDDEN_CHANGE, HIDDEN_SAMPLE, TRIAL_A_PERSONAS, trial_biopsy

TRIAL_A = sorted(TRIAL_A_PERSONAS)


@pytest.fixture
def tb(unit: Any, tmp_path: Path) -> Any:
    return trial_biopsy(unit, tmp_path)


def _reads(c: Any, tb: Any) -> dict[str, Any]:
    """Every genomics read about the patient that lists samples or alterations."""
    pid = tb.patient.pk
    return {
        "patient page": c.get(f"/genomics/patients/{pid}/"),
        "samples api": c.get(f"/api/v1/genomics/patients/{pid}/samples"),
        "timeline api": c.get(f"/api/v1/genomics/patients/{pid}/timeline"),
        "segments api": c.get(f"/api/v1/genomics/patients/{pid}/segments"),
        "loh api": c.get(f"/api/v1/genomics/patients/{pid}/loh"),
        "cohort page": c.get("/genomics/", {"gene": "KRAS"}),
        "cohort api": c.get("/api/v1/genomics/cohort", {"gene": "KRAS"}),
        "oncoprint": c.get("/genomics/oncoprint/", {"gene": "KRAS"}),
        "resistance page": c.get(f"/genomics/patients/{pid}/resistance/"),
        "resistance api": c.get(f"/api/v1/genomics/patients/{pid}/resistance"),
        "atlas page": c.get("/genomics/resistance/"),
        "atlas api": c.get("/api/v1/genomics/resistance-atlas"),
        "serial samples": c.get(f"/patients/{pid}/serial-samples/"),
    }


@pytest.mark.parametrize("persona", TRIAL_A)
def test_a_trial_a_member_never_reads_the_trial_b_biopsy(
    tb: Any, client_for: Any, persona: str
) -> None:
    c = client_for(persona)
    rb, sb = tb.report_b.pk, tb.progression.pk
    # the report itself: 404 on the page and the API
    assert c.get(f"/genomics/reports/{rb}/").status_code == 404
    assert c.get(f"/api/v1/genomics/reports/{rb}").status_code == 404
    assert c.get(f"/api/v1/genomics/reports/{tb.report_a.pk}").status_code == 200
    # the copy-number plot of its sample
    plot = c.get(f"/genomics/patients/{tb.patient.pk}/segments.svg", {"sample": sb})
    assert plot.status_code == 404
    for name, r in _reads(c, tb).items():
        assert r.status_code < 500, name
        text = r.content.decode()
        assert HIDDEN_SAMPLE not in text, name
        assert HIDDEN_CHANGE not in text, name
    # the patient and the baseline stay visible
    assert "CGA-BASE" in c.get(f"/genomics/patients/{tb.patient.pk}/").content.decode()
    cohort = c.get("/api/v1/genomics/cohort", {"gene": "KRAS"}).json()
    assert {r["sample_id"] for r in cohort["rows"]} == {"CGA-BASE"}
    samples = c.get(f"/api/v1/genomics/patients/{tb.patient.pk}/samples").json()
    assert [s["sample_id"] for s in samples] == ["CGA-BASE"]
    # one sample seen: no serial pair to compare
    assert c.get(f"/api/v1/genomics/patients/{tb.patient.pk}/resistance").status_code == 422


def test_the_site_wide_investigator_reads_the_trial_b_biopsy(tb: Any, client_for: Any) -> None:
    c = client_for("investigator")
    rb = tb.report_b.pk
    page = c.get(f"/genomics/reports/{rb}/")
    assert page.status_code == 200
    assert HIDDEN_CHANGE in page.content.decode()
    assert c.get(f"/api/v1/genomics/reports/{rb}").status_code == 200
    for name in ("patient page", "timeline api", "cohort page", "oncoprint", "resistance page"):
        assert HIDDEN_SAMPLE in _reads(c, tb)[name].content.decode(), name
    cohort = c.get("/api/v1/genomics/cohort", {"gene": "KRAS", "alteration": HIDDEN_CHANGE}).json()
    assert [r["sample_id"] for r in cohort["rows"]] == [HIDDEN_SAMPLE]
    segments = c.get(f"/api/v1/genomics/patients/{tb.patient.pk}/segments").json()
    assert segments["count"] == 1
    resistance = c.get(f"/api/v1/genomics/patients/{tb.patient.pk}/resistance")
    assert resistance.status_code == 200
    assert resistance.json()["pairs"]
    plot = c.get(f"/genomics/patients/{tb.patient.pk}/segments.svg", {"sample": tb.progression.pk})
    assert plot.status_code == 200


def test_the_selector_is_the_one_rule(tb: Any, unit: Any) -> None:
    from oncotrials.apps.genomics.selectors import (
        genomic_samples_visible_to,
        report_for_user,
        reports_for_user,
        sample_get_for_user,
    )
    from oncotrials.core.errors import NotFoundError

    inv_a = unit.users["investigator_a"]
    assert set(genomic_samples_visible_to(inv_a).values_list("sample_id", flat=True)) == {
        "CGA-BASE"
    }
    assert set(reports_for_user(user=inv_a)) == {tb.report_a}
    with pytest.raises(NotFoundError):
        report_for_user(user=inv_a, report_id=tb.report_b.pk)
    with pytest.raises(NotFoundError):
        sample_get_for_user(user=inv_a, sample_id=tb.progression.pk)
    # site-wide and administrator: everything, the segments' report included
    for name in ("investigator", "admin"):
        assert reports_for_user(user=unit.users[name]).count() == 3
    # a sample collected under no registration is seen with the patient; the trial-A member
    # sees the B biopsy again once the specimen is told to be trial A's
    from oncotrials.apps.biobank.models import Specimen

    Specimen.objects.filter(pk=tb.specimen_b.pk).update(registration=tb.registration_a)
    assert reports_for_user(user=inv_a).count() == 3


def test_a_trial_a_export_leaves_the_trial_b_biopsy_out(tb: Any, unit: Any, tmp_path: Path) -> None:
    from oncotrials.apps.exports.cbioportal import cbioportal_export

    def exported(by: Any, name: str) -> str:
        out = cbioportal_export(directory=tmp_path / name, study_id=name, by=by)
        return "".join(p.read_text() for p in Path(out).rglob("*.txt"))

    assert HIDDEN_SAMPLE in exported(unit.users["investigator"], "site")
    text = exported(unit.users["investigator_a"], "trial_a")
    assert "CGA-BASE" in text
    assert HIDDEN_SAMPLE not in text
    assert "Y96D" not in text
