"""The casebooks of the demo's treated patients, through the services like real use.

For every registration of a trial with a visit schedule, the visits that have passed are done
(a few are left overdue, and some of today's are still due): study drug given on day 1 of each
cycle; labs at screening and through cycle 1 (the DLT window), then a blood count every other
cycle; ECOG at screening, every fourth cycle and the end of treatment; vital signs at screening
and cycle 1; the screening forms (medical history with prior lines, eligibility, demographics),
the end-of-treatment form and the survival status of the last follow-up contact. Patients off
study keep the essentials (doses, cycle 1 blood counts, screening and end-of-treatment forms).
To keep the load short, forms are not entered at every visit that lists them. A dose recorded
for a visit, or a lab sampled for it, attests the visit (the calendar reconciles them); the
other visits are recorded as such.

Then the data cleaning: queries raised by the data manager (open, answered, closed) and by the
edit checks, source-data verification by the CRA, casebooks signed by the investigator; the
adjudication of the DLT cases the DLT review proposed; and the toxicity board, one meeting held
and one planned.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType

from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_batch
from oncotrials.apps.crfs.entries import (
    DoseEntry,
    Entry,
    FormEntry,
    LabEntry,
    casebook_entries_save,
)
from oncotrials.apps.crfs.models import (
    DataQuery,
    FormInstance,
    LabResult,
    Modification,
    QueryOrigin,
    QueryStatus,
)
from oncotrials.apps.crfs.services import (
    query_answer,
    query_close,
    query_raise,
    regimen_for,
    sdv_record,
    signature_sign,
)
from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate, dlt_review_deferred
from oncotrials.apps.safety.models import DltCase, DltCaseStatus
from oncotrials.apps.safety.selectors import with_dlt_rules_key
from oncotrials.apps.safety.toxicity_board import (
    toxicity_cases_build,
    toxicity_meeting_create,
    toxicity_recommend,
)
from oncotrials.apps.subjects.models import Registration, RegistrationStatus
from oncotrials.apps.subjects.selectors import registration_calendar, registrations_with_calendar
from oncotrials.apps.subjects.services import registration_change_status, visits_record
from oncotrials.apps.subjects.visit_evidence import evidence_for
from oncotrials.core.schedule import VisitKind, VisitStatus

from .journeys import DEMO_PASSWORD

Say = Callable[[str], None]

# analyte, unit, (low, high) of the demo's values, LLN, ULN
_PANEL: dict[str, tuple[str, tuple[float, float], str | None, str]] = {
    "neutrophils": ("10^9/L", (1.9, 6.5), "1.8", "7.5"),
    "platelets": ("10^9/L", (160, 380), "150", "400"),
    "hemoglobin": ("g/L", (112, 150), "120", "160"),
    "alt": ("U/L", (12, 58), None, "40"),
    "creatinine": ("umol/L", (55, 98), "45", "100"),
}
_FULL = tuple(_PANEL)  # screening
_CYCLE_1 = ("neutrophils", "platelets", "alt")  # the DLT window
_SHORT = ("neutrophils",)  # later cycles
_EOT_REASON = {
    "Disease progression": "progression",
    "Toxicity": "toxicity",
    "Patient decision": "withdrawal",
}
_QUERY_TEXTS = {
    "vital_signs": ("weight_kg", "Weight differs by more than 5 % from the previous visit."),
    "ecog": ("performance_status", "ECOG not consistent with the clinic letter; please check."),
    "medical_history": ("prior_lines", "Number of prior lines differs from the referral letter."),
    "eligibility": ("assessed_on", "Eligibility date is after the consent date? Please confirm."),
    "demographics": ("height_cm", "Height missing from the source; please confirm."),
    "end_of_treatment": ("last_dose_on", "Last dose date differs from the pharmacy record."),
    "survival_status": ("contact_on", "Please give the source of this contact."),
}
MEANING_DLT = "I have reviewed this event and sign this DLT adjudication"


def populate_casebooks(rng: random.Random, staff: Any, today: dt.date, say: Say) -> None:
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    # The trials' form declarations and the identity of their DLT rules are read once here,
    # not on each of the forms, lab values and doses saved.
    regs = list(
        with_dlt_rules_key(
            registrations_with_calendar(
                Registration.objects.filter(trial__visit_schedule__isnull=False).order_by("pk")
            )
        )
        .select_related("trial", "dose_level")
        .prefetch_related("trial__form_declarations")
    )
    # Each patient's DLT review runs once, over all the labs and doses of the casebooks, before
    # the adjudication below reads the cases.
    # What the other apps hold as evidence of a visit, read for all of them at once (a casebook
    # writes only its own patient's records, so each one's evidence is as it is when reached).
    evidence = evidence_for([r.pk for r in regs])
    with dlt_review_deferred():
        for reg in regs:
            _casebook(rng, staff, reg, today, evidence.get(reg.pk, {}))
    say("casebooks: visits, forms, labs and doses")
    _queries(rng, staff, users, today)
    _verify_and_sign(rng, staff, users)
    say("queries, source-data verification, signatures")
    _adjudicate(rng, staff)
    _toxicity_board(rng, staff, today)
    say("DLT adjudication and toxicity board")


# ----------------------------------------------------------------------------- one casebook


def _casebook(
    rng: random.Random,
    staff: Any,
    reg: Registration,
    today: dt.date,
    evidence: Mapping[str, Iterable[dt.date]],
) -> None:
    main = reg.patient.site_id == staff.main.pk
    by = staff.nurse if main else staff.partner_nurse
    if (
        reg.status == RegistrationStatus.REGISTERED
        and reg.treatment_start is None
        and (today - reg.registered_on).days >= 3
    ):
        # Registered patients start treatment within a few days.
        start = min(reg.registered_on + dt.timedelta(days=rng.randrange(2, 6)), today)
        reg = registration_change_status(
            registration=reg, to_status="on_treatment", on=start, by=by
        )
        reg = registrations_with_calendar(Registration.objects.filter(pk=reg.pk)).get()
    if reg.treatment_start is None:
        return
    calendar = registration_calendar(registration=reg, today=today, evidence=evidence)
    active = reg.status != RegistrationStatus.OFF_STUDY
    regimen = regimen_for(reg)
    ecog = rng.choice("0001")
    weight = rng.uniform(52, 95)
    eot = calendar.end_of_treatment
    reason = next(
        (
            h.reason
            for h in reg.status_history.all()
            if h.to_status == RegistrationStatus.END_OF_TREATMENT
        ),
        "",
    )
    last_dose = reg.treatment_start
    # The survival status of the last follow-up contact (the earlier ones: the visit only).
    contacts = [
        v.code
        for v in calendar.visits
        if v.kind is VisitKind.FOLLOW_UP and v.status is not VisitStatus.UPCOMING
    ][-1:]
    # The casebook's visits (those no dose or lab attests), then its forms, labs and doses,
    # saved together at the end (one batch each).
    visits: list[dict[str, Any]] = []
    entries: list[Entry] = []
    with audit_batch():
        for visit in calendar.visits:
            if visit.status in (
                VisitStatus.UPCOMING,
                VisitStatus.NOT_DONE,
                VisitStatus.NOT_APPLICABLE,
            ):
                continue
            on = visit.done_on
            if on is None:  # the visit has passed, or is due today
                if visit.status is VisitStatus.DUE and rng.random() < 0.5:
                    continue  # today's work
                if visit.status is VisitStatus.OVERDUE and rng.random() < 0.02:
                    continue  # overdue: on the work list
                on = visit.target + dt.timedelta(days=rng.choice([0, 0, 0, 1, -1]))
                on = max(on, visit.earliest, reg.registered_on)
                on = min(on, visit.latest, today)
                attested = visit.kind is VisitKind.CYCLE and (regimen or "labs" in visit.forms)
                if not attested:
                    visits.append({"code": visit.code, "on": on})
            forms = set(visit.forms)
            code = visit.code
            if "exposure" in forms and regimen and (eot is None or on <= eot):
                for level in regimen:
                    reduced = visit.cycle is not None and visit.cycle > 2 and rng.random() < 0.06
                    entries.append(
                        DoseEntry(
                            agent=level.agent,
                            dose=(level.dose * 3 / 4).quantize(level.dose)
                            if reduced
                            else level.dose,
                            unit=level.unit,
                            administered_on=on,
                            modification=Modification.REDUCTION if reduced else Modification.NONE,
                            modification_reason="Grade 2 fatigue" if reduced else "",
                            visit_code=code,
                        )
                    )
                last_dose = max(last_dose, on)
            if "labs" in forms:
                if code == "SCR":
                    panel = _FULL if active else ()
                elif visit.cycle == 1:
                    panel = _CYCLE_1 if active else ("neutrophils",)
                elif active and (visit.cycle or 0) % 2:
                    panel = _SHORT
                else:  # the dose attests the visit; without a regimen, a blood count
                    panel = () if regimen else ("neutrophils",)
                _labs(rng, entries, code, on, panel)
            if not active and visit.kind is not VisitKind.END_OF_TREATMENT and code != "SCR":
                continue  # off study: the casebook was closed with its essentials
            if code == "SCR":
                _screening_forms(rng, entries, on, ecog, weight, active)
                continue
            assessed = visit.cycle is not None and (visit.cycle - 1) % 4 == 0  # C1, C5, C9...
            if "ecog" in forms and (visit.kind is VisitKind.END_OF_TREATMENT or assessed):
                worse = visit.kind is VisitKind.END_OF_TREATMENT and reason != "Patient decision"
                value = str(min(int(ecog) + (1 if worse else 0), 4))
                _form(entries, code, "ecog", {"assessed_on": on, "performance_status": value})
            if "vital_signs" in forms and visit.cycle == 1:
                _form(entries, code, "vital_signs", _vitals(rng, on, weight))
            if "end_of_treatment" in forms and eot is not None:
                _form(
                    entries,
                    code,
                    "end_of_treatment",
                    {
                        "last_dose_on": min(last_dose, eot),
                        "decided_on": eot,
                        "reason": _EOT_REASON.get(reason, "investigator"),
                    },
                )
            if "survival_status" in forms and code in contacts:
                _form(entries, code, "survival_status", {"contact_on": on, "status": "alive"})
        visits_record(registration=reg, visits=visits, by=by)
        casebook_entries_save(registration=reg, entries=entries, by=by)


def _form(entries: list[Entry], code: str, name: str, data: dict[str, Any]) -> None:
    clean = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}
    entries.append(FormEntry(visit_code=code, form_name=name, data=clean, complete=True))


def _screening_forms(
    rng: random.Random,
    entries: list[Entry],
    on: dt.date,
    ecog: str,
    weight: float,
    active: bool,
) -> None:
    diagnosed = on - dt.timedelta(days=rng.randrange(200, 1800))
    _form(
        entries,
        "SCR",
        "medical_history",
        {
            "diagnosed_on": diagnosed,
            "stage": "IV",
            "prior_lines": rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5]),
            "metastatic": True,
            "metastatic_on": diagnosed + dt.timedelta(days=rng.randrange(0, 150)),
        },
    )
    _form(entries, "SCR", "eligibility", {"assessed_on": on, "all_criteria_met": True})
    _form(entries, "SCR", "ecog", {"assessed_on": on, "performance_status": ecog})
    if active:
        _form(
            entries,
            "SCR",
            "demographics",
            {
                "assessed_on": on,
                "ethnicity": rng.choice(["not_hispanic_or_latino", "not_reported"]),
                "weight_kg": f"{weight:.1f}",
                "height_cm": f"{rng.uniform(152, 190):.0f}",
            },
        )
        _form(entries, "SCR", "vital_signs", _vitals(rng, on, weight))


def _vitals(rng: random.Random, on: dt.date, weight: float) -> dict[str, Any]:
    data: dict[str, Any] = {
        "assessed_on": on,
        "weight_kg": f"{weight * rng.uniform(0.96, 1.01):.1f}",
        "systolic_bp": rng.randrange(105, 150),
        "diastolic_bp": rng.randrange(60, 92),
        "heart_rate": rng.randrange(58, 98),
        "temperature": f"{rng.uniform(36.2, 37.4):.1f}",
    }
    if rng.random() < 0.04:  # outside the expected range: the edit check raises a query
        data["heart_rate"] = rng.randrange(142, 160)
    return data


def _labs(
    rng: random.Random,
    entries: list[Entry],
    code: str,
    on: dt.date,
    panel: tuple[str, ...],
) -> None:
    for analyte in panel:
        unit, (low, high), lln, uln = _PANEL[analyte]
        value = rng.uniform(low, high)
        if analyte == "alt" and rng.random() < 0.05:
            value = rng.uniform(45, 110)  # a grade 1 rise
        entries.append(
            LabEntry(
                analyte=analyte,
                value=f"{value:.1f}" if high < 100 else f"{value:.0f}",
                unit=unit,
                sampled_on=on,
                lln=lln,
                uln=uln,
                visit_code=code,
            )
        )


# ----------------------------------------------------------------------------- data cleaning


def _queries(rng: random.Random, staff: Any, users: dict[str, User], today: dt.date) -> None:
    """The data manager's queries on forms and labs of the main site: some still open, some
    answered by the nurse, some closed; the edit checks' queries, some answered."""
    dm = users.get("datamanager")
    if dm is None:
        return
    # Each record with its registration and patient (the rights checks of a query read them).
    forms = list(
        FormInstance.objects.filter(
            registration__patient__site=staff.main, form_name__in=list(_QUERY_TEXTS)
        )
        .select_related("registration__patient")
        .order_by("pk")
    )
    labs = list(
        LabResult.objects.filter(registration__patient__site=staff.main, analyte="alt")
        .select_related("registration__patient")
        .order_by("pk")
    )
    picked: list[tuple[Any, str, str]] = [
        (f, *_QUERY_TEXTS[f.form_name]) for f in rng.sample(forms, min(36, len(forms)))
    ] + [
        (lab, "value", "Value not found in the laboratory report; please check the source.")
        for lab in rng.sample(labs, min(12, len(labs)))
    ]
    with audit_batch():
        for record, field, text in picked:
            q = query_raise(record=record, field=field, text=text, by=dm)
            roll = rng.random()
            if roll < 0.35:
                continue  # open
            q = query_answer(
                query=q,
                text="Checked against the source document; value confirmed.",
                by=staff.nurse,
            )
            if roll < 0.6:
                continue  # answered, waiting for the data manager
            query_close(query=q, text="Answer accepted.", by=dm)
        ct = ContentType.objects.get_for_model(FormInstance)
        automatic = DataQuery.objects.filter(
            content_type=ct,
            origin=QueryOrigin.EDIT_CHECK,
            status=QueryStatus.OPEN,
            patient__site=staff.main,
        ).order_by("pk")
        for i, q in enumerate(automatic):
            if i % 2 == 0:
                query_answer(
                    query=q,
                    text="Patient anxious at the visit; rate normal on repeat measurement.",
                    by=staff.nurse,
                )


