"""Demo biobank: the specimens behind the demo's genomic reports.

``demo_biobank_load`` gives every demo patient with a genomic report a signed translational
consent and, for each reported sample, the specimen it came from: a core biopsy (frozen, with
its cold ischaemia and an aliquot and a DNA extract) for a tissue report, a Streck blood draw
with its double-spun plasma and cfDNA for a liquid biopsy; the sequencing run of the DNA links
to the report. Aliquots are stored in -80 °C boxes at each site, so the box map, the custody
timeline and the serial-sample view of the precision-medicine patients (baseline tissue, then a
progression cfDNA with its acquired-resistance classification) have something to show.
Deterministic from the demo's random generator.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from oncotrials.apps.accounts.models import Membership, Role, Site, User
from oncotrials.apps.audit.context import audit_context
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.biobank.services import (
    container_create,
    sequencing_run_record,
    specimen_aliquot,
    specimen_collect,
    specimen_derive,
    specimens_store,
)
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.services import consent_form_create, consent_sign

Say = Callable[[str], None]
TIERS = ["sample_storage", "future_research", "genetic_analysis", "xenograft", "outside_eu_sharing"]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@audit_batch()  # one append to the audit chain (nothing caught here undoes a change)
def demo_biobank_load(rng: random.Random, say: Say | None = None) -> int:
    """Create the specimens, boxes and sequencing runs; returns the number of specimens."""
    tell = say or (lambda _msg: None)
    reports = list(
        GenomicReport.objects.select_related("sample__patient__site").order_by(
            "sample__patient_id", "sample__collected_on", "pk"
        )
    )
    if not reports:
        return 0
    admin = (
        User.objects.filter(is_superuser=True).order_by("pk").first()
        or User.objects.filter(memberships__role=Role.ADMINISTRATOR).order_by("pk").first()
    )
    if admin is None:
        return 0
    techs = {
        m.site_id: m.user
        for m in Membership.objects.filter(role=Role.BIOBANK_TECHNICIAN).select_related("user")
    }
    earliest = min(r.sample.collected_on or timezone.localdate() for r in reports)
    with audit_context(channel="system"):
        form = consent_form_create(
            kind="translational",
            programme="Serial biopsy and liquid biopsy programme",
            version="3.1",
            version_date=earliest - dt.timedelta(days=400),
            ethics_approval_date=earliest - dt.timedelta(days=380),
            valid_from=earliest - dt.timedelta(days=380),
            options=TIERS,
            by=admin,
        )
        boxes: dict[int, list[Any]] = {}
        for site in Site.objects.order_by("code"):
            by = techs.get(site.pk, admin)
            freezer = container_create(site=site, kind="freezer", name="-80 °C no. 1", by=by)
            rack = container_create(site=site, kind="rack", name="Rack A", parent=freezer, by=by)
            boxes[site.pk] = [
                container_create(
                    site=site, kind="box", name=f"Box {i}", parent=rack, rows=9, columns=9, by=by
                )
                for i in (1, 2, 3)
            ]
        free: dict[int, list[tuple[Any, int, int]]] = {
            site_id: [(b, r, c) for b in bs for r in range(1, 10) for c in range(1, 10)]
            for site_id, bs in boxes.items()
        }
        consented: set[int] = set()
        # Each patient's registrations, earliest first, read once for all the reports.
        registrations: dict[int, list[Registration]] = {}
        for r in Registration.objects.filter(
            patient_id__in={report.sample.patient_id for report in reports}
        ).order_by("registered_on", "pk"):
            registrations.setdefault(r.patient_id, []).append(r)
        n = 0
        for report in reports:
            sample = report.sample
            patient = sample.patient
            on = sample.collected_on
            if on is None:
                continue
            by = techs.get(patient.site_id, admin)
            if patient.pk not in consented:
                consent_sign(
                    patient=patient,
                    form=form,
                    signed_on=max(form.valid_from, on - dt.timedelta(days=7)),
                    by=admin,
                    options_granted={
                        t: t != "outside_eu_sharing" or rng.random() < 0.5 for t in TIERS
                    },
                )
                consented.add(patient.pk)
            reg = next(
                (
                    r
                    for r in registrations.get(patient.pk, ())
                    if r.registered_on <= on + dt.timedelta(days=400)
                ),
                None,
            )
            if sample.kind == "cfdna":
                primary = specimen_collect(
                    patient=patient,
                    registration=reg,
                    specimen_type="whole_blood",
                    quantity="10",
                    unit="mL",
                    collected_at=_at(on, 8),
                    received_at=_at(on, 9),
                    procedure="blood_draw",
                    by=by,
                    pre_analytics={
                        "container_type": "STRECK",
                        "precentrifugation_delay_min": rng.randrange(40, 200),
                        "precentrifugation_temp": "RT",
                        "centrifugations": 2,
                    },
                )
                plasma = specimen_derive(
                    parent=primary,
                    specimen_type="plasma",
                    consumed="10",
                    consumed_unit="mL",
                    quantity="4",
                    unit="mL",
                    by=by,
                )
                aliquots = specimen_aliquot(parent=plasma, count=2, quantity="1", unit="mL", by=by)
                dna = specimen_derive(
                    parent=plasma,
                    specimen_type="cfdna",
                    consumed="2",
                    consumed_unit="mL",
                    quantity=str(rng.randrange(15, 60)),
                    unit="ng",
                    by=by,
                )
                assay, fraction = "cfdna", Decimal(rng.randrange(2, 40)) / 100
            else:
                primary = specimen_collect(
                    patient=patient,
                    registration=reg,
                    specimen_type="tissue_frozen",
                    quantity=str(rng.randrange(12, 30)),
                    unit="mg",
                    collected_at=_at(on, 10),
                    received_at=_at(on, 11),
                    procedure="core_needle",
                    anatomic_site=patient.diagnosis.upper(),
                    pathology="malignant",
                    by=by,
                    pre_analytics={
                        "cold_ischaemia_min": rng.randrange(3, 40),
                        "fixative": "SNP",
                        "tumour_cellularity_pct": rng.randrange(20, 90),
                    },
                )
                aliquots = specimen_aliquot(parent=primary, count=2, quantity="4", unit="mg", by=by)
                dna = specimen_derive(
                    parent=aliquots[0],
                    specimen_type="dna",
                    consumed="4",
                    consumed_unit="mg",
                    quantity=str(rng.randrange(400, 2500)),
                    unit="ng",
                    by=by,
                )
                aliquots = aliquots[1:]
                assay, fraction = "panel", None
            placements = []
            for s in [*aliquots, dna]:
                if free[patient.site_id]:
                    box, row, col = free[patient.site_id].pop(0)
                    placements.append((s, box, row, col))
            specimens_store(placements=placements, by=by)  # the processing's tubes, together
            sequencing_run_record(
                specimen=dna,
                assay=assay,
                panel=report.panel or report.assay,
                library_id=f"LIB-{report.pk:05d}",
                run_id=f"RUN-{on:%y%m%d}",
                instrument="NovaSeq 6000",
                sequenced_on=on + dt.timedelta(days=5),
                input_ng=str(rng.randrange(10, 50)),
                mean_coverage=str(rng.randrange(450, 3000)),
                tumour_fraction=fraction,
                purity=None if fraction is not None else Decimal(rng.randrange(20, 90)) / 100,
                status="qc_passed",
                report=report,
                by=admin,
            )
            n += 1
            if n % 25 == 0:
                tell(f"biobank {n}/{len(reports)}")
    tell("biobank")
    return n
