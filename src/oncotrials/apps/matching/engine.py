"""Trial matching over the platform's own data: patients and reports in, matching cohorts out.

The core engine (:mod:`oncotrials.core.matching`) matches plain records. This module builds
them from the database and keeps one engine per process, cached by a *data version* (counts,
maximum ids, version sums and latest timestamps of the tables that feed it). When the version
moves, only what changed is re-matched: patients whose clinical facts or set of current reports
changed are upserted, trials whose levels or criteria changed are re-compiled
(:meth:`Matcher.upsert_patient`, :meth:`Matcher.upsert_trial`); the result always equals a
full re-match (tested).

What a patient record holds:

* diagnosis: the patient's OncoTree code (retired codes resolved; an unknown code is left
  unrecorded, so diagnosis criteria are *unknown* for that patient);
* age: from the year of birth, with the birthday taken at mid-year. The birth date is
  identifying data, read only through the audited identity service, so matching does not read
  it; an age limit is therefore exact except within six months of the limit;
* sex (female/male; other and unknown are unrecorded), ECOG (the latest ``ecog`` CRF of any
  registration), labs (latest value per analyte, in the unit the CRF recorded), prior lines (the
  number of prior lines recorded at referral or pre-screening in the metastatic or locally
  advanced setting; unrecorded when no prior line is recorded), prior therapies (agents
  administered in our trials, agents of the recorded prior lines and therapies recorded on
  genomic samples; unrecorded when there is none), deceased (a screening closed for death);
* report: the union of the current alteration rows of every current report of every sample,
  with TMB and MSI of the latest report that gives them and its signatures. A row with an ESCAT
  tier carries the classes ``escat:<tier>`` and ``escat:<tier group>`` (``I-A`` ->
  ``escat:ia``, ``escat:i``). A patient without any current report has no report: genomic
  criteria are *unknown* for them (see ``docs/formats/criteria.md``).

What a match level is: a trial without cohorts is one level (its own criteria); each cohort is a
level (trial criteria ``and`` cohort criteria; a cohort with neither is not matchable); a dose
level (rows sharing a level number) is its own level when it has criteria or slots of its own.
A trial whose criteria came from CTML (``match_levels == "independent"``) keeps MatchMiner's
meaning instead: the trial (when it has criteria), each cohort and each dose level are
independent levels, each matched on its own criteria only, exactly as in file mode.
A level is *open* for a patient when the trial is open, the patient's site takes part in it and
the cohort is open. *Slots available* are the free slots of the allocations in force today at
the patient's site (the dose level's and the cohort-wide ones for a dose level); None when the
cohort's slots are not managed here (no allocation at any site).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import math
import re
import threading
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Literal

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from numpy.typing import NDArray

from oncotrials.apps.accounts.access import Action, allows, roles_on, scope_for
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.crfs.models import DrugAdministration, FormInstance, LabResult
from oncotrials.apps.genomics.models import (
    Biomarker,
    CopyNumberAlteration,
    Mutation,
    Sample,
    StructuralVariant,
)
from oncotrials.apps.genomics.models import GenomicReport as DbReport
from oncotrials.apps.genomics.selectors import (
    genomic_samples_hidden_from,
    genomic_samples_visible_to,
)
from oncotrials.apps.matching.criteria import shipped_oncotree
from oncotrials.apps.subjects.models import (
    BaselineObservation,
    ObservationKind,
    PriorTherapyLine,
    Registration,
    ScreeningEpisode,
    SlotAllocation,
    advanced_line_count,
)
from oncotrials.apps.subjects.models import Patient as DbPatient
from oncotrials.apps.subjects.selectors import (
    arm_visible_to,
    patients_visible_to,
    pre_registration_visible_to,
    registrations_visible_to,
    slot_summary_for,
)
from oncotrials.apps.trials.models import Cohort, DoseLevel, TrialSite, TrialStatus
from oncotrials.apps.trials.models import Trial as DbTrial
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from oncotrials.core.matching import (
    Alteration,
    And,
    Category,
    Genomic,
    GenomicReport,
    Level,
    Matcher,
    Node,
    Not,
    Numeric,
    Or,
    Patient,
    Trial,
    Truth,
    describe,
    explain,
    first_failure,
    parse_criteria,
)
from oncotrials.core.matching.index import (
    NONE,
    PatientColumns,
    PatientIndex,
    RowColumns,
    Vocab,
    row_bit,
)
from oncotrials.core.matching.records import (
    CN_CALLS,
    GENE_RE,
    MSI_STATUSES,
    SEXES,
    wildcard_key,
)
from oncotrials.core.matching.reference import Explanation
from oncotrials.core.numbers import plain

__all__ = [
    "SYSTEM",
    "CohortMatch",
    "MatchSummary",
    "MatchingActor",
    "PatientMatch",
    "match_all",
    "matches_for_patient",
    "matches_for_trial",
    "matching_state",
    "reset_matching_cache",
]


class _System(Enum):
    """The platform itself (command line, scheduled runs): sees every trial and patient.

    A one-member enum, so that ``user is SYSTEM`` tells the type checker which one it is."""

    SYSTEM = "SYSTEM"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = _System.SYSTEM

# Who asks for matches: a person (who sees what the one rule of visibility allows) or SYSTEM.
MatchingActor = Actor | Literal[_System.SYSTEM]

_TRUTH = {Truth.TRUE: "met", Truth.FALSE: "not met", Truth.UNKNOWN: "unknown"}
_CN = {2: "amplification", 1: "gain", -1: "heterozygous_deletion", -2: "homozygous_deletion"}
_MSI = {
    "msi-h": "high",
    "msi-high": "high",
    "high": "high",
    "dmmr": "high",
    "mmr-deficient": "high",
}
_MSS = {
    "mss": "stable",
    "msi-l": "stable",
    "msi-low": "stable",
    "stable": "stable",
    "pmmr": "stable",
}
_SPLIT = re.compile(r"\s*(?:[,;+/]|\band\b)\s*")
_CHUNK = 900  # SQLite's bound on parameters per query, with room to spare


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CohortMatch:
    """A level (trial, cohort or dose level) a patient matches."""

    trial: DbTrial
    cohort: Cohort | None
    dose_level: DoseLevel | None
    level_path: str
    level_name: str
    open: bool
    slots_available: int | None
    explanation: list[dict[str, Any]]
    matched: bool = True
    # the first clause the level fails on ("" when matched); see core first_failure
    why_not: str = ""
    # the patient's registration status in this trial ("" when not registered): registered
    # and off-study patients are listed apart from candidates
    registration: str = ""


@dataclass(frozen=True)
class PatientMatch:
    """A patient matched at one level of a trial."""

    patient: Any  # subjects.Patient
    trial: DbTrial
    cohort: Cohort | None
    dose_level: DoseLevel | None
    level_path: str
    level_name: str
    open: bool
    slots_available: int | None
    explanation: list[dict[str, Any]]
    registration: str = ""  # the patient's registration status in the trial, "" if none


@dataclass(frozen=True)
class MatchSummary:
    patients: int  # patients considered (visible to the caller)
    trials: int  # trials with machine criteria (visible)
    levels: int
    matches: tuple[PatientMatch, ...]
    incremental: bool  # whether the last refresh re-matched only what changed
    problems: tuple[str, ...] = ()

    @property
    def open_matches(self) -> int:
        return sum(1 for m in self.matches if m.open)


# ------------------------------------------------------------------------ the cached state
@dataclass(frozen=True)
class _Ref:
    trial_id: int
    cohort_id: int | None
    dose_level_ids: tuple[int, ...]


@dataclass
class MatchingState:
    """The per-process engine and what it was built from."""

    version: tuple[Any, ...]
    matcher: Matcher
    patient_sigs: dict[int, tuple[Any, ...]]
    clinical: dict[int, _Clinical]
    records: dict[int, Patient]  # built when first needed (explanations) or re-matched
    site_of: dict[int, int]
    trials: dict[int, Trial]
    refs: dict[tuple[str, str], _Ref]
    problems: tuple[str, ...] = ()
    incremental: bool = False
    changed_patients: int = 0
    changed_trials: int = 0

    def records_for(self, pks: Iterable[int]) -> dict[int, Patient]:
        """The core records of these patients (read from the database once, then kept)."""
        missing = [
            pk for pk in dict.fromkeys(pks) if pk not in self.records and pk in self.clinical
        ]
        if missing:
            self.records.update(_patient_records(self.clinical, self.patient_sigs, missing))
        return {pk: self.records[pk] for pk in pks if pk in self.records}


_LOCK = threading.RLock()
_STATE: MatchingState | None = None


def reset_matching_cache() -> None:
    """Forget the per-process engine (the next call rebuilds it in full)."""
    global _STATE
    with _LOCK:
        _STATE = None


def _data_version(today: dt.date) -> tuple[Any, ...]:
    def agg(qs: Any, **kw: Any) -> tuple[Any, ...]:
        return tuple(sorted(qs.aggregate(n=Count("pk"), **kw).items()))

    return (
        today,
        agg(DbPatient.objects, m=Max("pk"), v=Sum("version"), c=Max("created_at")),
        agg(DbReport.objects.filter(superseded=False), m=Max("pk"), t=Max("imported_at")),
        agg(Sample.objects, m=Max("pk"), t=Max("created_at")),
        agg(FormInstance.objects.filter(form_name="ecog"), t=Max("updated_at")),
        agg(BaselineObservation.objects, m=Max("pk")),
        agg(PriorTherapyLine.objects, m=Max("pk")),
        agg(LabResult.objects, t=Max("updated_at"), m=Max("pk")),
        agg(DrugAdministration.objects, m=Max("pk")),
        agg(ScreeningEpisode.objects.filter(failure_reason="death"), m=Max("pk")),
        agg(DbTrial.objects, v=Sum("version"), c=Max("created_at")),
        agg(Cohort.objects, v=Sum("version"), m=Max("pk"), o=Count("pk", filter=Q(is_open=True))),
        agg(DoseLevel.objects, v=Sum("version"), m=Max("pk")),
        agg(TrialSite.objects, m=Max("pk"), a=Max("activated_on")),
        # a dose level with slots of its own is a match level
        agg(SlotAllocation.objects.exclude(dose_level=None), m=Max("pk")),
    )


def _unit_today() -> dt.date:
    """Today in the unit's time zone: the state is shared by every request of the process, so
    its date must not follow the time zone that a request activated for its user's site."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.DEFAULT_SITE_TIME_ZONE))


