"""The world of the access conformance test: two sites, three sponsors' trials, and one patient
registered in two trials of different sponsors.

- Trial A (ZQA-ALPHA-101, Sponsor Alphacorp): main site only, dose escalation.
- Trial B (ZQB-BRAVO-202, Sponsor Bravoinc): main and partner sites, dose escalation.
- Trial C (ZQC-CHARLIE-303, Sponsor Charliemed): main site only, blinded randomisation.
- Patient S (main) is registered in A (registration ``SA``) and in B (``SB``).
- Patient Q (partner) is registered in B (``QB``).
- Patient R (main) is randomised in C (``RC``).
- Patient S's biopsy of trial B (specimen ``BBZ-SB``) was sequenced: its report and sample
  (labelled ``SB``) are trial B's, unseen by a member limited to trial A who sees S.

Every registration of A and B carries a tumour baseline and follow-up (lesions with names of
its own), an override, a complete adverse event (a serious one in B, with its SAE report and the
DLT case the rules propose), a CRF form, a lab result, an administration and a data query. Each
trial with an escalation cohort has a plan and a dose decision. Each site has a toxicity board
and a molecular tumour board with a case, a signed trial referral, and a genomic report for the
patient. Every object of interest carries a distinctive text (its *markers*) so that a page
which shows an object can be told from one which does not.

Objects are named by (kind, label): the test's table maps each URL parameter to a kind, and the
scope rules below say, for each persona, whether an object is in scope, out of scope, or partly
in scope (a page the persona may see, but which must hide the out-of-scope parts).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from conformance_pdx import PDX_LABELS, add_pdx

PASSWORD = "a-long-test-password-42"
TODAY = dt.date(2027, 3, 1)
EXAMPLE_SCHEDULE = (
    Path(__file__).resolve().parents[2] / "docs" / "formats" / "visit-schedule.example.yaml"
)

# --- Where each object lives ---------------------------------------------------------------------
# trial label -> (protocol code, sponsor, sites)
TRIALS = {
    "A": ("ZQA-ALPHA-101", "Sponsor Alphacorp", ("main",)),
    "B": ("ZQB-BRAVO-202", "Sponsor Bravoinc", ("main", "partner")),
    "C": ("ZQC-CHARLIE-303", "Sponsor Charliemed", ("main",)),
}
# patient label -> site
PATIENTS = {"S": "main", "Q": "partner", "R": "main"}
# registration label -> (patient, trial); the site is the patient's
REGISTRATIONS = {"SA": ("S", "A"), "SB": ("S", "B"), "QB": ("Q", "B"), "RC": ("R", "C")}
# Registrations that carry the clinical records (tumours, AEs, CRFs, queries, ...)
CLINICAL = ("SA", "SB", "QB")
SITES = ("main", "partner")

# kind -> labels that exist in the world (the test parametrises over these)
KIND_LABELS: dict[str, tuple[str, ...]] = {
    "trial": tuple(TRIALS),
    "cohort": tuple(TRIALS),  # the escalation cohort of A and B, the assigned arm of C
    "dose_level": ("A", "B"),  # the first dose level of the escalation cohorts of A and B
    "patient": tuple(PATIENTS),
    # each patient's genomic report and progression sample: scoped as its patient; SB: the
    # report and sample of S's trial-B biopsy, scoped as the B registration
    "report": (*PATIENTS, "SB"),
    "sample": (*PATIENTS, "SB"),
    "site": SITES,
    "registration": tuple(REGISTRATIONS),
    "consent": tuple(REGISTRATIONS),
    "screening": tuple(REGISTRATIONS),
    "assessment": CLINICAL,
    "ae": CLINICAL,
    "lab": CLINICAL,
    "administration": CLINICAL,
    "query": CLINICAL,
    "dlt_case": ("SB", "QB"),  # the serious colitis of trial B meets its DLT rule
    "board_meeting": SITES,  # toxicity board
    "board_case": ("SB", "QB"),
    "mtb_meeting": SITES,
    "mtb_case": ("S", "Q"),
    "recommendation": ("S", "Q"),
    "referral": ("S", "Q"),
    "token": ("admin",),
    # data cuts: of trial A at the main site, of trial B at the partner site, of B at both
    "data_cut": ("A", "BP", "B"),
    "pdx_model": PDX_LABELS,
    "pdx_passage": PDX_LABELS,
    "pdx_arm": PDX_LABELS,
    "specimen": CLINICAL,  # a biopsy collected under each clinical registration
    "box": SITES,  # a storage box per site (site-wide memberships only)
    "shipment": SITES,
    # unit operations: site objects, seen through site-wide memberships only
    "resource": SITES,
    "plan_run": SITES,
    "booking": SITES,
}
SITE_ONLY = ("resource", "plan_run", "booking")
DATA_CUTS = {"A": ("main", "A"), "BP": ("partner", "B"), "B": ("main+partner", "B")}


def where(kind: str, label: str) -> tuple[str | None, str | None]:
    """(site, trial) of an object; None for 'any' (trials span sites, boards span trials)."""
    if kind in ("report", "sample") and label in PATIENTS:
        kind = "patient"
    if kind == "site":
        return label, None
    if kind in ("trial", "cohort", "dose_level"):
        return None, label
    if kind == "patient":
        return PATIENTS[label], None
    if kind in ("board_meeting", "mtb_meeting", *SITE_ONLY):
        return label, None
    if kind in ("mtb_case", "recommendation", "referral"):
        return PATIENTS[label], ("A" if label == "S" else "B")
    if kind == "token":
        return None, None
    if kind == "data_cut":  # a cut of two sites is seen only by who sees both
        return DATA_CUTS[label]
    if kind in ("box", "shipment"):
        return label, None
    patient, trial = REGISTRATIONS[label]
    return PATIENTS[patient], trial


# --- Personas ------------------------------------------------------------------------------------
# persona -> (role, site, trial) of its one membership; None: no membership
PERSONAS: dict[str, tuple[str, str, str | None] | None] = {
    "outsider": None,
    "partner_investigator": ("investigator", "partner", None),
    "monitor_a": ("sponsor_monitor", "main", "A"),
    "nurse_blinded": ("research_nurse", "main", None),  # blinded to trial C's arms
    # pharmacovigilance for trial B at the partner site: its SAE (QB) and its ICSR, no other
    "pv_b_partner": ("pharmacovigilance", "partner", "B"),
}
READ_ONLY = {"monitor_a"}

IN, OUT, PART = "in", "out", "partial"


def scope(persona: str, kind: str, label: str) -> str:
    """Whether an object is in the persona's scope, out of it, or partly in it."""
    if kind in ("report", "sample") and label in PATIENTS:  # seen with its patient
        kind = "patient"
    grant = PERSONAS[persona]
    if grant is None or kind == "token":
        return OUT
    _role, site, trial = grant
    if kind == "site":  # a site's own objects: through a site-wide membership there
        if label != site:
            return OUT
        return IN if trial is None else PART
    obj_site, obj_trial = where(kind, label)
    if kind in ("trial", "cohort", "dose_level"):
        sites = TRIALS[label][2]
        if site not in sites:
            return OUT
        return IN if trial is None or trial == label else OUT
    if kind == "patient":
        if obj_site != site:
            return OUT
        if trial is None:
            return IN
        regs = [r for r, (p, _t) in REGISTRATIONS.items() if p == label]
        trials = {REGISTRATIONS[r][1] for r in regs}
        if trial not in trials:
            return OUT
        return IN if trials == {trial} else PART
    if kind in ("board_meeting", "mtb_meeting"):
        if obj_site != site:
            return OUT
        return IN if trial is None else PART
    if kind in (
        "box",
        "shipment",
        *SITE_ONLY,
    ):  # site objects: never through a one-trial membership
        return IN if obj_site == site and trial is None else OUT
    if obj_site != site:
        return OUT
    if trial is not None and obj_trial != trial:
        return OUT
    return IN


