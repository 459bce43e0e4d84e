"""Trials as the matching engine sees them: match levels (trial, cohort, dose level) with
criteria, open/closed status and available slots, read from our trial files or from CTML.

A trial file (``docs/formats/criteria.md``) holds trial-level criteria that every cohort
inherits, cohorts with their own criteria, and optional dose levels inheriting their cohort's.
Each cohort and each dose level is a *match level*; its effective criteria are the ``and`` of
the criteria on its path. A trial without cohorts is a single level. Parsing is all or
nothing: a trial object is only returned when every part of the file is valid.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching.criteria import And, Node, parse_criteria
from oncotrials.core.matching.oncotree import OncoTreeLike

STATUSES = ("open", "closed", "suspended")


@dataclass(frozen=True, slots=True)
class Level:
    """One place a patient can be matched to: a trial, a cohort (arm) or a dose level."""

    trial_id: str
    kind: str  # trial | step | cohort | arm | dose_level
    path: str  # unique within the trial, e.g. "A" or "A/DL2"
    name: str
    open: bool
    slots: int | None
    criteria: Node

    @property
    def key(self) -> tuple[str, str]:
        return (self.trial_id, self.path)


@dataclass(frozen=True, slots=True)
class Trial:
    id: str
    title: str
    open: bool
    levels: tuple[Level, ...]
    source: str = ""
    format: str = "oncotrials"
    # What an import accepted without matching on it (CTML keys MatchMiner ignores, empty
    # arms, codes replaced by internal ids): each names its place in the document.
    warnings: tuple[str, ...] = ()
    # The same warnings as (reason, values), one per warning, so that an app can word them in
    # the user's language (empty where the trial was not imported from CTML).
    notices: tuple[tuple[str, Mapping[str, str]], ...] = ()


def _json_documents(text: str) -> Any:
    """One JSON value, or several JSON objects one after the other (one trial per line):
    the latter read as a list."""
    decoder = json.JSONDecoder()
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        if "Extra data" not in first.msg:
            raise
    items, at = [], 0
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        items.append(value)
    return items


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file; a syntax error names the file and line."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            return _json_documents(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix the syntax.",
            code="matching_valid_json_line_fix",
            path=str(path),
            msg=str(exc.msg),
            lineno=str(exc.lineno),
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(
            f"{path}: not valid YAML{where}; fix the syntax.",
            code="matching_valid_yaml_fix_syntax",
            path=str(path),
            where=str(where),
        ) from None


def _status(value: Any, source: str, path: str) -> bool:
    if value is None:
        return True
    if value not in STATUSES:
        raise ValidationError(
            f"{source}: {path}: status must be one of {', '.join(STATUSES)}; got {value!r}.",
            code="matching_status_one",
            source=str(source),
            path=str(path),
            statuses=str(", ".join(STATUSES)),
            value=repr(value),
        )
    return bool(value == "open")


def _slots(value: Any, source: str, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"{source}: {path}: slots must be a non-negative integer or null; got {value!r}.",
            code="matching_slots_non_negative_integer",
            source=str(source),
            path=str(path),
            value=repr(value),
        )
    return int(value)


def _ident(value: Any, source: str, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or "/" in value:
        raise ValidationError(
            f"{source}: {path}: expected a non-empty identifier without '/'; got {value!r}.",
            code="matching_expected_non_empty_identifier",
            source=str(source),
            path=str(path),
            value=repr(value),
        )
    return value.strip()


def _check_keys(data: Mapping[str, Any], allowed: set[str], source: str, path: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ValidationError(
            f"{source}: {path}.{extra[0]}: unknown key; allowed: {', '.join(sorted(allowed))}.",
            code="matching_unknown_key_allowed",
            source=str(source),
            path=str(path),
            extra=str(extra[0]),
            allowed=str(", ".join(sorted(allowed))),
        )


def _and(*nodes: Node | None) -> Node | None:
    present: list[Node] = []
    for node in nodes:
        if isinstance(node, And):
            present.extend(node.children)
        elif node is not None:
            present.append(node)
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return And(tuple(present))


def trial_from_dict(
    data: Any,
    *,
    source: str,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
) -> Trial:
    """Read one trial in the oncotrials format (see ``docs/formats/criteria.md``)."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"{source}: a trial must be an object; got {type(data).__name__}.",
            code="matching_trial_object",
            source=str(source),
            name=str(type(data).__name__),
        )
    _check_keys(data, {"trial_id", "title", "status", "criteria", "cohorts"}, source, "trial")
    trial_id = _ident(data.get("trial_id"), source, "trial_id")
    trial_open = _status(data.get("status", "open"), source, "status")

    def crit(raw: Any, path: str) -> Node | None:
        if raw is None:
            return None
        return parse_criteria(raw, source=source, path=path, oncotree=oncotree, genes=genes)

    trial_criteria = crit(data.get("criteria"), "criteria")
    cohorts = data.get("cohorts") or []
    if not isinstance(cohorts, list):
        raise ValidationError(
            f"{source}: cohorts: expected a list; got {cohorts!r}.",
            code="matching_cohorts_expected_list",
            source=str(source),
            cohorts=repr(cohorts),
        )
    levels: list[Level] = []
    if not cohorts:
        if trial_criteria is None:
            raise ValidationError(
                f"{source}: trial {trial_id!r} has neither criteria nor cohorts; "
                "give trial-level criteria or at least one cohort.",
                code="matching_trial_neither_criteria_nor",
                source=str(source),
                trial_id=repr(trial_id),
            )
        levels.append(Level(trial_id, "trial", "", trial_id, trial_open, None, trial_criteria))
    seen: set[str] = set()
    for i, cohort in enumerate(cohorts):
        where = f"cohorts[{i}]"
        if not isinstance(cohort, Mapping):
            raise ValidationError(
                f"{source}: {where}: expected an object; got {cohort!r}.",
                code="matching_expected_object",
                source=str(source),
                where=str(where),
                cohort=repr(cohort),
            )
        _check_keys(
            cohort, {"id", "name", "status", "slots", "criteria", "dose_levels"}, source, where
        )
        cid = _ident(cohort.get("id"), source, f"{where}.id")
        if cid in seen:
            raise ValidationError(
                f"{source}: {where}.id: cohort id {cid!r} is repeated.",
                code="matching_id_cohort_id_repeated",
                source=str(source),
                where=str(where),
                cid=repr(cid),
            )
        seen.add(cid)
        c_open = trial_open and _status(cohort.get("status"), source, f"{where}.status")
        c_crit = _and(trial_criteria, crit(cohort.get("criteria"), f"{where}.criteria"))
        if c_crit is None:
            raise ValidationError(
                f"{source}: {where}: cohort {cid!r} has no criteria and the trial has none; "
                "write the cohort's criteria.",
                code="matching_cohort_criteria_trial_none",
                source=str(source),
                where=str(where),
                cid=repr(cid),
            )
        name = str(cohort.get("name") or cid)
        levels.append(
            Level(
                trial_id,
                "cohort",
                cid,
                name,
                c_open,
                _slots(cohort.get("slots"), source, f"{where}.slots"),
                c_crit,
            )
        )
        doses = cohort.get("dose_levels") or []
        if not isinstance(doses, list):
            raise ValidationError(
                f"{source}: {where}.dose_levels: expected a list; got {doses!r}.",
                code="matching_dose_levels_expected_list",
                source=str(source),
                where=str(where),
                doses=repr(doses),
            )
        dseen: set[str] = set()
        for j, dose in enumerate(doses):
            dwhere = f"{where}.dose_levels[{j}]"
            if not isinstance(dose, Mapping):
                raise ValidationError(
                    f"{source}: {dwhere}: expected an object; got {dose!r}.",
                    code="matching_expected_object_2",
                    source=str(source),
                    dwhere=str(dwhere),
                    dose=repr(dose),
                )
            _check_keys(dose, {"id", "name", "status", "slots", "criteria"}, source, dwhere)
            did = _ident(dose.get("id"), source, f"{dwhere}.id")
            if did in dseen:
                raise ValidationError(
                    f"{source}: {dwhere}.id: dose level {did!r} is repeated.",
                    code="matching_id_dose_level_repeated",
                    source=str(source),
                    dwhere=str(dwhere),
                    did=repr(did),
                )
            dseen.add(did)
            d_crit = _and(c_crit, crit(dose.get("criteria"), f"{dwhere}.criteria"))
            assert d_crit is not None
            levels.append(
                Level(
                    trial_id,
                    "dose_level",
                    f"{cid}/{did}",
                    str(dose.get("name") or did),
                    c_open and _status(dose.get("status"), source, f"{dwhere}.status"),
                    _slots(dose.get("slots"), source, f"{dwhere}.slots"),
                    d_crit,
                )
            )
    return Trial(trial_id, str(data.get("title") or ""), trial_open, tuple(levels), source)