# Inside ``matching_inputs_unchanged``: the data version read on the block's first call, by day.
_PINNED: contextvars.ContextVar[dict[dt.date, tuple[Any, ...]] | None] = contextvars.ContextVar(
    "oncotrials_matching_pinned", default=None
)


@contextlib.contextmanager
def matching_inputs_unchanged() -> Iterator[None]:
    """Read the engine's data version once in the block, not once per call.

    Each call of the engine first reads fourteen aggregates to tell whether the database
    changed since the state was built. A caller that asks for many patients' matches in a row
    and writes nothing the engine reads in between (the tumour board's cases and
    recommendations) wraps those calls in this block: the first call checks and brings the
    state up to date as usual, the following ones reuse it while it is still the state that
    call left. Never around writes to patients, genomics, forms, screenings or trials.
    """
    if _PINNED.get() is not None:
        yield
        return
    token = _PINNED.set({})
    try:
        yield
    finally:
        _PINNED.reset(token)


def matching_state(*, today: dt.date | None = None) -> MatchingState:
    """The engine, brought up to date with the database (incrementally when it exists)."""
    global _STATE
    today = today or _unit_today()
    pinned = _PINNED.get()
    with _LOCK:
        state = _STATE
        known = pinned.get(today) if pinned is not None else None
        if state is not None and known is not None and state.version == known:
            return state
        version = _data_version(today)
        if pinned is not None:
            pinned[today] = version
        if state is not None and state.version == version:
            return state
        fresh = _build_full(version, today) if state is None else _update(state, version, today)
        _STATE = fresh
        return fresh


def build_full_state(*, today: dt.date | None = None) -> MatchingState:
    """A fresh full build, not cached (for comparisons and the command line)."""
    today = today or _unit_today()
    return _build_full(_data_version(today), today)


def _build_full(version: tuple[Any, ...], today: dt.date) -> MatchingState:
    sigs, clinical, site_of = _patient_signatures(today)
    trials, refs, problems = _core_trials()
    matcher = Matcher(list(trials.values()), _index(clinical, sigs), shipped_oncotree())
    return MatchingState(version, matcher, sigs, clinical, {}, site_of, trials, refs, problems)


def _update(state: MatchingState, version: tuple[Any, ...], today: dt.date) -> MatchingState:
    sigs, clinical, site_of = _patient_signatures(today)
    changed = [pk for pk, sig in sigs.items() if state.patient_sigs.get(pk) != sig]
    removed = [pk for pk in state.patient_sigs if pk not in sigs]
    matcher = state.matcher
    records = dict(state.records)
    for pk in removed:
        if matcher.has_patient(str(pk)):
            matcher.remove_patient(str(pk))
        records.pop(pk, None)
    fresh = _patient_records(clinical, sigs, changed)
    for pk, record in fresh.items():
        matcher.upsert_patient(record)
        records[pk] = record
    trials, refs, problems = _core_trials()
    changed_trials = 0
    for tid, trial in trials.items():
        if state.trials.get(tid) != trial:
            matcher.upsert_trial(trial)
            changed_trials += 1
    for tid in state.trials:
        if tid not in trials:
            matcher.remove_trial(str(tid))
            changed_trials += 1
    return MatchingState(
        version,
        matcher,
        sigs,
        clinical,
        records,
        site_of,
        trials,
        refs,
        problems,
        incremental=True,
        changed_patients=len(changed) + len(removed),
        changed_trials=changed_trials,
    )


# --------------------------------------------------------------------------- patients
@dataclass(frozen=True)
class _Clinical:
    diagnosis: str | None
    age: float | None
    sex: str | None
    ecog: int | None
    prior_lines: int | None
    labs: tuple[tuple[str, float], ...]
    therapies: frozenset[str] | None
    deceased: bool
    # where the ECOG and each lab value were recorded (a registration id; None: outside any
    # registration), for the explanations' masks (``hidden_values``)
    ecog_source: int | None = None
    lab_sources: tuple[tuple[str, int | None], ...] = ()


@functools.lru_cache(maxsize=4096)
def _diagnosis(code: str) -> str | None:
    if not code:
        return None
    from oncotrials.core.genomics.oncotree import load_oncotree

    resolved = load_oncotree().resolve(code)
    if resolved is None or resolved not in shipped_oncotree():
        return None
    return resolved


def _age(year_of_birth: int | None, today: dt.date) -> float | None:
    if not year_of_birth:
        return None
    midyear = dt.date(year_of_birth, 7, 2)
    return max(0.0, round((today - midyear).days / 365.25, 2))


#: Where a value was recorded: a registration id, or None outside any registration (at
#: referral or screening, a patient-level baseline observation).
Source = int | None


def _latest_values() -> tuple[
    dict[int, tuple[int, Source]], dict[int, dict[str, tuple[float, Source]]]
]:
    """Per patient, the ECOG and each lab value matching uses, with where each was recorded:
    the latest ``ecog`` CRF of any registration or baseline ECOG (by assessment day, then
    entry time), the latest value per analyte (by sampling day)."""
    # In id order, so that ties resolve the same way on every build.
    forms = FormInstance.objects.filter(form_name="ecog").order_by("pk")
    observations = BaselineObservation.objects.order_by("pk")
    lab_rows = LabResult.objects.order_by("pk")
    ecog: dict[int, tuple[str, dt.datetime, int, Source]] = {}
    for pid, rid, data, updated in forms.values_list(
        "registration__patient_id", "registration_id", "data", "updated_at"
    ):
        raw: Any = (data or {}).get("performance_status")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            continue
        if not 0 <= value <= 5:
            continue
        key = (str((data or {}).get("assessed_on") or ""), updated, value, rid)
        if pid not in ecog or key[:2] > ecog[pid][:2]:
            ecog[pid] = key
    # ECOG and labs recorded before any registration (referral, screening) count as well.
    rows = list(
        observations.values_list(
            "patient_id", "kind", "observed_on", "recorded_at", "analyte", "value"
        )
    )
    for pid, kind, on, recorded, _analyte, amount in rows:
        if kind != ObservationKind.ECOG:
            continue
        seen: tuple[str, dt.datetime, int, Source] = (on.isoformat(), recorded, int(amount), None)
        if pid not in ecog or seen[:2] > ecog[pid][:2]:
            ecog[pid] = seen
    dated: list[tuple[dt.date, int, str, Any, Source]] = [
        (on, pid, analyte, amount, None)
        for pid, kind, on, _recorded, analyte, amount in rows
        if kind == ObservationKind.LAB
    ]
    dated += list(
        lab_rows.values_list(
            "sampled_on", "registration__patient_id", "analyte", "value", "registration_id"
        )
    )
    labs: dict[int, dict[str, tuple[float, Source]]] = defaultdict(dict)
    for _on, pid, analyte, amount, source in sorted(dated, key=lambda row: row[0]):
        number = float(amount)
        if math.isfinite(number):
            labs[pid][analyte.lower()] = (number, source)
    return {pid: (k[2], k[3]) for pid, k in ecog.items()}, dict(labs)