# --- The built world -----------------------------------------------------------------------------
@dataclass
class World:
    users: dict[str, Any]
    sites: dict[str, Any]
    objects: dict[tuple[str, str], Any] = field(default_factory=dict)
    markers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # Registration RC's arm (blinded): its code, and the other arm's code
    arm_assigned: str = ""
    arm_other: str = ""
    # persona -> logged-in test client (made by the test's fixture)
    clients: dict[str, Any] = field(default_factory=dict)

    def pk(self, kind: str, label: str) -> int:
        return int(self.objects[(kind, label)].pk)

    def mark(self, kind: str, label: str, *texts: str) -> None:
        self.markers.setdefault((kind, label), []).extend(t for t in texts if t)


def _complete_ae(agent: str, verbatim: str, serious: bool) -> dict[str, Any]:
    return {
        "term": "Colitis",
        "grade": 3,
        "onset_date": "2026-11-14",
        "attribution": {agent: "probable"},
        "action_taken": "interrupted",
        "outcome": "recovering",
        "immune_related": True,
        "verbatim": verbatim,
        "seriousness": ["hospitalisation"] if serious else [],
    }


def _dlt_rules(protocol: str) -> dict[str, Any]:
    return {
        "dlt": {
            "protocol": protocol,
            "ctcae_version": "5.0",
            "window": {"anchor": "first_dose", "days": 21},
            "require_attribution": ["possible", "probable", "definite"],
            "rules": [{"id": "NONHEME_G3", "category": "non_hematologic", "min_grade": 3}],
        }
    }


