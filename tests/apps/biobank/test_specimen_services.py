"""Specimen services: lineage, quantities, storage, shipments, bad input that writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError


def _counts() -> tuple[int, ...]:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models import CustodyEvent, SequencingRun, Shipment, Specimen

    return (
        Specimen.objects.count(),
        CustodyEvent.objects.count(),
        Shipment.objects.count(),
        SequencingRun.objects.count(),
        AuditEvent.objects.count(),
    )


def test_aliquots_inherit_and_take_from_the_parent(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.selectors import nodes_of
    from oncotrials.apps.biobank.services import specimen_aliquot, specimen_derive
    from oncotrials.core.biobank.lineage import tree_violations

    tissue = collect(bank)
    kids = specimen_aliquot(parent=tissue, count=3, quantity="4000", unit="ug", by=bank.tech)
    tissue.refresh_from_db()
    assert tissue.available_quantity == Decimal(8)  # 20 mg - 3 × 4 mg
    assert [k.label for k in kids] == [f"{tissue.label}.{i}" for i in (1, 2, 3)]
    assert {(k.anatomic_site, k.laterality, k.pathology, k.specimen_type) for k in kids} == {
        ("C34.1", "left", "malignant", "tissue_frozen")
    }
    dna = specimen_derive(
        parent=kids[0],
        specimen_type="dna",
        consumed="4",
        consumed_unit="mg",
        quantity="850",
        unit="ng",
        concentration_ng_ul="42.5",
        by=bank.tech,
    )
    kids[0].refresh_from_db()
    assert kids[0].status == "depleted"
    assert dna.lineage == "derived"
    assert dna.parent_consumed == Decimal(4000)  # in the aliquot's unit (µg)
    from oncotrials.apps.biobank.models import Specimen

    assert tree_violations(nodes_of(Specimen.objects.all())) == []


@pytest.mark.parametrize(
    ("kw", "field", "text"),
    [
        ({"unit": "gallon"}, "unit", "Unknown unit 'gallon'"),
        ({"quantity": "-2"}, "quantity", "more than zero; got -2"),
        ({"unit": "mL"}, "unit", "is a volume"),
        ({"specimen_type": "dna"}, "specimen_type", "derive it from a primary specimen"),
        ({"laterality": "up"}, "laterality", "laterality must be one of"),
        ({"pre_analytics": {"cold_ischaemia_min": "-5"}}, "cold_ischaemia_min", "out of range"),
        ({"pre_analytics": {"ischaemia": 5}}, "ischaemia", "Unknown pre-analytical field"),
        (
            {"received_at": dt.datetime(2026, 11, 9, 9, tzinfo=dt.UTC)},
            "received_at",
            "INVALID_CREATION_DATE",
        ),
    ],
)
def test_bad_collection_input_is_named_and_writes_nothing(
    bank: Any, collect: Any, at: Any, kw: dict[str, Any], field: str, text: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationError, match=text) as exc:
        collect(bank, **kw)
    assert exc.value.extra.get("field") == field
    assert _counts() == before


def test_over_consumption_writes_nothing(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_aliquot, specimen_consume

    tissue = collect(bank)
    before = _counts()
    with pytest.raises(ValidationError, match="only 20 mg is available") as exc:
        specimen_aliquot(parent=tissue, count=3, quantity="7", unit="mg", by=bank.tech)
    assert exc.value.code == "over_consumption"
    with pytest.raises(ValidationError, match="is available"):
        specimen_consume(specimen=tissue, quantity="21", unit="mg", purpose="IHC", by=bank.tech)
    assert _counts() == before
    tissue.refresh_from_db()
    assert tissue.available_quantity == 20


def test_consent_missing_is_refused_with_the_tier(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_collect

    before = _counts()
    with pytest.raises(ValidationError, match="covers “Sample storage”") as exc:
        specimen_collect(
            patient=bank.journey.partner_patient,
            specimen_type="whole_blood",
            quantity="10",
            unit="mL",
            collected_at=at(dt.date(2026, 11, 10)),
            by=bank.unit.users["admin"],
        )
    assert exc.value.code == "consent_refused"
    assert exc.value.extra["answer"] == "not_specified"
    assert _counts() == before


def test_store_position_taken_and_outside_box(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_store

    a, b = collect(bank), collect(bank)
    specimen_store(specimen=a, box=bank.box, row=1, column=1, by=bank.tech)
    before = _counts()
    with pytest.raises(ConflictError, match=f"A1 holds {a.label}") as exc:
        specimen_store(specimen=b, box=bank.box, row=1, column=1, by=bank.tech)
    assert exc.value.code == "position_taken"
    with pytest.raises(ValidationError, match="rows 1-9 and columns 1-9; got row 10"):
        specimen_store(specimen=b, box=bank.box, row=10, column=1, by=bank.tech)
    assert _counts() == before


def test_move_checkout_checkin_and_custody_is_whole(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.selectors import custody_check
    from oncotrials.apps.biobank.services import (
        specimen_check_in,
        specimen_check_out,
        specimen_store,
    )

    s = collect(bank)
    specimen_store(specimen=s, box=bank.box, row=1, column=1, by=bank.tech)
    specimen_store(specimen=s, box=bank.box, row=2, column=3, by=bank.tech)
    specimen_check_out(specimen=s, by=bank.tech, purpose="sectioning")
    s = specimen_check_in(specimen=s, by=bank.tech)
    assert s.freeze_thaw_cycles == 1
    assert s.position_label == "B3"
    kinds = list(s.custody.values_list("kind", flat=True))
    assert kinds == ["collected", "received", "stored", "moved", "checked_out", "checked_in"]
    assert custody_check(user=bank.unit.users["admin"]) == []


def test_custody_check_reports_a_move_behind_the_services_back(
    bank: Any, collect: Any, at: Any
) -> None:
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.biobank.selectors import custody_check
    from oncotrials.apps.biobank.services import specimen_store

    s = collect(bank, received_at=None)
    specimen_store(specimen=s, box=bank.box, row=1, column=1, by=bank.tech)
    Specimen.objects.filter(pk=s.pk).update(row=5)  # no transfer event
    (gap,) = custody_check(user=bank.unit.users["admin"])
    assert gap.label == s.label
    assert any("never recorded as received" in g for g in gap.gaps)
    assert any("a move without a transfer event" in g for g in gap.gaps)


def test_shipment_distributes_and_manifest_lists_it(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.selectors import custody_check, shipment_manifest_csv
    from oncotrials.apps.biobank.services import (
        shipment_create,
        shipment_receive,
        shipment_send,
        specimen_aliquot,
        specimen_store,
    )

    blood = collect(
        bank,
        specimen_type="whole_blood",
        quantity="10",
        unit="mL",
        procedure="blood_draw",
        anatomic_site="",
        laterality="not_applicable",
        pathology="not_specified",
        pre_analytics={"container_type": "EDTA", "centrifugations": 0},
    )
    (a,) = specimen_aliquot(parent=blood, count=1, quantity="2", unit="mL", by=bank.tech)
    specimen_store(specimen=a, box=bank.box, row=1, column=1, by=bank.tech)
    with pytest.raises(ValidationError, match="answered No to “Sharing outside the EU”"):
        shipment_create(
            site=bank.unit.main,
            recipient="Lab X",
            purpose="distribution_non_eu",
            specimens=[a],
            by=bank.tech,
        )
    sh = shipment_create(
        site=bank.unit.main,
        recipient="Central lab",
        purpose="distribution_eu",
        specimens=[a],
        by=bank.tech,
        courier="ColdChain",
    )
    shipment_send(shipment=sh, by=bank.tech)
    a.refresh_from_db()
    assert (a.status, a.box_id) == ("distributed", None)
    with pytest.raises(ValidationError, match="distributed"):
        specimen_store(specimen=a, box=bank.box, row=1, column=1, by=bank.tech)
    shipment_receive(shipment=sh, by=bank.tech)
    manifest = shipment_manifest_csv(sh).splitlines()
    assert manifest[0].startswith("shipment,recipient,purpose,label")
    assert f",{a.label},{a.barcode},{bank.patient.research_id},whole_blood,2,mL," in manifest[1]
    # Stored at -80 °C: long-term storage letter B.
    assert manifest[1].endswith(",BLD-PED-N-N-N-N-B,F-80-1 / R1 / B1 A1")
    assert [g.label for g in custody_check(user=bank.unit.users["admin"])] == []


def test_dispose_is_a_state_and_frees_the_position(bank: Any, collect: Any, at: Any) -> None:
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.biobank.services import specimen_dispose, specimen_store

    s = collect(bank)
    specimen_store(specimen=s, box=bank.box, row=1, column=1, by=bank.tech)
    specimen_dispose(specimen=s, reason="QC fail", by=bank.tech)
    s = Specimen.objects.get(pk=s.pk)
    assert (s.status, s.box_id, s.status_reason) == ("disposed", None, "QC fail")


def test_sponsor_monitor_may_not_handle_specimens(bank: Any, collect: Any, at: Any) -> None:
    before = _counts()
    with pytest.raises(PermissionDeniedError, match="collect, process, store or ship specimens"):
        collect(bank, by=bank.unit.users["monitor"])
    assert _counts() == before


def test_custody_gaps_name_no_storage_location_to_a_trial_limited_member(
    bank: Any, collect: Any, at: Any
) -> None:
    """Boxes and positions are seen through site-wide memberships only, gap messages included:
    a sponsor monitor sees the gap of a specimen of its trial, without where it is stored."""
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.biobank.selectors import custody_check, location_of
    from oncotrials.apps.biobank.services import specimen_store

    s = collect(bank, received_at=None)
    specimen_store(specimen=s, box=bank.box, row=1, column=1, by=bank.tech)
    Specimen.objects.filter(pk=s.pk).update(row=5)  # no transfer event
    place = location_of(Specimen.objects.get(pk=s.pk))
    box_name = place.rsplit(" ", 1)[0]
    (admin_gap,) = custody_check(user=bank.unit.users["admin"])
    assert any(box_name in g for g in admin_gap.gaps)
    monitor = user_create(username="mon-bank", password="a-long-test-password-42")
    membership_grant(
        user=monitor,
        role=Role.SPONSOR_MONITOR,
        site=bank.unit.main,
        trial=bank.registration.trial,
    )
    (monitor_gap,) = custody_check(user=monitor)
    assert monitor_gap.label == s.label
    assert len(monitor_gap.gaps) == len(admin_gap.gaps)
    assert not any(box_name in g for g in monitor_gap.gaps), monitor_gap.gaps
    assert any("a storage location" in g for g in monitor_gap.gaps)


def test_a_registered_patients_specimens_are_audited_in_the_trial_chain(
    bank: Any, collect: Any, at: Any
) -> None:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.services import specimen_aliquot, specimen_derive

    tissue = collect(bank)
    kids = specimen_aliquot(parent=tissue, count=2, quantity="4", unit="mg", by=bank.tech)
    dna = specimen_derive(
        parent=kids[0],
        specimen_type="dna",
        consumed="4",
        consumed_unit="mg",
        quantity="850",
        unit="ng",
        by=bank.tech,
    )
    unregistered = collect(bank, registration=None)
    assert dna.registration_id == kids[1].registration_id == bank.registration.pk
    partitions = {
        e.object_id: e.partition
        for e in AuditEvent.objects.filter(object_type="biobank.specimen").order_by("pk")
    }
    trial_chain = f"trial-{bank.registration.trial_id}"
    for s in (tissue, *kids, dna):
        assert partitions[str(s.pk)] == trial_chain
    assert partitions[str(unregistered.pk)] == f"site-{bank.patient.site_id}"


def test_storing_an_aliquot_reads_no_registration_and_the_box_path_with_its_lock(
    bank: Any, collect: Any, at: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.biobank.models import CustodyEvent
    from oncotrials.apps.biobank.services import specimen_aliquot, specimen_store

    tissue = collect(bank)
    (kid,) = specimen_aliquot(parent=tissue, count=1, quantity="4", unit="mg", by=bank.tech)
    with CaptureQueriesContext(connection) as ctx:
        stored = specimen_store(specimen=kid, box=bank.box, row=2, column=3, by=bank.tech)
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert not [q for q in reads if 'FROM "subjects_registration"' in q]
    assert len([q for q in reads if 'FROM "biobank_container"' in q]) == 1  # the locked box
    custody = CustodyEvent.objects.filter(specimen=stored).order_by("pk").last()
    assert custody is not None
    assert custody.to_location == "F-80-1 / R1 / B1 B3"
    assert custody.custodian == "main"


def _stored_state(labels: list[str], box: Any, since: int) -> dict[str, Any]:
    """Where the specimens are, the box's version, their custody and the audit events written
    after event ``since`` (objects named by label; times, and the row digests that hold them,
    left out)."""
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models import Container, CustodyEvent, Specimen

    by_pk = dict(Specimen.objects.filter(label__in=labels).values_list("pk", "label"))
    return {
        "specimens": list(
            Specimen.objects.filter(label__in=labels)
            .order_by("label")
            .values_list("label", "box_id", "row", "column", "version", "storage_temperature")
        ),
        "box_version": Container.objects.get(pk=box.pk).version,
        "custody": [
            (by_pk[e.specimen_id], e.kind, e.from_location, e.to_location, e.custodian, e.note)
            for e in CustodyEvent.objects.filter(specimen_id__in=by_pk).order_by("pk")
        ],
        "audit": [
            (e.action, by_pk.get(int(e.object_id)), e.changes, bool(e.row_digest), e.seq)
            for e in AuditEvent.objects.filter(
                pk__gt=since, object_type="biobank.specimen"
            ).order_by("pk")
        ],
    }


def test_storing_several_at_once_equals_storing_each(bank: Any, collect: Any, at: Any) -> None:
    """``specimens_store`` writes what storing each specimen in turn writes: positions,
    versions, the box's version, custody and audit events, in the same order; a specimen may
    take the position another one of the same batch leaves."""
    from django.db import transaction

    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.audit.services import audit_verify
    from oncotrials.apps.biobank.services import specimen_store, specimens_store

    def scenario(together: bool) -> dict[str, Any]:
        a, b, c = collect(bank), collect(bank), collect(bank)
        specimen_store(specimen=a, box=bank.box, row=1, column=1, by=bank.tech)
        since = AuditEvent.objects.order_by("pk").last().pk
        placements = [(a, bank.box, 2, 2), (b, bank.box, 1, 1), (c, bank.box, 3, 3)]
        if together:
            stored = specimens_store(placements=placements, by=bank.tech)
            assert [s.label for s in stored] == [a.label, b.label, c.label]
        else:
            for s, box, row, column in placements:
                specimen_store(specimen=s, box=box, row=row, column=column, by=bank.tech)
        return _stored_state([a.label, b.label, c.label], bank.box, since)

    point = transaction.savepoint()
    one_by_one = scenario(False)
    transaction.savepoint_rollback(point)
    together = scenario(True)
    assert together == one_by_one
    assert [row[1:4] for row in together["specimens"]] == [
        (bank.box.pk, 2, 2),
        (bank.box.pk, 1, 1),
        (bank.box.pk, 3, 3),
    ]
    assert [e[1] for e in together["custody"]].count("moved") == 1
    assert audit_verify(rows=True).ok  # each row digest is the row's after its own move


def test_storing_several_is_refused_whole(bank: Any, collect: Any, at: Any) -> None:
    """One placement refused (a position another specimen holds, or two specimens asked into
    one position): nothing of the batch is stored."""
    from oncotrials.apps.biobank.services import specimen_store, specimens_store

    a, b, c = collect(bank), collect(bank), collect(bank)
    specimen_store(specimen=a, box=bank.box, row=1, column=1, by=bank.tech)
    before = _counts()
    with pytest.raises(ConflictError, match=f"A1 holds {a.label}"):
        specimens_store(placements=[(b, bank.box, 2, 1), (c, bank.box, 1, 1)], by=bank.tech)
    with pytest.raises(ConflictError, match=f"B1 holds {b.label}"):
        specimens_store(placements=[(b, bank.box, 2, 1), (c, bank.box, 2, 1)], by=bank.tech)
    assert _counts() == before
    b.refresh_from_db()
    assert b.box_id is None