def _patient_signatures(
    today: dt.date,
) -> tuple[dict[int, tuple[Any, ...]], dict[int, _Clinical], dict[int, int]]:
    """Each patient's clinical facts and current report ids (what a re-match depends on)."""
    ecog_of, labs_of = _latest_values()
    ecog = {pid: value for pid, (value, _source) in ecog_of.items()}
    labs = {
        pid: {name: value for name, (value, _source) in per.items()} for pid, per in labs_of.items()
    }
    therapies: dict[int, set[str]] = defaultdict(set)
    for pid, agent in DrugAdministration.objects.values_list(
        "registration__patient_id", "agent"
    ).distinct():
        therapies[pid].add(agent.strip().lower())
    # Prior lines recorded at referral or pre-screening: counted in the advanced setting, their
    # agents are prior therapies (stored " + "-joined).
    line_rows: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pid, line, setting, agents in PriorTherapyLine.objects.values_list(
        "patient_id", "line", "setting", "agents"
    ):
        line_rows[pid].append((line, setting))
        therapies[pid].update(a.strip().lower() for a in agents.split(" + ") if a.strip())
    for pid, therapy in Sample.objects.exclude(therapy="").values_list("patient_id", "therapy"):
        therapies[pid].update(t.lower() for t in _SPLIT.split(therapy) if t.strip())
    dead = set(
        ScreeningEpisode.objects.filter(failure_reason="death").values_list("patient_id", flat=True)
    )
    # Reports are named by id and content: ids can come back after a rollback (SQLite), so an
    # id alone could let a different report pass for one already matched.
    reports: dict[int, list[int]] = defaultdict(list)
    contents: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for pid, rid, digest, imported in (
        DbReport.objects.filter(superseded=False)
        .order_by("pk")
        .values_list("sample__patient_id", "pk", "content_hash", "imported_at")
    ):
        reports[pid].append(rid)
        contents[pid].append((digest, imported))
    sigs: dict[int, tuple[Any, ...]] = {}
    clinical: dict[int, _Clinical] = {}
    site_of: dict[int, int] = {}
    for pk, diagnosis, sex, yob, site_id in DbPatient.objects.values_list(
        "pk", "diagnosis", "sex", "year_of_birth", "site_id"
    ):
        facts = _Clinical(
            diagnosis=_diagnosis(diagnosis),
            age=_age(yob, today),
            sex={"F": "female", "M": "male"}.get(sex),
            ecog=ecog.get(pk),
            prior_lines=advanced_line_count(line_rows[pk]) if pk in line_rows else None,
            labs=tuple(sorted(labs.get(pk, {}).items())),
            therapies=frozenset(therapies[pk]) if pk in therapies else None,
            deceased=pk in dead,
            ecog_source=ecog_of[pk][1] if pk in ecog_of else None,
            lab_sources=tuple(sorted((n, src) for n, (_v, src) in labs_of.get(pk, {}).items())),
        )
        clinical[pk] = facts
        site_of[pk] = site_id
        sigs[pk] = (facts, tuple(reports.get(pk, ())), tuple(contents.get(pk, ())))
    return sigs, clinical, site_of


@functools.lru_cache(maxsize=64)
def _classes(tier: str, oncogenicity: str = "unknown") -> frozenset[str]:
    """Knowledge-base classes of a row: its ESCAT tier and group, its OncoKB oncogenicity
    (``oncogenic``, ``likely_oncogenic``, ``vus``...) when stated."""
    out = set() if oncogenicity in ("", "unknown") else {oncogenicity}
    if tier:
        compact = tier.replace("-", "").lower()
        group = tier.split("-")[0].lower()
        out |= {f"escat:{compact}", f"escat:{group}"}
    return frozenset(out)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


# One alteration row, normalised as the core's Alteration does (gene and partner symbols
# upper-case, classes lower-case): gene, category, protein change, copy-number call, fusion
# partner, variant classification, classes, origin, exon (of the gene; of a fusion's first gene
# at its breakpoint), the fusion partner's exon.
_Row = tuple[
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    frozenset[str],
    str,
    int | None,
    int | None,
]


@functools.lru_cache(maxsize=65_536)
def _symbol(value: str | None) -> str | None:
    """A gene symbol as the core normalises it, or None when it is not one."""
    text = (value or "").strip()
    return text.upper() if text and GENE_RE.match(text) else None


@dataclass
class _Genomics:
    """Current alteration rows and biomarkers per research patient (pk)."""

    rows: dict[int, dict[_Row, None]] = field(default_factory=lambda: defaultdict(dict))
    tmb: dict[int, tuple[int, float]] = field(default_factory=dict)
    msi: dict[int, tuple[int, str]] = field(default_factory=dict)
    signatures: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


def _values(model: Any, report_ids: Sequence[int] | None, fields: tuple[str, ...]) -> Iterable[Any]:
    """Current rows of ``model``: of the given reports, or (None) of every report."""
    if report_ids is None:
        yield from (
            model.objects.filter(current=True)
            .values_list("report_id", *fields)
            .iterator(chunk_size=20_000)
        )
        return
    for chunk in _chunks(report_ids):
        yield from model.objects.filter(report_id__in=chunk, current=True).values_list(
            "report_id", *fields
        )


def _genomics(report_ids: Sequence[int] | None, current: set[int]) -> _Genomics:
    """Read the rows of current reports (``current``: their ids; ``report_ids``: which to
    read, None for all). A row without a gene symbol is not matchable and is left out."""
    g = _Genomics()
    for rid, pid, gene, change, vclass, tier, origin, oncogenicity in _values(
        Mutation,
        report_ids,
        (
            "patient_id",
            "gene",
            "protein_change",
            "variant_class",
            "escat_tier",
            "origin",
            "oncogenicity",
        ),
    ):
        symbol = _symbol(gene)
        if rid in current and symbol:
            classes = _classes(tier, oncogenicity)
            row: _Row = (
                symbol,
                "mutation",
                change or None,
                None,
                None,
                vclass or None,
                classes,
                origin,
                None,
                None,
            )
            g.rows[pid][row] = None
    for rid, pid, gene, call, tier in _values(
        CopyNumberAlteration, report_ids, ("patient_id", "gene", "call", "escat_tier")
    ):
        symbol = _symbol(gene)
        if rid in current and symbol and call in _CN:
            row = (
                symbol,
                "cnv",
                None,
                _CN[call],
                None,
                None,
                _classes(tier),
                "unknown",
                None,
                None,
            )
            g.rows[pid][row] = None
    for rid, pid, g1, g2, tier, somatic, x1, x2 in _values(
        StructuralVariant,
        report_ids,
        ("patient_id", "gene1", "gene2", "escat_tier", "somatic", "site1_exon", "site2_exon"),
    ):
        gene, partner = (g1 or g2), (g2 if g1 else "")
        exon, partner_exon = (x1, x2) if g1 else (x2, None)
        symbol, other = _symbol(gene), _symbol(partner)
        if rid in current and symbol and (other is not None or not partner):
            # SV_Status GERMLINE is stored as somatic=False; True is also the unstated default.
            origin = "unknown" if somatic else "germline"
            row = (
                symbol,
                "sv",
                None,
                None,
                other,
                None,
                _classes(tier),
                origin,
                exon,
                partner_exon,
            )
            g.rows[pid][row] = None
    for rid, pid, kind, value, status, name in _values(
        Biomarker, report_ids, ("patient_id", "kind", "value", "status", "name")
    ):
        if rid not in current:
            continue
        if kind == "TMB" and value is not None and math.isfinite(value) and value >= 0:
            if pid not in g.tmb or rid > g.tmb[pid][0]:
                g.tmb[pid] = (rid, float(value))
        elif kind == "MSI":
            text = (status or "").strip().lower()
            msi_call = _MSI.get(text) or _MSS.get(text)
            if msi_call and (pid not in g.msi or rid > g.msi[pid][0]):
                g.msi[pid] = (rid, msi_call)
        elif kind == "SIGNATURE" and (name or status):
            g.signatures[pid].add((name or status).strip().lower())
    return g