def _report_json(directory: Path, patient: Any, tag: str) -> Path:
    doc = {
        "format_version": "1.0",
        "report_id": f"GZQ-{tag}-0001",
        "patient_id": patient.research_id,
        "sample": {
            "sample_id": f"GZQ-{tag}-S1",
            "kind": "tissue",
            "collected_on": "2026-10-10",
            "oncotree_code": "LUAD",
        },
        "assay": {"name": "Tissue panel", "panel": "TP-500"},
        "reported_on": "2026-10-20",
        "genome_build": "GRCh38",
        "short_variants": [
            {"variant_class": "Missense_Mutation", "gene": "KRAS", "protein_change": "p.G12C"}
        ],
        "copy_number_alterations": [],
        "structural_variants": [],
        "biomarkers": [],
    }
    path = directory / f"report-{tag}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def build_world() -> World:
    from oncotrials.apps.accounts.models import Role, Site
    from oncotrials.apps.accounts.services import membership_grant, token_create, user_create
    from oncotrials.apps.crfs.services import (
        administration_record,
        form_save,
        lab_result_create,
        query_raise,
    )
    from oncotrials.apps.dosing.services import escalation_decide, plan_create
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.mtb.services import (
        case_add,
        meeting_create,
        meeting_update,
        recommendation_create,
        recommendation_sign,
    )
    from oncotrials.apps.safety.dlt_review import dlt_rules_save
    from oncotrials.apps.safety.models import DltCase, ToxicityBoardCase
    from oncotrials.apps.safety.services import adverse_event_create, sae_report_record
    from oncotrials.apps.safety.toxicity_board import toxicity_cases_build, toxicity_meeting_create
    from oncotrials.apps.subjects.services import (
        consent_form_create,
        consent_sign,
        patient_create,
        randomisation_scheme_create,
        randomise,
        registration_change_status,
        registration_create,
        screening_close,
        screening_start,
    )
    from oncotrials.apps.trials.services import (
        cohort_create,
        dose_level_create,
        schedule_set,
        trial_change_status,
        trial_create,
    )
    from oncotrials.apps.tumours.services import assessment_save, baseline_save, response_override

    sites = {
        "main": Site.objects.create(code="main", name="Main centre"),
        "partner": Site.objects.create(
            code="partner", name="Partner centre", time_zone="America/New_York"
        ),
    }
    users: dict[str, Any] = {}
    for name in (
        "admin",
        "investigator",
        "nurse",
        "partner_investigator",
        "partner_nurse",
        "monitor_a",
        "outsider",
        "nurse_blinded",
        "pv_b_partner",
    ):
        users[name] = user_create(username=name, password=PASSWORD)
    admin = users["admin"]
    w = World(users=users, sites=sites)
    for code, site in sites.items():
        w.objects[("site", code)] = site

    membership_grant(user=admin, role=Role.ADMINISTRATOR, site=sites["main"])
    membership_grant(user=users["investigator"], role=Role.INVESTIGATOR, site=sites["main"])
    membership_grant(user=users["nurse"], role=Role.RESEARCH_NURSE, site=sites["main"])
    membership_grant(
        user=users["partner_investigator"], role=Role.INVESTIGATOR, site=sites["partner"]
    )
    membership_grant(user=users["partner_nurse"], role=Role.RESEARCH_NURSE, site=sites["partner"])
    membership_grant(user=users["nurse_blinded"], role=Role.RESEARCH_NURSE, site=sites["main"])
    token, _raw = token_create(user=admin, name="conformance")
    w.objects[("token", "admin")] = token

    # --- trials
    schedule = yaml.safe_load(EXAMPLE_SCHEDULE.read_text())
    forms: dict[str, Any] = {}
    levels: dict[str, Any] = {}
    for label, (code, sponsor, site_codes) in TRIALS.items():
        trial = trial_create(
            data={
                "protocol_code": code,
                "title": f"Conformance trial {code}",
                "sponsor": sponsor,
                "sponsor_type": "industry",
                "phase": "II" if label == "C" else "I-esc",
                "modality": "drug",
                "tumour_types": ["NSCLC"],
                "targets": ["KRAS G12C"],
            },
            sites=[sites[s] for s in site_codes],
            by=admin,
        )
        for status in ("set_up", "open"):
            trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
        trial.refresh_from_db()
        w.objects[("trial", label)] = trial
        w.mark("trial", label, code, sponsor)
        forms[label] = consent_form_create(
            kind="trial",
            trial=trial,
            version="1.0",
            version_date=dt.date(2026, 1, 5),
            ethics_approval_date=dt.date(2026, 2, 1),
            valid_from=dt.date(2026, 2, 1),
            by=admin,
            options=["future_research"],
        )
        if label != "C":
            cohort = cohort_create(
                trial=trial, code=f"ESC-{label}", name="Escalation", kind="escalation", by=admin
            )
            levels[label] = dose_level_create(
                cohort=cohort, level=1, agent=f"Drug {label}", dose="10", unit="mg", by=admin
            )
            w.objects[("cohort", label)] = cohort
            w.objects[("dose_level", label)] = levels[label]
            schedule_set(trial=trial, document=schedule, by=admin)
            dlt_rules_save(trial=trial, document=_dlt_rules(code), by=admin)
    trial_c = w.objects[("trial", "C")]
    for arm in ("ARM-ZKILO", "ARM-ZLIMA"):
        cohort_create(trial=trial_c, code=arm, name=arm, kind="randomised_arm", by=admin)
    randomisation_scheme_create(
        trial=trial_c,
        method="blocks",
        arms={"ARM-ZKILO": 1, "ARM-ZLIMA": 1},
        block_sizes=[2],
        blinded=True,
        by=admin,
        list_size=4,
    )
    membership_grant(
        user=users["monitor_a"],
        role=Role.SPONSOR_MONITOR,
        site=sites["main"],
        trial=w.objects[("trial", "A")],
    )
    membership_grant(
        user=users["pv_b_partner"],
        role=Role.PHARMACOVIGILANCE,
        site=sites["partner"],
        trial=w.objects[("trial", "B")],
    )

    # --- patients, consent, screening, registration
    for label, site_code in PATIENTS.items():
        by = users["nurse"] if site_code == "main" else users["partner_nurse"]
        p = patient_create(
            site=sites[site_code],
            by=by,
            family_name=f"Family{label}",
            given_name="Given",
            birth_date=dt.date(1961, 4, 2),
            hospital_number=f"HZQ-{label}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
            diagnosis="coad",
        )
        w.objects[("patient", label)] = p
        w.mark("patient", label, p.research_id)
    for label, (p_label, t_label) in REGISTRATIONS.items():
        patient = w.objects[("patient", p_label)]
        trial = w.objects[("trial", t_label)]
        by = users["nurse"] if PATIENTS[p_label] == "main" else users["partner_nurse"]
        consent = consent_sign(
            patient=patient,
            form=forms[t_label],
            signed_on=dt.date(2026, 11, 2),
            by=by,
            options_granted={"future_research": True},
        )
        episode = screening_start(
            patient=patient,
            trial=trial,
            kind="screening",
            started_on=dt.date(2026, 11, 2),
            by=by,
            checklist=["ECOG 0-1"],
        )
        episode = screening_close(
            episode=episode,
            outcome="eligible",
            closed_on=dt.date(2026, 11, 10),
            by=by,
            checklist=[{"criterion": "ECOG 0-1", "met": True}],
        )
        w.objects[("consent", label)] = consent
        w.objects[("screening", label)] = episode
        if t_label == "C":
            reg = randomise(
                patient=patient,
                trial=trial,
                levels={},
                registered_on=dt.date(2026, 11, 12),
                by=by,
            )
            w.arm_assigned = reg.cohort.code
            w.arm_other = "ARM-ZLIMA" if reg.cohort.code == "ARM-ZKILO" else "ARM-ZKILO"
            w.objects[("cohort", "C")] = reg.cohort
        else:
            reg = registration_create(
                patient=patient,
                cohort=w.objects[("cohort", t_label)],
                dose_level=levels[t_label],
                registered_on=dt.date(2026, 11, 12),
                by=by,
            )
        reg = registration_change_status(
            registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=by
        )
        w.objects[("registration", label)] = reg
        w.mark("registration", label, f"registrations/{reg.pk}/")

    # --- clinical records of the registrations in A and B
    for label in CLINICAL:
        reg = w.objects[("registration", label)]
        t_label = REGISTRATIONS[label][1]
        at_main = PATIENTS[REGISTRATIONS[label][0]] == "main"
        writer = users["investigator"] if at_main else users["partner_investigator"]
        lz = f"LZ{label}"
        baseline_save(
            registration=reg,
            date=dt.date(2026, 11, 5),
            method="CT",
            lesions=[
                {"lesion_id": f"{lz}1", "organ": "liver", "role": "target", "diameter_mm": "30"},
                {"lesion_id": f"{lz}2", "organ": "lung", "role": "target", "diameter_mm": "20"},
            ],
            by=writer,
        )
        follow_up = assessment_save(
            registration=reg,
            date=dt.date(2027, 1, 8),
            measurements=[
                {"lesion_id": f"{lz}1", "diameter_mm": "15"},
                {"lesion_id": f"{lz}2", "diameter_mm": "10"},
            ],
            by=writer,
        )
        w.objects[("assessment", label)] = follow_up
        response_override(registration=reg, response="PR", reason=f"OVZ-{label} review", by=writer)
        ae = adverse_event_create(
            registration=reg,
            data=_complete_ae(f"Drug {t_label}", f"VZ-{label} verbatim", serious=t_label == "B"),
            by=writer,
            complete=True,
        )
        w.objects[("ae", label)] = ae
        if t_label == "B":
            sae_report_record(
                ae=ae,
                kind="initial",
                sent_at=ae.sae_aware_at or dt.datetime.now(dt.UTC),
                by=writer,
                notes=f"SAEZ-{label} notes",
            )
            w.objects[("dlt_case", label)] = DltCase.objects.get(adverse_event=ae)
        form_save(
            registration=reg,
            visit_code="C1D1",
            form_name="vital_signs",
            data={"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72},
            version=0,
            by=writer,
        )
        w.objects[("lab", label)] = lab_result_create(
            registration=reg,
            analyte="Haemoglobin",
            value="121",
            unit="g/L",
            lln="120",
            uln="160",
            sampled_on=dt.date(2026, 11, 13),
            by=writer,
        )
        w.objects[("administration", label)] = administration_record(
            registration=reg,
            agent=f"Drug {t_label}",
            dose="10",
            unit="mg",
            administered_on=dt.date(2026, 11, 13),
            by=writer,
        )
        w.objects[("query", label)] = query_raise(
            record=ae, field="", text=f"QZ-{label} please check", by=admin
        )
        w.mark("registration", label, f"{lz}1", f"VZ-{label}", f"QZ-{label}", f"OVZ-{label}")
        if t_label == "B":
            w.mark("registration", label, f"SAEZ-{label}")

    # --- dose decisions
    for t_label in ("A", "B"):
        plan = plan_create(
            cohort=w.objects[("cohort", t_label)],
            design="3+3",
            start_level=levels[t_label],
            by=admin,
        )
        escalation_decide(
            plan=plan,
            action="stay",
            next_dose_level=levels[t_label],
            by=admin,
            password=PASSWORD,
            meaning=f"DZ-{t_label} committee decision",
            deviation_reason=f"DZ-{t_label} committee decision",
        )
        w.mark("trial", t_label, f"DZ-{t_label}")

    # --- toxicity boards
    for site_code in SITES:
        meeting = toxicity_meeting_create(
            site=sites[site_code],
            held_on=dt.date(2026, 11, 20),
            title=f"TBZ-{site_code} toxicity board",
            by=admin,
        )
        toxicity_cases_build(meeting=meeting, by=admin)
        w.objects[("board_meeting", site_code)] = meeting
        w.mark("board_meeting", site_code, f"TBZ-{site_code}")
    for label in ("SB", "QB"):
        w.objects[("board_case", label)] = ToxicityBoardCase.objects.get(
            adverse_event=w.objects[("ae", label)]
        )

    # --- genomic reports and molecular tumour boards
    with tempfile.TemporaryDirectory() as tmp:
        for p_label in PATIENTS:
            patient = w.objects[("patient", p_label)]
            result = genomics_import(path=_report_json(Path(tmp), patient, p_label), by=None)
            (report_id,) = result.report_ids
            w.objects[("report", p_label)] = GenomicReport.objects.get(pk=report_id)
            w.mark("patient", p_label, f"GZQ-{p_label}")
    _genomics_follow_up(w, admin)
    for site_code, p_label, t_label, signer in (
        ("main", "S", "A", "investigator"),
        ("partner", "Q", "B", "partner_investigator"),
    ):
        meeting = meeting_create(
            site=sites[site_code],
            held_on=dt.date(2026, 11, 25),
            by=admin,
            title=f"MBZ-{site_code} board",
        )
        meeting = meeting_update(meeting=meeting, version=meeting.version, status="held", by=admin)
        case = case_add(
            meeting=meeting,
            patient=w.objects[("patient", p_label)],
            reason=f"MCZ-{p_label} case",
            by=admin,
            reports=[w.objects[("report", p_label)]],
        )
        rec = recommendation_create(
            case=case,
            kind="trial_referral",
            rationale=f"MRZ-{p_label} refer",
            trial=w.objects[("trial", t_label)],
            by=admin,
        )
        rec = recommendation_sign(
            recommendation=rec,
            meaning="I approve this recommendation on behalf of the board",
            password=PASSWORD,
            by=users[signer],
        )
        w.objects[("mtb_meeting", site_code)] = meeting
        w.objects[("mtb_case", p_label)] = case
        w.objects[("recommendation", p_label)] = rec
        w.objects[("referral", p_label)] = rec.referral if hasattr(rec, "referral") else None
        w.mark("mtb_meeting", site_code, f"MBZ-{site_code}")
        w.mark("mtb_case", p_label, f"MCZ-{p_label}", f"MRZ-{p_label}")
    from oncotrials.apps.mtb.models import MtbReferral

    for p_label in ("S", "Q"):
        w.objects[("referral", p_label)] = MtbReferral.objects.get(
            patient=w.objects[("patient", p_label)]
        )

    # --- data cuts (SDTM): their names are the markers
    from oncotrials.apps.exports.services import data_cut_create

    Site.objects.filter(pk__in=[s.pk for s in sites.values()]).update(country="FR")
    for label, maker in (("A", "admin"), ("BP", "partner_investigator"), ("B", "admin")):
        _site, t_label = DATA_CUTS[label]
        cut = data_cut_create(
            trial=w.objects[("trial", t_label)],
            name=f"DCZ-{label} cut",
            formats=["sdtm"],
            by=users[maker],
        )
        w.objects[("data_cut", label)] = cut
        w.mark("data_cut", label, f"DCZ-{label} cut")
    # --- unit operations: a chair, a request of the week and a plan per site
    from django.utils import timezone

    from oncotrials.apps.operations.models import Booking, PlanRun
    from oncotrials.apps.operations.services import care_request_create, resource_save

    for site_code in SITES:
        site = sites[site_code]
        w.objects[("resource", site_code)] = resource_save(
            site=site, kind="chair", code=f"RZ-{site_code}", by=admin
        )
        care = care_request_create(
            site=site,
            data={
                "label": f"CRZ-{site_code} infusion",
                "unit": "chair",
                "earliest": TODAY,
                "latest": TODAY,
                "target": TODAY,
                "duration_min": 60,
            },
            by=admin,
        )
        w.objects[("plan_run", site_code)] = PlanRun.objects.create(
            site=site,
            monday=TODAY,
            status="done",
            instance={"visits": []},
            unscheduled=[f"PRZ-{site_code}"],
            created_by=admin,
        )
        w.mark("resource", site_code, f"RZ-{site_code}", f"CRZ-{site_code}")
        w.mark("plan_run", site_code, f"PRZ-{site_code}")
        starts = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(9)))
        w.objects[("booking", site_code)] = Booking.objects.create(
            request=care,
            site=site,
            resource=w.objects[("resource", site_code)],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1),
            booked_by=admin,
        )
    _biobank(w, admin)
    add_pdx(w)
    return w


