"""Demo PDX models: three xenografts grown from frozen tumour biopsies of the demo's patients.

Called by the demo loader after the biobank's own demo data. It takes three patients of the main
site (those with genomic reports first), gives each a frozen tumour specimen and a signed
translational consent with the xenograft tier when the demo has not already, and grows one model
each through the services (P0 and P1 with engraftment, STR and histology QC, a control and a
treated arm of three mice measured twice a week by caliper). The treated arms respond
differently (regression, stable disease, progression), so the mRECIST table shows each class.
Deterministic for a given ``rng`` and day.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from typing import Any

from django.db.models import Count
from django.utils import timezone

from oncotrials.apps.accounts.models import User
from oncotrials.apps.subjects.models import ConsentForm, ConsentKind, Patient
from oncotrials.apps.subjects.services import consent_form_create, consent_sign

from .models import Specimen
from .models_pdx import PdxModel
from .selectors import consent_answers
from .services import specimen_collect
from .services_pdx import (
    pdx_arm_create,
    pdx_engraftment_record,
    pdx_measurements_record,
    pdx_model_create,
    pdx_passage_add,
    pdx_validation_add,
)

TIERS = ["sample_storage", "future_research", "genetic_analysis", "xenograft"]

#: (model suffix, diagnosis, primary site, drug, dose, treated growth rate per day)
_MODELS = (
    ("LU", "lung adenocarcinoma", "lung", "sotorasib", "100.0mg/kg", -0.09),
    ("CO", "colorectal adenocarcinoma", "colon", "binimetinib", "30.0mg/kg", 0.004),
    ("BR", "invasive breast carcinoma", "breast", "alpelisib", "50.0mg/kg", 0.045),
)


def _translational_form(admin: User, today: dt.date) -> ConsentForm:
    for form in ConsentForm.objects.filter(kind=ConsentKind.TRANSLATIONAL).order_by("pk"):
        if "xenograft" in (form.options or []) and form.valid_from <= today - dt.timedelta(150):
            return form
    start = today - dt.timedelta(days=400)
    return consent_form_create(
        kind="translational",
        programme="Translational research and xenografts",
        version="1.0",
        version_date=start,
        ethics_approval_date=start,
        valid_from=start,
        by=admin,
        options=TIERS,
    )


def _patients(count: int, site_code: str) -> list[Patient]:
    qs = Patient.objects.filter(site__code=site_code).annotate(n=Count("genomic_samples"))
    return list(qs.order_by("-n", "pk")[:count])


def _series(rng: random.Random, v0: float, rate: float, days: list[int]) -> list[float]:
    """Volumes of one mouse: exponential growth (or decay) at ``rate`` per day, with 8 %
    multiplicative measurement noise."""
    return [max(1.0, v0 * math.exp(rate * d) * rng.uniform(0.92, 1.08)) for d in days]


def demo_pdx_load(
    rng: random.Random,
    say: Callable[[str], None],
    today: dt.date | None = None,
    *,
    site_code: str = "main",
    users: tuple[User, User, User] | None = None,
) -> list[PdxModel]:
    """Create the three demo PDX models (see the module docstring); ``users`` are the
    administrator, nurse and lab member (default: the demo's admin, nurse and biologist)."""
    today = today or timezone.localdate()
    admin, nurse, biologist = users or tuple(
        User.objects.get(username=name) for name in ("admin", "nurse", "biologist")
    )
    form = _translational_form(admin, today)
    models: list[PdxModel] = []
    collected_on = today - dt.timedelta(days=120)
    for (suffix, diagnosis, site, drug, dose, rate), patient in zip(
        _MODELS, _patients(len(_MODELS), site_code), strict=False
    ):
        if consent_answers(patient).get("xenograft") != "yes":
            consent_sign(
                patient=patient,
                form=form,
                signed_on=max(collected_on - dt.timedelta(days=2), form.valid_from),
                by=nurse,
                options_granted=dict.fromkeys(form.options, True),
            )
        specimen = (
            Specimen.objects.filter(
                patient=patient,
                specimen_type="tissue_frozen",
                status="available",
                collected_at__date__lte=collected_on,
            )
            .order_by("-collected_at", "pk")
            .first()
        )
        if specimen is None:
            specimen = specimen_collect(
                patient=patient,
                specimen_type="tissue_frozen",
                quantity="40",
                unit="mg",
                collected_at=dt.datetime.combine(collected_on, dt.time(10), tzinfo=dt.UTC),
                anatomic_site=site,
                pathology="malignant",
                procedure="surgical",
                by=biologist,
            )
        model = pdx_model_create(
            specimen=specimen,
            model_id=f"OT-PDX-{suffix}{patient.pk:03d}",
            host_strain_name="NSG",
            host_strain_nomenclature="NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
            engraftment_site="subcutaneous flank",
            engraftment_type="heterotopic",
            diagnosis=diagnosis,
            primary_site=site,
            contact_name="Translational research unit",
            contact_email="pdx@oncotrials.example.org",
            implanted_on=collected_on,
            mice_implanted=5,
            by=biologist,
        )
        p0 = model.passages.get(number=0)
        pdx_engraftment_record(passage=p0, mice_engrafted=3 + rng.randrange(3), by=biologist)
        p1 = pdx_passage_add(
            parent=p0,
            implanted_on=collected_on + dt.timedelta(days=35),
            mice_implanted=8,
            by=biologist,
        )
        pdx_engraftment_record(passage=p1, mice_engrafted=6 + rng.randrange(3), by=biologist)
        pdx_validation_add(
            pdx_model=model,
            technique="STR",
            description="STR profile matches the patient's germline at 16 of 16 loci",
            passages_tested=[0, 1],
            result="passed",
            performed_on=collected_on + dt.timedelta(days=40),
            by=biologist,
        )
        pdx_validation_add(
            pdx_model=model,
            technique="histology",
            description=f"model validated against histological features of the same {diagnosis}",
            passages_tested=[1],
            result="passed",
            performed_on=collected_on + dt.timedelta(days=42),
            by=biologist,
        )
        start = collected_on + dt.timedelta(days=60)
        days = [d for d in range(0, 43) if d % 7 in (0, 3) and start + dt.timedelta(d) <= today]
        for name, treatment, arm_rate, control in (
            ("Control", "", 0.045, True),
            (drug.capitalize(), drug, rate, False),
        ):
            mice = [f"{suffix}-{name[:3].upper()}-{i}" for i in range(1, 4)]
            arm = pdx_arm_create(
                passage=p1,
                name=name,
                treatment_name=treatment,
                dose="" if control else dose,
                route="oral gavage",
                schedule="" if control else "once daily",
                started_on=start,
                is_control=control,
                mice=mice,
                by=biologist,
            )
            rows: list[dict[str, Any]] = []
            for mouse in mice:
                v0 = rng.uniform(150, 250)
                for day, volume in zip(days, _series(rng, v0, arm_rate, days), strict=True):
                    # Caliper readings: W = L × 0.8, so V = L × W² / 2 = 0.32 L³.
                    length = round((volume / 0.32) ** (1 / 3), 1)
                    rows.append(
                        {
                            "mouse": mouse,
                            "measured_on": start + dt.timedelta(days=day),
                            "length_mm": str(length),
                            "width_mm": str(round(length * 0.8, 1)),
                        }
                    )
            pdx_measurements_record(arm=arm, rows=rows, by=biologist)
        models.append(model)
    say("PDX models")
    return models