def _report(g: _Genomics, pid: int) -> GenomicReport:
    alterations: list[Alteration] = []
    for (
        gene,
        category,
        change,
        cn_call,
        partner,
        vclass,
        classes,
        origin,
        exon,
        pexon,
    ) in g.rows.get(pid, {}):
        with contextlib.suppress(ValidationError):
            alterations.append(
                Alteration(
                    gene=gene,
                    category=category,
                    protein_change=change,
                    exon=exon,
                    cn_call=cn_call,
                    fusion_partner=partner,
                    variant_classification=vclass,
                    classes=classes,
                    origin=origin,
                    partner_exon=pexon,
                )
            )
    return GenomicReport(
        alterations=tuple(alterations),
        tmb=g.tmb[pid][1] if pid in g.tmb else None,
        msi=g.msi[pid][1] if pid in g.msi else None,
        signatures=frozenset(g.signatures.get(pid, ())),
    )


def _patient_records(
    clinical: dict[int, _Clinical], sigs: dict[int, tuple[Any, ...]], pks: Sequence[int]
) -> dict[int, Patient]:
    """Core records of some patients (incremental updates, explanations)."""
    report_ids = [rid for pk in pks for rid in sigs[pk][1]]
    g = _genomics(report_ids, set(report_ids))
    return {pk: _record(pk, clinical[pk], g if sigs[pk][1] else None) for pk in pks}


def _record(pk: int, c: _Clinical, g: _Genomics | None) -> Patient:
    return Patient(
        id=str(pk),
        diagnosis=c.diagnosis,
        age=c.age,
        sex=c.sex,
        ecog=c.ecog,
        prior_lines=c.prior_lines,
        prior_therapies=c.therapies,
        labs=dict(c.labs),
        deceased=c.deceased,
        report=None if g is None else _report(g, pk),
    )


def _index(clinical: dict[int, _Clinical], sigs: dict[int, tuple[Any, ...]]) -> PatientIndex:
    """The engine's columnar index of every patient, read in bulk (no per-row records): the
    same columns :meth:`PatientIndex.from_patients` builds from records (tested equal)."""
    current = {rid for sig in sigs.values() for rid in sig[1]}
    g = _genomics(None, current)
    pks = list(sigs)
    n = len(pks)
    genes, proteins, wildcards, vclasses, diag = Vocab(), Vocab(), Vocab(), Vocab(), Vocab()
    therapies: dict[str, NDArray[np.bool_]] = {}
    labs: dict[str, NDArray[np.float64]] = {}
    signatures: dict[str, NDArray[np.bool_]] = {}
    facts = [clinical[pk] for pk in pks]
    reported = [bool(sigs[pk][1]) for pk in pks]
    slots: list[int] = []
    flat: list[_Row] = []
    for slot, (pk, c) in enumerate(zip(pks, facts, strict=True)):
        for t in c.therapies or ():
            therapies.setdefault(t, np.zeros(n, dtype=bool))[slot] = True
        for name, value in c.labs:
            labs.setdefault(name, np.full(n, np.nan))[slot] = value
        if not reported[slot]:
            continue
        for sig in g.signatures.get(pk, ()):
            signatures.setdefault(sig, np.zeros(n, dtype=bool))[slot] = True
        mine = g.rows.get(pk)
        if mine:
            flat.extend(mine)
            slots.extend([slot] * len(mine))
    n_rows = len(flat)
    gene_c, cat_c, prot_c, cn_c, partner_c, vc_c, cls_c, origin_c, exon_c, pexon_c = (
        zip(*flat, strict=True) if flat else ((),) * 10
    )

    def codes(values: Sequence[str | None], vocab: Vocab) -> NDArray[np.int32]:
        return np.fromiter(
            (NONE if v is None else vocab.add(v) for v in values), dtype=np.int32, count=n_rows
        )

    wild_of: dict[str | None, str | None] = {}
    for change in set(prot_c):
        wild_of[change] = wildcard_key(change)
    row_classes: dict[str, NDArray[np.bool_]] = {}
    for i, classes in enumerate(cls_c):
        for cls in classes:
            row_classes.setdefault(cls, np.zeros(n_rows, dtype=bool))[i] = True
    cn_index = {c: i for i, c in enumerate(CN_CALLS)}
    patients = PatientColumns(
        ids=[str(pk) for pk in pks],
        reported=np.array(reported, dtype=bool),
        deceased=np.array([c.deceased for c in facts], dtype=bool),
        diagnosis=np.array(
            [NONE if c.diagnosis is None else diag.add(c.diagnosis) for c in facts], dtype=np.int32
        ),
        diagnosis_codes=diag.values,
        age=np.array([np.nan if c.age is None else c.age for c in facts], dtype=float),
        sex=np.array([NONE if c.sex is None else SEXES.index(c.sex) for c in facts], dtype=np.int8),
        ecog=np.array([NONE if c.ecog is None else c.ecog for c in facts], dtype=np.int8),
        prior_lines=np.array(
            [NONE if c.prior_lines is None else c.prior_lines for c in facts], dtype=np.int16
        ),
        therapies_known=np.array([c.therapies is not None for c in facts], dtype=bool),
        therapies=therapies,
        labs=labs,
        tmb=np.array(
            [g.tmb[pk][1] if reported[i] and pk in g.tmb else np.nan for i, pk in enumerate(pks)],
            dtype=float,
        ),
        msi=np.array(
            [
                MSI_STATUSES.index(g.msi[pk][1]) if reported[i] and pk in g.msi else NONE
                for i, pk in enumerate(pks)
            ],
            dtype=np.int8,
        ),
        signatures=signatures,
    )
    rows = RowColumns(
        patient=np.array(slots, dtype=np.int32),
        gene=codes(gene_c, genes),
        category=np.fromiter(
            (row_bit(c, o) for c, o in zip(cat_c, origin_c, strict=True)),
            dtype=np.uint16,
            count=n_rows,
        ),
        protein=codes(prot_c, proteins),
        wildcard=codes([wild_of[c] for c in prot_c], wildcards),
        exon=np.fromiter((NONE if x is None else x for x in exon_c), dtype=np.int16, count=n_rows),
        cn_call=np.fromiter(
            (NONE if c is None else cn_index[c] for c in cn_c), dtype=np.int8, count=n_rows
        ),
        partner=codes(partner_c, genes),
        vclass=codes(vc_c, vclasses),
        classes=row_classes,
        partner_exon=np.fromiter(
            (NONE if x is None else x for x in pexon_c), dtype=np.int16, count=n_rows
        ),
    )
    return PatientIndex(
        patients, rows, genes=genes, proteins=proteins, wildcards=wildcards, vclasses=vclasses
    )