def _verify_and_sign(rng: random.Random, staff: Any, users: dict[str, User]) -> None:
    """The CRA verifies the records of some main-site casebooks against the source; the
    investigator signs the casebooks of some patients whose treatment has ended."""
    cra = users.get("cra")
    regs = list(
        Registration.objects.filter(
            patient__site=staff.main,
            trial__visit_schedule__isnull=False,
            treatment_start__isnull=False,
        )
        .select_related("patient")
        .order_by("pk")
    )
    if cra is not None:
        verified = rng.sample(regs, min(12, len(regs)))
        with audit_batch():
            for reg in sorted(verified, key=lambda r: r.pk):
                # Read through the registration, each record knows it (and its patient): the
                # rights checks of the verification read neither again.
                records: list[Any] = [
                    *reg.form_instances.filter(visit_code__in=["SCR", "C1D1"]),
                    *reg.lab_results.filter(visit_code__in=["SCR", "C1D1", "C1D8"]),
                    *reg.administrations.filter(visit_code="C1D1"),
                ]
                for record in records:
                    sdv_record(record=record, by=cra, note="Verified against the hospital record")
    ended = [
        r for r in regs if r.status in (RegistrationStatus.FOLLOW_UP, RegistrationStatus.OFF_STUDY)
    ]
    for reg in rng.sample(ended, min(5, len(ended))):
        signature_sign(
            record=reg, meaning="approved", password=DEMO_PASSWORD, by=staff.investigator
        )


