"""PDX objects of the conformance world: a model grown from a specimen of registrations SA
(main site, trial A) and QB (partner site, trial B), with a passage, an arm and a measurement.

Rows are made directly (the world needs objects to read and write, not the services' paths,
which tests/apps/biobank/test_pdx.py covers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

PDX_LABELS = ("SA", "QB")


def add_pdx(w: Any) -> None:
    from oncotrials.apps.biobank.models import Specimen
    from oncotrials.apps.biobank.models_pdx import (
        PdxMeasurement,
        PdxModel,
        PdxMouse,
        PdxPassage,
        PdxTreatmentArm,
    )

    when = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)
    for label in PDX_LABELS:
        reg = w.objects[("registration", label)]
        specimen = Specimen.objects.create(
            label=f"SPZ-{label}",
            barcode=f"SPZ-{label}",
            patient=reg.patient,
            registration=reg,
            lineage="new",
            specimen_type="tissue_frozen",
            unit="mg",
            initial_quantity=Decimal(20),
            available_quantity=Decimal(20),
            collected_at=when,
            created_at=when,
        )
        model = PdxModel.objects.create(
            model_id=f"PZX-{label}",
            specimen=specimen,
            host_strain_name="NSG",
            host_strain_nomenclature="NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
            engraftment_site="flank",
            engraftment_type="heterotopic",
            diagnosis=f"PDZ-{label} carcinoma",
            primary_site="lung",
            contact_name="Lab",
            contact_email="lab@example.org",
            created_at=when,
        )
        passage = PdxPassage.objects.create(
            pdx_model=model,
            number=0,
            implanted_on=dt.date(2026, 9, 2),
            mice_implanted=4,
            mice_engrafted=3,
        )
        arm = PdxTreatmentArm.objects.create(
            pdx_model=model,
            passage=passage,
            name="Control",
            treatment_name="untreated",
            started_on=dt.date(2026, 9, 20),
            is_control=True,
        )
        mouse = PdxMouse.objects.create(arm=arm, label="M1")
        PdxMeasurement.objects.create(
            mouse=mouse,
            measured_on=dt.date(2026, 9, 20),
            volume_mm3=Decimal(200),
            formula="measured volume",
        )
        w.objects[("pdx_model", label)] = model
        w.objects[("pdx_passage", label)] = passage
        w.objects[("pdx_arm", label)] = arm
        w.mark("pdx_model", label, f"PZX-{label}", f"PDZ-{label}")