def is_ctml(data: Any) -> bool:
    """A CTML trial, or a list of them (a JSON array of trials)."""
    if isinstance(data, list):
        return bool(data) and all(is_ctml(item) for item in data)
    return isinstance(data, Mapping) and ("treatment_list" in data or "protocol_no" in data)


def load_trial(
    path: str | Path,
    *,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
    status_key: str | None = None,
) -> Trial:
    """Read a trial file: CTML (has ``treatment_list``/``protocol_no``) or oncotrials format.

    A file holding several CTML trials is refused here: read it with :func:`load_file`.
    """
    trials = load_file(path, oncotree=oncotree, genes=genes, status_key=status_key)
    if len(trials) != 1:
        raise ValidationError(
            f"{path}: holds {len(trials)} trials; one was expected.",
            code="matching_holds_trials_one_expected",
            path=str(path),
            n_trials=str(len(trials)),
        )
    return trials[0]


def load_file(
    path: str | Path,
    *,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
    status_key: str | None = None,
) -> list[Trial]:
    """Every trial of a file: one oncotrials trial, one CTML trial or a list of CTML trials
    (``status_key``: the root key of a CTML trial's status, see ``trial_from_ctml``)."""
    from oncotrials.core.matching.ctml import trials_from_ctml

    path = Path(path)
    data = read_document(path)
    if is_ctml(data):
        return trials_from_ctml(
            data, source=str(path), oncotree=oncotree, genes=genes, status_key=status_key
        )
    return [trial_from_dict(data, source=str(path), oncotree=oncotree, genes=genes)]


def load_trials(
    directory: str | Path,
    *,
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
    status_key: str | None = None,
) -> list[Trial]:
    """Read every ``*.yaml``/``*.yml``/``*.json`` trial of a directory, all or nothing."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValidationError(
            f"{directory}: not a directory of trial files.",
            code="matching_directory_trial_files",
            directory=str(directory),
        )
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json"))
    trials: list[Trial] = []
    seen: dict[str, str] = {}
    for file in files:
        for trial in load_file(file, oncotree=oncotree, genes=genes, status_key=status_key):
            if trial.id in seen:
                raise ValidationError(
                    f"{file}: trial id {trial.id!r} is also used by {seen[trial.id]}; "
                    "ids must be unique.",
                    code="matching_trial_id_also_used",
                    file=str(file),
                    id=repr(trial.id),
                    seen=str(seen[trial.id]),
                )
            seen[trial.id] = str(file)
            trials.append(trial)
    return trials