# ----------------------------------------------------------------------------- safety


def _adjudicate(rng: random.Random, staff: Any) -> None:
    """The investigator adjudicates the DLT cases the DLT review proposed, except the latest
    few, which wait on the DLT review page."""
    cases = list(
        DltCase.objects.filter(status=DltCaseStatus.PROPOSED)
        .select_related("registration__patient", "adverse_event")
        .order_by("pk")
    )
    for case in cases[:-3]:
        by = (
            staff.investigator
            if case.registration.patient.site_id == staff.main.pk
            else staff.partner_investigator
        )
        confirm = case.proposed_outcome == "dlt" and rng.random() < 0.8
        dlt_case_adjudicate(
            case=case,
            decision="confirm" if confirm else "reject",
            reason=(
                f"{case.term} grade {case.worst_grade} meets the protocol's DLT definition"
                if confirm
                else f"{case.term}: attributed to disease progression, not a DLT"
            ),
            meaning=MEANING_DLT,
            password=DEMO_PASSWORD,
            version=case.version,
            by=by,
        )


def _toxicity_board(rng: random.Random, staff: Any, today: dt.date) -> None:
    """A meeting held two weeks ago that reviewed the severe immune-related or unexpected
    events (recommendations on all but the last), and the next one, planned."""
    held = toxicity_meeting_create(
        site=staff.main,
        held_on=today - dt.timedelta(days=14),
        title="Toxicity board: immune-related and unexpected events",
        by=staff.investigator,
    )
    cases = toxicity_cases_build(meeting=held, by=staff.investigator)
    for case in cases[:-1]:
        toxicity_recommend(
            case=case,
            recommendation=rng.choice(
                [
                    "Continue at the same dose with close monitoring.",
                    "Hold treatment until grade 1, then resume at the next lower dose.",
                    "Oral corticosteroids; resume once grade 1 or less.",
                    "Permanently discontinue study treatment.",
                ]
            ),
            version=case.version,
            by=staff.investigator,
        )
    toxicity_meeting_create(
        site=staff.main,
        held_on=today + dt.timedelta(days=7),
        title="Toxicity board",
        by=staff.investigator,
    )