# ----------------------------------------------------------------------------- trials
def _and(*nodes: Node | None) -> Node | None:
    parts: list[Node] = []
    for node in nodes:
        if isinstance(node, And):
            parts.extend(node.children)
        elif node is not None:
            parts.append(node)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _core_trials() -> tuple[dict[int, Trial], dict[tuple[str, str], _Ref], tuple[str, ...]]:
    """Core trials (only those with machine criteria somewhere) and their levels' objects."""
    tree = shipped_oncotree()
    problems: list[str] = []
    own_slots = set(
        SlotAllocation.objects.exclude(dose_level=None).values_list("dose_level_id", flat=True)
    )

    def parse(raw: Any, label: str) -> Node | None:
        if raw is None:
            return None
        try:
            return parse_criteria(raw, source=label, oncotree=tree)
        except ValidationError as exc:
            problems.append(exc.message)
            return None

    trials: dict[int, Trial] = {}
    refs: dict[tuple[str, str], _Ref] = {}
    for t in DbTrial.objects.prefetch_related("cohorts__dose_levels").order_by("pk"):
        tid = str(t.pk)
        t_open = t.status == TrialStatus.OPEN
        t_crit = parse(t.match_criteria, t.protocol_code)
        cohorts = list(t.cohorts.all())
        # CTML (MatchMiner): the trial, each cohort and each dose level are independent
        # levels, each matched on its own criteria only; our format: cohorts inherit.
        independent = t.match_levels == "independent"
        levels: list[Level] = []
        if (independent or not cohorts) and t_crit is not None:
            levels.append(Level(tid, "trial", "", t.protocol_code, t_open, None, t_crit))
            refs[(tid, "")] = _Ref(t.pk, None, ())
        for c in cohorts:
            c_own = parse(c.match_criteria, f"{t.protocol_code} {c.code}")
            c_crit = c_own if independent else _and(t_crit, c_own)
            c_open = t_open and c.is_open
            if c_crit is not None:
                levels.append(Level(tid, "cohort", c.code, c.name, c_open, None, c_crit))
                refs[(tid, c.code)] = _Ref(t.pk, c.pk, ())
            by_level: dict[int, list[DoseLevel]] = defaultdict(list)
            for d in c.dose_levels.all():
                by_level[d.level].append(d)
            for number, rows in sorted(by_level.items()):
                own = _and(
                    *(
                        parse(d.match_criteria, f"{t.protocol_code} {c.code} DL{number}")
                        for d in rows
                    )
                )
                if own is None and not any(d.pk in own_slots for d in rows):
                    continue
                # independent: a dose level with slots of its own but no criteria of its own
                # is matched on its cohort's criteria (the level the slots belong to)
                d_crit = (own if own is not None else c_crit) if independent else _and(c_crit, own)
                if d_crit is None:
                    continue
                path = f"{c.code}/DL{number}"
                name = f"DL{number} " + " + ".join(
                    f"{d.agent} {plain(d.dose)} {d.unit}" for d in rows
                )
                levels.append(Level(tid, "dose_level", path, name, c_open, None, d_crit))
                refs[(tid, path)] = _Ref(t.pk, c.pk, tuple(d.pk for d in rows))
        if levels:
            trials[t.pk] = Trial(tid, t.title, t_open, tuple(levels), source=t.protocol_code)
    return trials, refs, tuple(problems)


# --------------------------------------------------------------------- open and slots
class _Availability:
    """Site participation and free slots, read once per request."""

    def __init__(self, trial_ids: Iterable[int], today: dt.date) -> None:
        ids = list(trial_ids)
        self.sites: dict[int, set[int]] = defaultdict(set)
        for tid, site_id, activated in TrialSite.objects.filter(trial_id__in=ids).values_list(
            "trial_id", "site_id", "activated_on"
        ):
            if activated is None or activated <= today:
                self.sites[tid].add(site_id)
        self.managed: set[int] = set()
        # (cohort, dose level or None, site) -> free slots of allocations in force today
        self.free: dict[tuple[int, int | None, int], int] = defaultdict(int)
        allocations = SlotAllocation.objects.filter(cohort__trial_id__in=ids)
        self.managed.update(allocations.values_list("cohort_id", flat=True))
        in_force = allocations.filter(open_from__lte=today).filter(
            Q(open_until=None) | Q(open_until__gte=today)
        )
        for row in slot_summary_for(allocations=in_force):
            a = row["allocation"]
            self.free[(a.cohort_id, a.dose_level_id, a.site_id)] += row["free"]

    def is_open(self, trial: DbTrial, cohort: Cohort | None, site_id: int) -> bool:
        """Read from the rows of this request, not from the cached levels."""
        return (
            trial.status == TrialStatus.OPEN
            and (cohort is None or cohort.is_open)
            and site_id in self.sites.get(trial.pk, set())
        )

    def slots(self, ref: _Ref, site_id: int) -> int | None:
        if ref.cohort_id is None or ref.cohort_id not in self.managed:
            return None
        if ref.dose_level_ids:
            keys: list[tuple[int, int | None, int]] = [
                (ref.cohort_id, d, site_id) for d in ref.dose_level_ids
            ]
            keys.append((ref.cohort_id, None, site_id))
            return sum(self.free.get(k, 0) for k in keys)
        return sum(n for (c, _d, s), n in self.free.items() if c == ref.cohort_id and s == site_id)


# ------------------------------------------------------------------------ explanations
def why_not(ex: Explanation) -> str:
    """The first clause a level fails on, as one line ("" when it matches)."""
    failed = first_failure(ex)
    if failed is None:
        return ""
    value = _TRUTH[failed.truth]
    return f"{failed.criterion}: {value}" + (f" ({failed.reason})" if failed.reason else "")


def _registrations(patient_ids: Iterable[int], trial_ids: Iterable[int]) -> dict[Any, str]:
    """(patient pk, trial pk) -> the latest registration status of the patient in the trial."""
    out: dict[Any, str] = {}
    rows = Registration.objects.filter(
        patient_id__in=list(patient_ids), trial_id__in=list(trial_ids)
    ).order_by("pk")
    for pid, tid, status in rows.values_list("patient_id", "trial_id", "status"):
        out[(pid, tid)] = status
    return out


def explanation_rows(ex: Explanation, depth: int = 0) -> list[dict[str, Any]]:
    """The explanation tree as rows: criterion, met / not met / unknown, why, evidence, depth."""
    rows = [
        {
            "criterion": ex.criterion,
            "value": _TRUTH[ex.truth],
            "reason": ex.reason,
            "evidence": list(ex.evidence),
            "depth": depth,
        }
    ]
    for child in ex.children:
        rows.extend(explanation_rows(child, depth + 1))
    return rows


# ------------------------------------------------------------- therapies the viewer may not see
def _therapy_names(text: str) -> set[str]:
    return {text.strip().lower()} if text.strip() else set()


def hidden_therapies(user: MatchingActor, patients: Iterable[Any]) -> dict[int, dict[str, str]]:
    """Per patient, the prior therapies the user may know only through records they may not
    see, each with where it was recorded (``"trial"`` or ``"baseline"``).

    The engine matches every patient on all their prior therapies (eligibility must account for
    them all), agents administered in any trial included. An agent is *hidden* from the user
    when every administration of it is in a registration the user may not see, or in one whose
    blinded arm the user may not know (the agent would tell the arm), or when it is recorded in
    a prior line (at referral or pre-screening) and the user may not see those
    (``subjects.selectors.pre_registration_visible_to``); and no visible source (a visible
    administration, a visible prior line, a genomic sample) records it. Patients without hidden
    therapies are left out."""
    if user is SYSTEM:
        return {}
    site_of = {p.pk: p.site_id for p in patients}
    ids = list(site_of)
    pre = {
        site_id: pre_registration_visible_to(user=user, site_id=site_id)
        for site_id in set(site_of.values())
    }
    rows = list(
        DrugAdministration.objects.filter(registration__patient_id__in=ids)
        .values_list("registration_id", "registration__patient_id", "agent")
        .distinct()
    )
    # Prior lines the user may not see (read only when there are some to mask).
    unseen = [pid for pid, site_id in site_of.items() if not pre[site_id]]
    line_rows = (
        list(
            PriorTherapyLine.objects.filter(patient_id__in=unseen).values_list(
                "patient_id", "agents"
            )
        )
        if unseen
        else []
    )
    # Therapies recorded on genomic samples the user may not see (a specimen of another trial).
    sample_rows = list(
        genomic_samples_hidden_from(user)
        .filter(patient_id__in=ids)
        .exclude(therapy="")
        .values_list("patient_id", "therapy")
    )
    if not rows and not line_rows and not sample_rows:
        return {}
    reg_ids = {rid for rid, _pid, _agent in rows}
    visible = set(
        registrations_visible_to(user).filter(pk__in=reg_ids).values_list("pk", flat=True)
    )
    regs = Registration.objects.filter(pk__in=visible).select_related(
        "patient", "trial__randomisation_scheme"
    )
    shown_regs = {r.pk for r in regs if arm_visible_to(user=user, registration=r)}
    hidden: dict[int, dict[str, str]] = defaultdict(dict)
    shown: dict[int, set[str]] = defaultdict(set)
    for rid, pid, agent in rows:
        if rid in shown_regs:
            shown[pid].update(_therapy_names(agent))
        else:
            hidden[pid].update(dict.fromkeys(_therapy_names(agent), "trial"))
    for pid, agents in line_rows:
        for a in agents.split(" + "):
            for name in _therapy_names(a):
                hidden[pid].setdefault(name, "baseline")
    for pid, therapy in sample_rows:
        for t in _SPLIT.split(therapy):
            if t.strip():
                hidden[pid].setdefault(t.lower(), "trial")
    if not hidden:
        return {}
    wanted = list(hidden)
    for pid, agents in PriorTherapyLine.objects.filter(
        patient_id__in=[pid for pid in wanted if pre[site_of[pid]]]
    ).values_list("patient_id", "agents"):
        for a in agents.split(" + "):
            shown[pid].update(_therapy_names(a))
    for pid, therapy in (
        genomic_samples_visible_to(user)
        .filter(patient_id__in=wanted)
        .exclude(therapy="")
        .values_list("patient_id", "therapy")
    ):
        shown[pid].update(t.lower() for t in _SPLIT.split(therapy) if t.strip())
    out = {
        pid: {a: where for a, where in agents.items() if a not in shown[pid]}
        for pid, agents in hidden.items()
    }
    return {pid: agents for pid, agents in out.items() if agents}