SEG_HEADER = "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\ttcn.em\tlcn.em\n"


def _genomics_follow_up(w: World, admin: Any) -> None:
    """Per patient: a progression sample (KRAS p.Y96D acquired, a germline BRCA2 finding) with
    copy-number segments (17p copy-neutral LOH), so that the serial pairs, the atlas per drug,
    the segments and LOH have rows; and a prior line of therapy. The pairs of S are classified
    under the agents of its registrations in A and B (their sources name both trials); R's
    randomised arm has no agent, so its pair takes the therapy recorded on the sample."""
    from oncotrials.apps.genomics.models import Sample
    from oncotrials.apps.genomics.services import genomics_import
    from oncotrials.apps.subjects.services import prior_line_record
    from oncotrials.core.genomics.normalised import PatientMap

    with tempfile.TemporaryDirectory() as tmp:
        for p_label in PATIENTS:
            patient = w.objects[("patient", p_label)]
            doc = {
                "format_version": "1.0",
                "report_id": f"GZQ-{p_label}-0002",
                "patient_id": patient.research_id,
                "sample": {
                    "sample_id": f"GZQ-{p_label}-S2",
                    "kind": "tissue",
                    "timepoint": "progression",
                    "collected_on": "2027-01-20",
                    "oncotree_code": "LUAD",
                },
                "assay": {"name": "Tissue panel", "panel": "TP-500"},
                "reported_on": "2027-01-28",
                "genome_build": "GRCh38",
                "short_variants": [
                    {"variant_class": "Missense_Mutation", "gene": g, "protein_change": c, **o}
                    for g, c, o in (
                        ("KRAS", "p.G12C", {"mutation_status": "Somatic"}),
                        ("KRAS", "p.Y96D", {"mutation_status": "Somatic"}),
                        ("BRCA2", "p.S1982fs", {"mutation_status": "Germline"}),
                    )
                ],
                "copy_number_alterations": [],
                "structural_variants": [],
                "biomarkers": [],
            }
            path = Path(tmp) / f"report-{p_label}-2.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            genomics_import(path=path, by=None)
            seg = Path(tmp) / f"segments-{p_label}_hg38.seg"
            seg.write_text(SEG_HEADER + f"GZQ-{p_label}-S2\t17\t1\t22000000\t900\t-0.05\t2\t0\n")
            pmap = PatientMap.parse(
                f"sample_id,research_id\nGZQ-{p_label}-S2,{patient.research_id}\n"
            )
            genomics_import(path=seg, by=None, patient_map=pmap, assay="FACETS")
            w.objects[("sample", p_label)] = Sample.objects.get(sample_id=f"GZQ-{p_label}-S2")
            prior_line_record(
                patient=patient,
                line=1,
                agents="carboplatin + pemetrexed",
                setting="metastatic",
                started_on=dt.date(2025, 3, 1),
                ended_on=dt.date(2025, 9, 1),
                stop_reason=f"PLZ-{p_label} progression",
                by=admin,
            )
            w.mark("patient", p_label, f"PLZ-{p_label}")
    # Test set-up: the therapy recorded with R's progression sample (no registration agent).
    Sample.objects.filter(sample_id="GZQ-R-S2").update(therapy="sotorasib")


