"""Withdrawal of a translational consent tier cascades in one transaction; timepoints follow the
first dose and the RECIST progression date when read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.core.errors import ValidationError


def _setup(bank: Any, collect: Any) -> dict[str, Any]:
    from oncotrials.apps.biobank.services import (
        sequencing_run_record,
        shipment_create,
        specimen_aliquot,
        specimen_derive,
        specimen_store,
    )

    tissue = collect(bank)
    a1, a2 = specimen_aliquot(parent=tissue, count=2, quantity="5", unit="mg", by=bank.tech)
    dna = specimen_derive(
        parent=a1,
        specimen_type="dna",
        consumed="5",
        consumed_unit="mg",
        quantity="900",
        unit="ng",
        by=bank.tech,
    )
    specimen_store(specimen=a2, box=bank.box, row=1, column=1, by=bank.tech)
    run = sequencing_run_record(
        specimen=dna,
        assay="panel",
        library_id="L1",
        run_id="RUN1",
        mean_coverage="612.5",
        purity="0.45",
        by=bank.tech,
    )
    sh = shipment_create(
        site=bank.unit.main,
        recipient="Partner lab",
        purpose="distribution_eu",
        specimens=[a2],
        by=bank.tech,
    )
    return {"tissue": tissue, "a2": a2, "dna": dna, "run": run, "shipment": sh}


def test_withdrawing_genetic_analysis_cascades(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.models import ConsentCascade, SequencingRun, Shipment, Specimen
    from oncotrials.apps.biobank.services import sequencing_run_record
    from oncotrials.apps.subjects.services import consent_option_withdraw

    x = _setup(bank, collect)
    consent_option_withdraw(
        consent=bank.consent,
        option="genetic_analysis",
        on=dt.date(2026, 11, 18),
        reason="patient request",
        by=bank.unit.users["nurse"],
    )
    dna = Specimen.objects.get(pk=x["dna"].pk)
    assert dna.status == "pending_disposal"
    assert "genetic_analysis" in dna.status_reason
    # Tissue is not a genetic use: it stays, but its genomic data may not feed new analyses.
    a2 = Specimen.objects.get(pk=x["a2"].pk)
    assert a2.status == "available"
    assert a2.data_use_blocked.startswith("do not use for new analyses")
    assert SequencingRun.objects.get(pk=x["run"].pk).data_use_blocked.startswith("do not use")
    assert Shipment.objects.get(pk=x["shipment"].pk).flagged == ""  # EU research still consented
    (cascade,) = ConsentCascade.objects.all()
    assert cascade.specimens_pending_disposal == [dna.label]
    assert cascade.runs_flagged == [x["run"].pk]
    with pytest.raises(ValidationError, match="the patient withdrew “Genetic analysis”"):
        sequencing_run_record(
            specimen=a2, assay="wes", library_id="L2", run_id="RUN2", by=bank.tech
        )


def test_withdrawing_storage_sends_everything_to_disposal_and_flags_shipments(
    bank: Any, collect: Any
) -> None:
    from oncotrials.apps.biobank.models import Shipment, Specimen
    from oncotrials.apps.biobank.services import shipment_send, specimen_store
    from oncotrials.apps.subjects.services import consent_option_withdraw

    x = _setup(bank, collect)
    consent_option_withdraw(
        consent=bank.consent,
        option="sample_storage",
        on=dt.date(2026, 11, 18),
        reason="not given",
        by=bank.unit.users["nurse"],
    )
    statuses = set(Specimen.objects.values_list("status", flat=True))
    assert statuses == {"pending_disposal"}
    sh = Shipment.objects.get(pk=x["shipment"].pk)
    assert "sample_storage" in sh.flagged
    assert x["a2"].label in sh.flagged
    with pytest.raises(ValidationError, match="stopped"):
        shipment_send(shipment=sh, by=bank.tech)
    with pytest.raises(ValidationError, match="pending disposal"):
        specimen_store(specimen=x["a2"], box=bank.box, row=2, column=2, by=bank.tech)


def test_the_cascade_is_one_transaction(bank: Any, collect: Any, monkeypatch: Any) -> None:
    from oncotrials.apps.biobank import services
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.subjects.models import Consent
    from oncotrials.apps.subjects.services import consent_option_withdraw

    _setup(bank, collect)

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.ConsentCascade.objects, "create", boom)
    with pytest.raises(RuntimeError):
        consent_option_withdraw(
            consent=bank.consent,
            option="sample_storage",
            on=dt.date(2026, 11, 18),
            reason="x",
            by=bank.unit.users["nurse"],
        )
    assert "pending_disposal" not in set(Specimen.objects.values_list("status", flat=True))
    assert Consent.objects.get(pk=bank.consent.pk).options_withdrawn == {}


def test_timepoints_follow_first_dose_and_progression_when_read(
    bank: Any, collect: Any, at: Any
) -> None:
    from django.utils import timezone

    from oncotrials.apps.biobank.selectors import timepoints_of
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.tumours.models import ResponseEvaluation

    base = collect(bank)  # 2026-11-10, first dose 2026-11-13
    c1d15 = collect(bank, collected_at=at(dt.date(2026, 11, 27)), received_at=None)
    c2d1 = collect(bank, collected_at=at(dt.date(2026, 12, 4)), received_at=None)
    tps = timepoints_of([base, c1d15, c2d1], user=None)
    assert [tps[s.pk].label for s in (base, c1d15, c2d1)] == ["Baseline (D-3)", "C1D15", "C2D1"]
    # RECIST progression recorded on 2026-12-01: the C2D1 biopsy is now "at progression".
    ResponseEvaluation.objects.create(
        registration=bank.registration,
        criteria="recist1.1",
        confirmation_required=False,
        bor="PD",
        progression_date=dt.date(2026, 12, 1),
        computed_at=timezone.now(),
    )
    assert timepoints_of([c2d1], user=None)[c2d1.pk].context == "at_progression"
    # The first dose moves: nothing stored, the label follows.
    Registration.objects.filter(pk=bank.registration.pk).update(
        treatment_start=dt.date(2026, 11, 6)
    )
    ResponseEvaluation.objects.all().delete()
    assert timepoints_of([base], user=None)[base.pk].label == "C1D5"


def test_a_stored_schedule_that_no_longer_parses_is_shown_broken_not_guessed(
    bank: Any, collect: Any, at: Any, monkeypatch: Any
) -> None:
    """The cycle of a trial whose stored schedule fails validation is unknown: the label says
    the schedule is invalid (no 21-day guess) and the biobank pages warn; any other error is a
    bug and is not swallowed."""
    from django.test import Client

    from oncotrials.apps.biobank import selectors
    from oncotrials.apps.biobank.selectors import broken_schedules_of, timepoints_of
    from oncotrials.apps.trials.models import VisitScheduleDefinition

    c1d15 = collect(bank, collected_at=at(dt.date(2026, 11, 27)), received_at=None)
    trial = bank.registration.trial
    # Written behind the service's back (an older format, a hand edit): it no longer parses.
    VisitScheduleDefinition.objects.create(trial=trial, document={"visits": "not a list"})
    assert timepoints_of([c1d15], user=None)[c1d15.pk].label == "D15 (visit schedule invalid)"
    (broken,) = broken_schedules_of([c1d15], user=None)
    assert broken.protocol_code == trial.protocol_code
    assert broken.message
    c = Client()
    c.force_login(bank.unit.users["tech"], backend="django.contrib.auth.backends.ModelBackend")
    for url in ("/biobank/", f"/biobank/specimens/{c1d15.pk}/"):
        html = c.get(url).content.decode()
        assert 'data-testid="schedule-invalid"' in html, url
        assert f"The visit schedule of {trial.protocol_code} is invalid" in html
    assert "D15 (visit schedule invalid)" in html

    def bug(definition: Any) -> Any:
        raise KeyError("cycles")

    monkeypatch.setattr(selectors, "visit_schedule_parsed", bug)
    with pytest.raises(KeyError):
        timepoints_of([c1d15], user=None)


def test_storing_into_a_box_leaves_the_rows_verifiable(bank: Any, collect: Any) -> None:
    """Storing bumps the box's version (audited on the specimen): ``audit verify --rows`` must
    still find every audited row as the trail recorded it, the box included."""
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.biobank.models import Container

    before = Container.objects.get(pk=bank.box.pk).version
    _setup(bank, collect)
    assert Container.objects.get(pk=bank.box.pk).version > before
    report = audit_verify(rows=True)
    assert report.ok, report