def mask_hidden_therapies(ex: Explanation, hidden: Mapping[str, str]) -> Explanation:
    """The explanation with the detail of a hidden prior therapy masked: the criterion (the
    trial's own text) and its value stay, so the decision is unchanged; the reason no longer
    says the agent was received, only that it was recorded where the user may not see it."""
    if not hidden:
        return ex
    texts: dict[str, str] = {}
    for a, where in hidden.items():
        texts[describe(Category("prior_therapy", a))] = where
        texts[f"no prior {a}"] = where
    return _mask(ex, texts)


def _mask(ex: Explanation, texts: Mapping[str, str]) -> Explanation:
    if ex.children:
        return dataclasses.replace(ex, children=tuple(_mask(c, texts) for c in ex.children))
    if ex.reason == "received" and ex.criterion in texts:
        if texts[ex.criterion] == "trial":
            reason = gettext("a prior therapy recorded in a trial you may not see")
        else:
            reason = gettext(
                "a prior therapy recorded at referral or screening, which you may not see"
            )
        return dataclasses.replace(ex, reason=reason)
    return ex


# ------------------------------------------------------ ECOG and labs the viewer may not see
@dataclass(frozen=True)
class HiddenValues:
    """For one patient, the values matching uses that the viewer may not see: ``ecog`` and
    each of ``labs`` (by analyte) say where the hidden value was recorded, ``"trial"`` (a
    registration the viewer may not see) or ``"baseline"`` (at referral or screening, which the
    viewer may not see)."""

    ecog: str | None = None
    labs: dict[str, str] = field(default_factory=dict)
    # the count of prior lines (recorded at referral or pre-screening only)
    prior_lines: bool = False

    def __bool__(self) -> bool:
        return self.ecog is not None or bool(self.labs) or self.prior_lines


def hidden_values(
    user: MatchingActor, patients: Iterable[Any], clinical: Mapping[int, _Clinical]
) -> dict[int, HiddenValues]:
    """Per patient, the ECOG, lab values and count of prior lines that matching uses (their
    facts in ``clinical``, with where each was recorded) and ``user`` may not see.

    The engine matches every patient on their latest ECOG and latest value of each analyte,
    wherever it was recorded (eligibility must use them all). A value is *hidden* from the user
    when it was recorded in a registration the user may not see
    (``subjects.selectors.registrations_visible_to``), or outside any registration (at referral
    or screening; prior lines always are) for a user who may not see those
    (``subjects.selectors.pre_registration_visible_to``). Patients with nothing hidden are left
    out."""
    if user is SYSTEM:
        return {}
    facts = {p.pk: (p, clinical[p.pk]) for p in patients if p.pk in clinical}
    reg_ids = {f.ecog_source for _p, f in facts.values() if f.ecog is not None} | {
        src for _p, f in facts.values() for _n, src in f.lab_sources
    }
    reg_ids.discard(None)
    visible = (
        set(registrations_visible_to(user).filter(pk__in=reg_ids).values_list("pk", flat=True))
        if reg_ids
        else set()
    )
    pre: dict[int, bool] = {}

    def where(patient: Any, source: Source) -> str | None:
        if source is not None:
            return None if source in visible else "trial"
        if patient.site_id not in pre:
            pre[patient.site_id] = pre_registration_visible_to(user=user, site_id=patient.site_id)
        return None if pre[patient.site_id] else "baseline"

    out: dict[int, HiddenValues] = {}
    for pid, (patient, f) in facts.items():
        hidden = HiddenValues(
            ecog=where(patient, f.ecog_source) if f.ecog is not None else None,
            labs={name: w for name, src in f.lab_sources if (w := where(patient, src)) is not None},
            prior_lines=f.prior_lines is not None and where(patient, None) is not None,
        )
        if hidden:
            out[pid] = hidden
    return out


def _value_mask(field_name: str, lab: str | None, where: str) -> str:
    if field_name == "ecog":
        if where == "trial":
            return gettext("an ECOG recorded in a trial you may not see")
        return gettext("an ECOG recorded at referral or screening, which you may not see")
    if where == "trial":
        return gettext("a %(lab)s value recorded in a trial you may not see") % {"lab": lab}
    return gettext("a %(lab)s value recorded at referral or screening, which you may not see") % {
        "lab": lab
    }


def mask_hidden_values(ex: Explanation, criteria: Node, hidden: HiddenValues | None) -> Explanation:
    """The explanation of ``criteria`` with the hidden ECOG and lab values masked: the criterion
    (the trial's own text) and its value (met, not met) stay, so the decision is unchanged; the
    reason no longer gives the value, only that it was recorded where the user may not see it.
    The explanation mirrors the criteria tree (an exclusion keeps the shape of what it
    excludes), so each numeric criterion is found by walking both together."""
    if not hidden:
        return ex
    return _mask_leaves(ex, criteria, lambda leaf, node: _mask_value(leaf, node, hidden))


def _mask_leaves(
    ex: Explanation, criteria: Node, leaf: Callable[[Explanation, Node], Explanation]
) -> Explanation:
    """``ex`` with ``leaf(explanation, criterion)`` applied to each leaf criterion. The
    explanation mirrors the criteria tree (an exclusion keeps the shape of what it excludes),
    so the two are walked together; where they differ, the explanation is kept as it is."""
    node = criteria
    while isinstance(node, Not):
        node = node.child
    if isinstance(node, And | Or):
        if len(node.children) != len(ex.children):
            return ex
        kids = tuple(
            _mask_leaves(k, c, leaf) for k, c in zip(ex.children, node.children, strict=True)
        )
        return dataclasses.replace(ex, children=kids)
    if ex.children:
        return ex
    return leaf(ex, node)


def _mask_value(ex: Explanation, node: Node, hidden: HiddenValues) -> Explanation:
    """One leaf of ``mask_hidden_values``."""
    if not isinstance(node, Numeric) or not ex.reason.startswith("value "):
        return ex
    if node.field == "prior_lines" and hidden.prior_lines:
        return dataclasses.replace(
            ex,
            reason=gettext("prior lines recorded at referral or screening, which you may not see"),
        )
    if node.field == "ecog" and hidden.ecog is not None:
        return dataclasses.replace(ex, reason=_value_mask("ecog", None, hidden.ecog))
    if node.field == "lab" and node.lab is not None and node.lab in hidden.labs:
        where = hidden.labs[node.lab]
        return dataclasses.replace(ex, reason=_value_mask("lab", node.lab, where))
    return ex


# ------------------------------------------- genomic results the viewer may not see
@dataclass(frozen=True)
class HiddenGenomics:
    """For one patient, what matching reads from reports the viewer may not see (a specimen
    collected under a registration the viewer may not see: ``genomics.selectors``
    ``reports_for_user``): ``visible`` is the record of the reports the viewer may see (None:
    they see none), ``tmb``/``msi`` say the patient's TMB or MSI came from a hidden report,
    ``signatures`` are those found only in hidden reports."""

    visible: GenomicReport | None
    tmb: bool = False
    msi: bool = False
    signatures: frozenset[str] = frozenset()

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(
            a.label() for a in (self.visible.alterations if self.visible is not None else ())
        )

    @property
    def count(self) -> int:
        return len(self.visible.alterations) if self.visible is not None else 0