def _biobank(w: World, admin: Any) -> None:
    """A biopsy per clinical registration, stored in its site's box, and a shipment per site."""
    from django.utils import timezone

    from oncotrials.apps.biobank.services import (
        container_create,
        shipment_create,
        specimen_collect,
        specimen_store,
    )
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign

    tiers = ["sample_storage", "future_research", "genetic_analysis"]
    form = consent_form_create(
        kind="translational",
        programme="ZQ biobank",
        version="1",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=tiers,
    )
    for p_label in ("S", "Q"):
        consent_sign(
            patient=w.objects[("patient", p_label)],
            form=form,
            signed_on=dt.date(2026, 11, 2),
            by=admin,
            options_granted=dict.fromkeys(tiers, True),
        )
    boxes = {}
    for site_code in SITES:
        freezer = container_create(
            site=w.sites[site_code], kind="freezer", name=f"FZ-{site_code}", by=admin
        )
        rack = container_create(
            site=w.sites[site_code], kind="rack", name="R1", parent=freezer, by=admin
        )
        boxes[site_code] = container_create(
            site=w.sites[site_code],
            kind="box",
            name=f"BXZ-{site_code}",
            parent=rack,
            rows=9,
            columns=9,
            by=admin,
        )
        w.objects[("box", site_code)] = boxes[site_code]
        w.mark("box", site_code, f"BXZ-{site_code}")
    collected = timezone.now() - dt.timedelta(days=3)
    for i, r_label in enumerate(CLINICAL, start=1):
        p_label, _t = REGISTRATIONS[r_label]
        s = specimen_collect(
            patient=w.objects[("patient", p_label)],
            registration=w.objects[("registration", r_label)],
            specimen_type="tissue_frozen",
            quantity="12",
            unit="mg",
            collected_at=collected,
            received_at=collected,
            label=f"BBZ-{r_label}",
            by=admin,
        )
        specimen_store(specimen=s, box=boxes[PATIENTS[p_label]], row=1, column=i, by=admin)
        w.objects[("specimen", r_label)] = s
        w.mark("specimen", r_label, f"BBZ-{r_label}")
    _trial_biopsy_report(w, admin)
    for site_code, r_label in (("main", "SA"), ("partner", "QB")):
        w.objects[("shipment", site_code)] = shipment_create(
            site=w.sites[site_code],
            recipient=f"SHZ-{site_code}",
            purpose="research",
            specimens=[w.objects[("specimen", r_label)]],
            by=admin,
        )
        w.mark("shipment", site_code, f"SHZ-{site_code}")