def hidden_genomics(
    user: MatchingActor, patients: Iterable[Any], sigs: Mapping[int, tuple[Any, ...]]
) -> dict[int, HiddenGenomics]:
    """Per patient, the genomic results that matching uses (every current report: eligibility
    must account for every alteration) and ``user`` may not see (``HiddenGenomics``).
    Patients with nothing hidden are left out."""
    if user is SYSTEM:
        return {}
    current = {p.pk: list(sigs[p.pk][1]) for p in patients if p.pk in sigs and sigs[p.pk][1]}
    ids = [rid for rids in current.values() for rid in rids]
    if not ids:
        return {}
    unseen: set[int] = set()
    for chunk in _chunks(ids):  # no query when nothing can be hidden from the user
        unseen.update(
            DbReport.objects.filter(
                pk__in=chunk, sample__in=genomic_samples_hidden_from(user)
            ).values_list("pk", flat=True)
        )
    out: dict[int, HiddenGenomics] = {}
    for pid, rids in current.items():
        hidden = {rid for rid in rids if rid in unseen}
        if not hidden:
            continue
        seen = [rid for rid in rids if rid not in unseen]
        every = _genomics(rids, set(rids))
        part = _genomics(seen, set(seen))
        out[pid] = HiddenGenomics(
            visible=_report(part, pid) if seen else None,
            tmb=pid in every.tmb and every.tmb[pid][0] in hidden,
            msi=pid in every.msi and every.msi[pid][0] in hidden,
            signatures=frozenset(
                every.signatures.get(pid, set()) - part.signatures.get(pid, set())
            ),
        )
    return out


def _found_mask() -> str:
    return gettext("an alteration found in a specimen from a trial you may not see")


def _hits_masked(hits: Sequence[str], hidden: HiddenGenomics) -> tuple[str, ...] | None:
    """The hits the viewer may see, or None when every hit is visible (nothing to mask)."""
    labels = hidden.labels
    shown = tuple(h for h in hits if h in labels)
    return None if len(shown) == len(hits) else shown


def mask_hidden_genomics(
    ex: Explanation, criteria: Node, hidden: HiddenGenomics | None
) -> Explanation:
    """The explanation of ``criteria`` with the genomic results of hidden reports masked: the
    criterion and its value (met, not met) stay, so the decision is unchanged; an alteration,
    a TMB, an MSI status or a signature found only in a report the viewer may not see is not
    named (the reason says it was found in a specimen from a trial the viewer may not see), and
    counts of alterations are those of the reports the viewer may see. Walks the criteria tree
    with the explanation, as ``mask_hidden_values`` does."""
    if not hidden:
        return ex
    return _mask_leaves(ex, criteria, lambda leaf, node: _mask_genomic(leaf, node, hidden))


def _mask_genomic(ex: Explanation, node: Node, hidden: HiddenGenomics) -> Explanation:
    """One leaf of ``mask_hidden_genomics``."""
    if isinstance(node, Genomic):
        if ex.reason.startswith("found: ") or ex.reason.endswith(" present"):
            shown = _hits_masked(ex.evidence, hidden)
            if shown is None:
                return ex
            listed = ", ".join(shown)
            if ex.reason.startswith("found: "):
                reason = f"found: {listed}; {_found_mask()}" if shown else _found_mask()
            else:
                reason = f"{listed} present; {_found_mask()}" if shown else _found_mask()
            return dataclasses.replace(ex, reason=reason, evidence=shown)
        if ex.reason.startswith("no matching alteration among "):
            return dataclasses.replace(
                ex, reason=f"no matching alteration among {hidden.count} reported"
            )
        if ex.reason.startswith("none among "):
            return dataclasses.replace(ex, reason=f"none among {hidden.count} reported")
        return ex
    if isinstance(node, Numeric) and node.field == "tmb" and hidden.tmb:
        if ex.reason.startswith("value "):
            return dataclasses.replace(
                ex, reason=gettext("a TMB found in a specimen from a trial you may not see")
            )
        return ex
    if isinstance(node, Category) and node.field == "msi" and hidden.msi:
        if ex.reason.startswith("MSI "):
            return dataclasses.replace(
                ex,
                reason=gettext("an MSI status found in a specimen from a trial you may not see"),
            )
        return ex
    if isinstance(node, Category) and node.field == "signature" and hidden.signatures:
        prefix = "signatures found: "
        if ex.reason.startswith(prefix):
            found = [x for x in ex.reason.removeprefix(prefix).split(", ") if x != "none"]
            shown_sigs = [x for x in found if x not in hidden.signatures]
            mask = gettext("a signature found in a specimen from a trial you may not see")
            reason = prefix + ", ".join(shown_sigs) + "; " + mask if shown_sigs else mask
            return dataclasses.replace(ex, reason=reason)
    return ex


def masked_explanation(
    criteria: Node,
    record: Patient,
    tree: Any,
    therapies: Mapping[str, str],
    values: HiddenValues | None,
    genomics: HiddenGenomics | None = None,
) -> Explanation:
    """``explain`` as a viewer may read it: hidden prior therapies, hidden ECOG and lab
    values and genomic results of reports the viewer may not see masked (see
    ``hidden_therapies``, ``hidden_values`` and ``hidden_genomics``)."""
    ex = mask_hidden_genomics(explain(criteria, record, tree), criteria, genomics)
    return mask_hidden_therapies(mask_hidden_values(ex, criteria, values), therapies)


# ----------------------------------------------------------------------------- access
def _may_match(user: MatchingActor) -> bool:
    if user is SYSTEM:
        return True
    scope = scope_for(user)
    return scope.is_admin or allows(scope.roles(), Action.READ_MATCHES)


def _require(user: MatchingActor) -> None:
    if not _may_match(user):
        raise PermissionDeniedError(
            gettext(
                "Trial matching is for the unit's clinical and tumour-board staff; a sponsor "
                "monitor's or an outsider's account does not see it."
            ),
            code="matching_forbidden",
        )


def _visible_trial_ids(user: MatchingActor) -> set[int] | None:
    if user is SYSTEM:
        return None
    return set(trials_visible_to(user).values_list("pk", flat=True))


def _visible_patients(user: MatchingActor) -> Any:
    return DbPatient.objects.all() if user is SYSTEM else patients_visible_to(user)


def _trial_roles_ok(user: MatchingActor, trial: DbTrial) -> None:
    if user is SYSTEM:
        return
    roles = roles_on(user, trial)
    if not roles:
        raise NotFoundError(
            gettext("No trial %(trial_id)s that you may see.") % {"trial_id": trial.pk}
        )
    if not allows(roles, Action.READ_MATCHES):
        raise PermissionDeniedError(
            gettext(
                "Trial matching is for the unit's clinical and tumour-board staff; a sponsor "
                "monitor's account does not see it."
            ),
            code="matching_forbidden",
        )


# -------------------------------------------------------------------------- public API
def _objects(
    refs: Iterable[_Ref],
) -> tuple[dict[int, DbTrial], dict[int, Cohort], dict[int, DoseLevel]]:
    refs = list(refs)
    trials = DbTrial.objects.in_bulk({r.trial_id for r in refs})
    cohorts = Cohort.objects.in_bulk({r.cohort_id for r in refs if r.cohort_id is not None})
    doses = DoseLevel.objects.in_bulk({d for r in refs for d in r.dose_level_ids})
    return trials, cohorts, doses


def matches_for_patient(
    *,
    user: MatchingActor,
    patient: Any,
    include_non_matches: bool = False,
    trial: DbTrial | None = None,
    today: dt.date | None = None,
) -> list[CohortMatch]:
    """The levels of the trials ``user`` may see that ``patient`` matches, with explanations.

    Each level says why it fails (``why_not``: its first failing clause) and the patient's
    registration status in the trial (``registration``: a registered or off-study patient is
    no candidate; such levels are sorted after the candidates'). Closed levels and levels
    without free slots are included and flagged (``open``,
    ``slots_available``). With ``include_non_matches`` every level of those trials is listed,
    ``matched`` saying which (the explanation then says why not). NotFoundError when the user
    may not see the patient; PermissionDeniedError for sponsor monitors.
    """
    return matches_for_patients(
        user=user,
        patients=[patient],
        include_non_matches=include_non_matches,
        trial=trial,
        today=today,
    )[patient.pk]


def matches_for_patients(
    *,
    user: MatchingActor,
    patients: Sequence[Any],
    include_non_matches: bool = False,
    trial: DbTrial | None = None,
    today: dt.date | None = None,
) -> dict[int, list[CohortMatch]]:
    """``matches_for_patient`` of several patients (patient pk -> matches), read with the same
    queries whatever their number (a tumour board's cases). NotFoundError when the user may
    not see one of them."""
    _require(user)
    pks = list(dict.fromkeys(p.pk for p in patients))
    seen: set[int] = set()
    for chunk in _chunks(pks):
        seen.update(_visible_patients(user).filter(pk__in=chunk).values_list("pk", flat=True))
    for pk in pks:
        if pk not in seen:
            raise NotFoundError(
                gettext("No patient %(patient_id)s that you may see.") % {"patient_id": pk}
            )
    today = today or _unit_today()
    out: dict[int, list[CohortMatch]] = {pk: [] for pk in pks}
    with _LOCK:
        state = matching_state(today=today)
        records = state.records_for(pks)
        mine = [p for p in {p.pk: p for p in patients}.values() if p.pk in records]
        if not mine:
            return out
        visible = _visible_trial_ids(user)
        if trial is not None:
            visible = {trial.pk} if visible is None or trial.pk in visible else set()
        wanted: dict[int, tuple[set[tuple[str, str]], list[Any]]] = {}
        for patient in mine:
            matched = {
                lvl.key
                for lvl in state.matcher.levels_for_patient(str(patient.pk), include_closed=True)
            }
            levels = [
                lvl
                for t in state.trials.values()
                if visible is None or int(t.id) in visible
                for lvl in t.levels
                if include_non_matches or lvl.key in matched
            ]
            wanted[patient.pk] = (matched, levels)
        every = [state.refs[lvl.key] for _m, levels in wanted.values() for lvl in levels]
        avail = _Availability({r.trial_id for r in every}, today)
        trials, cohorts, doses = _objects(every)
        tree = state.matcher.oncotree
        registered = _registrations(list(wanted), trials)
        masked_of = hidden_therapies(user, mine)
        values_of = hidden_values(user, mine, state.clinical)
        genomic_of = hidden_genomics(user, mine, state.patient_sigs)
        for patient in mine:
            record = records[patient.pk]
            matched, levels = wanted[patient.pk]
            masked = masked_of.get(patient.pk, {})
            values = values_of.get(patient.pk)
            genomic = genomic_of.get(patient.pk)
            found = out[patient.pk]
            for lvl in levels:
                ref = state.refs[lvl.key]
                if record.deceased and not include_non_matches:
                    continue
                ex = masked_explanation(lvl.criteria, record, tree, masked, values, genomic)
                found.append(
                    CohortMatch(
                        trial=trials[ref.trial_id],
                        cohort=cohorts.get(ref.cohort_id) if ref.cohort_id else None,
                        dose_level=doses.get(ref.dose_level_ids[0]) if ref.dose_level_ids else None,
                        level_path=lvl.path,
                        level_name=lvl.name,
                        open=avail.is_open(
                            trials[ref.trial_id],
                            cohorts.get(ref.cohort_id) if ref.cohort_id else None,
                            patient.site_id,
                        ),
                        slots_available=avail.slots(ref, patient.site_id),
                        explanation=explanation_rows(ex),
                        matched=lvl.key in matched,
                        why_not=why_not(ex),
                        registration=registered.get((patient.pk, ref.trial_id), ""),
                    )
                )
    for found in out.values():
        found.sort(
            key=lambda m: (
                not m.matched,
                bool(m.registration),
                not m.open,
                m.trial.protocol_code,
                m.level_path,
            )
        )
    return out


def _patient_matches(
    state: MatchingState,
    keys: Iterable[tuple[str, str]],
    patient_filter: Any,
    today: dt.date,
    user: MatchingActor,
) -> list[PatientMatch]:
    sets = state.matcher.match_sets()
    wanted = [(k, sets.get(k, frozenset())) for k in keys]
    pks = {int(p) for _k, ids in wanted for p in ids}
    patients = (
        {p.pk: p for p in patient_filter.filter(pk__in=pks).select_related("site")} if pks else {}
    )
    records = state.records_for(sorted(patients))
    refs = [state.refs[k] for k, _ in wanted]
    avail = _Availability({r.trial_id for r in refs}, today)
    trials, cohorts, doses = _objects(refs)
    tree = state.matcher.oncotree
    levels = {lvl.key: lvl for t in state.trials.values() for lvl in t.levels}
    registered = _registrations(patients, trials)
    masked = hidden_therapies(user, patients.values())
    values = hidden_values(user, patients.values(), state.clinical)
    genomic = hidden_genomics(user, patients.values(), state.patient_sigs)
    out: list[PatientMatch] = []
    for (key, ids), ref in zip(wanted, refs, strict=True):
        lvl = levels[key]
        for pid in sorted(ids, key=int):
            patient = patients.get(int(pid))
            record = records.get(int(pid))
            if patient is None or record is None or record.deceased:
                continue
            out.append(
                PatientMatch(
                    patient=patient,
                    trial=trials[ref.trial_id],
                    cohort=cohorts.get(ref.cohort_id) if ref.cohort_id else None,
                    dose_level=doses.get(ref.dose_level_ids[0]) if ref.dose_level_ids else None,
                    level_path=lvl.path,
                    level_name=lvl.name,
                    open=avail.is_open(
                        trials[ref.trial_id],
                        cohorts.get(ref.cohort_id) if ref.cohort_id else None,
                        patient.site_id,
                    ),
                    slots_available=avail.slots(ref, patient.site_id),
                    explanation=explanation_rows(
                        masked_explanation(
                            lvl.criteria,
                            record,
                            tree,
                            masked.get(patient.pk, {}),
                            values.get(patient.pk),
                            genomic.get(patient.pk),
                        )
                    ),
                    registration=registered.get((patient.pk, ref.trial_id), ""),
                )
            )
    return out


def matches_for_trial(
    *, user: MatchingActor, trial: DbTrial, today: dt.date | None = None
) -> list[PatientMatch]:
    """The patients ``user`` may see who match a level of ``trial``, with explanations.

    Patients already registered in the trial (on it, or off study) carry their registration
    status and come after the candidates, to be shown apart."""
    _require(user)
    visible = _visible_trial_ids(user)
    if visible is not None and trial.pk not in visible:
        raise NotFoundError(
            gettext("No trial %(trial_id)s that you may see.") % {"trial_id": trial.pk}
        )
    _trial_roles_ok(user, trial)
    today = today or _unit_today()
    with _LOCK:
        state = matching_state(today=today)
        core = state.trials.get(trial.pk)
        if core is None:
            return []
        out = _patient_matches(
            state, [lvl.key for lvl in core.levels], _visible_patients(user), today, user
        )
    out.sort(key=lambda m: (bool(m.registration), m.level_path, not m.open, m.patient.research_id))
    return out


def match_all(*, user: MatchingActor, today: dt.date | None = None) -> MatchSummary:
    """Every match the user may see (visible trials x visible patients), with explanations."""
    _require(user)
    today = today or _unit_today()
    visible = _visible_trial_ids(user)
    patients = _visible_patients(user)
    with _LOCK:
        state = matching_state(today=today)
        trials = [t for tid, t in state.trials.items() if visible is None or tid in visible]
        keys = [lvl.key for t in trials for lvl in t.levels]
        out = _patient_matches(state, keys, patients, today, user)
        n_patients = len(set(patients.values_list("pk", flat=True)) & set(state.clinical))
        summary = MatchSummary(
            patients=n_patients,
            trials=len(trials),
            levels=len(keys),
            matches=tuple(
                sorted(
                    out, key=lambda m: (m.trial.protocol_code, m.level_path, m.patient.research_id)
                )
            ),
            incremental=state.incremental,
            problems=state.problems,
        )
    return summary