def _trial_biopsy_report(w: World, admin: Any) -> None:
    """The sequencing of S's trial-B biopsy: an undated sample (not placed in S's serial
    series) whose report a run ties to specimen BBZ-SB."""
    from oncotrials.apps.biobank.services import sequencing_run_record
    from oncotrials.apps.genomics.models import GenomicReport
    from oncotrials.apps.genomics.services import genomics_import

    patient = w.objects[("patient", "S")]
    doc = {
        "format_version": "1.0",
        "report_id": "TBZ-SB-0001",
        "patient_id": patient.research_id,
        "sample": {"sample_id": "TBZ-SB-1", "kind": "tissue", "oncotree_code": "LUAD"},
        "assay": {"name": "Tissue panel", "panel": "TP-500"},
        "reported_on": "2027-02-10",
        "genome_build": "GRCh38",
        "short_variants": [
            {"variant_class": "Missense_Mutation", "gene": "NRAS", "protein_change": "p.Q61K"}
        ],
        "copy_number_alterations": [],
        "structural_variants": [],
        "biomarkers": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report-SB.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        (report_id,) = genomics_import(path=path, by=None).report_ids
    report = GenomicReport.objects.select_related("sample").get(pk=report_id)
    sequencing_run_record(
        specimen=w.objects[("specimen", "SB")],
        assay="panel",
        library_id="LIB-SB-1",
        run_id="RUN-SB-1",
        by=admin,
        report=report,
    )
    w.objects[("report", "SB")] = report
    w.objects[("sample", "SB")] = report.sample
    w.mark("report", "SB", "TBZ-SB-1")
