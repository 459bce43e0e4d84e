"""Machine criteria of trials, cohorts and dose levels (``match_criteria``), and CTML import.

Criteria are the tree of ``docs/formats/criteria.md``. They are validated with the core parser
against the shipped OncoTree (``oncotrials.core.genomics``) and the gene catalogue below, saved
by :func:`match_criteria_set` (audited, with a reason, refused when the trial version the user
edited is stale) and by :func:`ctml_import` (a MatchMiner CTML trial mapped onto one of our
trials, all or nothing).

The gene catalogue is every gene our platform knows: the genes of the shipped knowledge files
(ESCAT tiers, drug targets, resistance pathways, clonal haematopoiesis, alias table) and every
gene of the clinical-genomic database (alteration rows and the genes the panels cover). A
criterion on a gene outside it is almost always a typo or an alias (``HER2`` for ``ERBB2``),
and is refused with the official symbol when the alias table knows it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from django.db import transaction
from django.utils.translation import gettext

from oncotrials.apps.accounts.core_messages import core_errors_translated, translated
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_record
from oncotrials.apps.genomics.models import (
    CopyNumberAlteration,
    GenomicReport,
    Mutation,
    StructuralVariant,
)
from oncotrials.apps.matching.core_messages import MATCHING_CORE_MESSAGES
from oncotrials.apps.trials.models import Cohort, DoseLevel, Trial
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError, ValidationError
from oncotrials.core.matching import Level, OncoTreeMap, parse_criteria, to_dict, trial_from_ctml
from oncotrials.core.matching.criteria import Node, Or

_GOT = re.compile(r"^'([^']*)'$")
_KB_FILES = {
    "escat.csv": ("gene",),
    "drug_targets.csv": ("targets", "biomarker_genes"),
    "resistance_bypass.csv": ("target", "bypass_genes"),
    "clonal_haematopoiesis_genes.csv": ("gene",),
    "gene_aliases.csv": ("symbol",),
}


@lru_cache(maxsize=1)
def shipped_oncotree() -> OncoTreeMap:
    """The shipped OncoTree (cBioPortal release in ``oncotrials.core.genomics``) for matching."""
    text = (
        resources.files("oncotrials.core.genomics")
        .joinpath("data/oncotree_2025_10_03.json")
        .read_text(encoding="utf-8")
    )
    return OncoTreeMap.from_json(json.loads(text), source="shipped OncoTree")


@lru_cache(maxsize=1)
def _shipped_genes() -> frozenset[str]:
    genes: set[str] = set()
    base = resources.files("oncotrials.core.genomics").joinpath("data")
    for name, columns in _KB_FILES.items():
        with base.joinpath(name).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for col in columns:
                    for g in (row.get(col) or "").split(";"):
                        if g.strip():
                            genes.add(g.strip().upper())
    return frozenset(genes)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    from oncotrials.core.genomics.genes import gene_aliases

    return {k.upper(): v for k, v in gene_aliases().items()}


def database_genes() -> frozenset[str]:
    """Genes of the clinical-genomic database: alteration rows and panels' covered genes."""
    genes: set[str] = set()
    genes.update(Mutation.objects.values_list("gene", flat=True).distinct())
    genes.update(CopyNumberAlteration.objects.values_list("gene", flat=True).distinct())
    for g1, g2 in StructuralVariant.objects.values_list("gene1", "gene2").distinct():
        genes.update((g1, g2))
    for covered in GenomicReport.objects.exclude(covered_genes=None).values_list(
        "covered_genes", flat=True
    ):
        if isinstance(covered, list):
            genes.update(str(g) for g in covered)
    return frozenset(g.upper() for g in genes if g)


class GeneCatalogue(Container[str]):
    """Shipped knowledge genes plus the database's genes (see the module docstring)."""

    def __init__(self, extra: frozenset[str] = frozenset()) -> None:
        self.genes = _shipped_genes() | extra

    def __contains__(self, gene: object) -> bool:
        return isinstance(gene, str) and gene.upper() in self.genes


def gene_catalogue() -> GeneCatalogue:
    return GeneCatalogue(database_genes())


def criteria_parse(
    data: Any, *, source: str, path: str = "criteria", genes: Container[str] | None = None
) -> Node:
    """Parse and validate a criteria tree; the error names the path in the tree and the value.

    An unknown gene that is a known alias is refused with its official symbol.
    """
    catalogue = genes if genes is not None else gene_catalogue()
    try:
        return parse_criteria(
            data, source=source, path=path, oncotree=shipped_oncotree(), genes=catalogue
        )
    except ValidationError as exc:
        raise _with_alias_hint(translated(exc, MATCHING_CORE_MESSAGES)) from None


def _with_alias_hint(exc: OncotrialsError) -> OncotrialsError:
    found = _GOT.search(str(exc.extra.get("value", "")))
    if exc.extra.get("reason") != "criteria_unknown_gene" or found is None:
        return exc
    symbol = _aliases().get(found.group(1).strip().upper())
    if symbol is None:
        return exc
    return type(exc)(
        exc.message
        + " "
        + gettext("%(alias)s is an alias of %(symbol)s; write %(symbol)s.")
        % {"alias": found.group(1), "symbol": symbol},
        code=exc.code,
        **dict(exc.extra),
    )


def criteria_from_text(text: str, *, source: str) -> Any:
    """Read criteria written as YAML or JSON (the trial page's text area)."""
    if not text.strip():
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(
            gettext("%(source)s: not valid YAML or JSON%(where)s; fix the syntax.")
            % {"source": source, "where": where},
            code="invalid_criteria",
            field="criteria",
        ) from None


def _target(
    trial: Trial, cohort_id: int | None, dose_level_id: int | None
) -> tuple[Trial | Cohort | DoseLevel, str]:
    if dose_level_id is not None:
        dl = DoseLevel.objects.filter(pk=dose_level_id, cohort__trial=trial).first()
        if dl is None:
            raise NotFoundError(
                gettext("Trial %(protocol_code)s has no dose level %(dose_level_id)s.")
                % {"protocol_code": trial.protocol_code, "dose_level_id": dose_level_id}
            )
        return dl, gettext("%(protocol_code)s dose level %(dose_level)s") % {
            "protocol_code": trial.protocol_code,
            "dose_level": dl,
        }
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id, trial=trial).first()
        if cohort is None:
            raise NotFoundError(
                gettext("Trial %(protocol_code)s has no cohort %(cohort_id)s.")
                % {"protocol_code": trial.protocol_code, "cohort_id": cohort_id}
            )
        return cohort, gettext("%(protocol_code)s cohort %(cohort)s") % {
            "protocol_code": trial.protocol_code,
            "cohort": cohort.code,
        }
    return trial, f"{trial.protocol_code}"


def _lock_version(trial: Trial, expected_version: int) -> Trial:
    locked = Trial.objects.select_for_update().get(pk=trial.pk)
    if locked.version != expected_version:
        raise ConflictError(
            gettext(
                "Trial %(protocol_code)s was changed by someone else (version %(version)s, you "
                "edited version %(expected_version)s); reload and apply your change again."
            )
            % {
                "protocol_code": locked.protocol_code,
                "version": locked.version,
                "expected_version": expected_version,
            },
            current_version=locked.version,
        )
    return locked


def _bump(locked: Trial, by: User | None, reason: str) -> None:
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save(update_fields=["version"])


@transaction.atomic
def match_criteria_set(
    *,
    trial: Trial,
    criteria: Any,
    by: User | None,
    reason: str,
    expected_version: int,
    cohort_id: int | None = None,
    dose_level_id: int | None = None,
) -> Trial:
    """Set (or clear, with ``None``) the machine criteria of the trial, a cohort or a dose level.

    Validated first (nothing saved on error); the trial version is the concurrency token for
    all three (a stale edit is a conflict) and is incremented by the change.
    """
    if not reason.strip():
        raise ValidationError(
            gettext("A reason for change is required to edit matching criteria."), field="reason"
        )
    target, label = _target(trial, cohort_id, dose_level_id)
    canonical: dict[str, Any] | None = None
    if criteria is not None:
        canonical = to_dict(
            criteria_parse(criteria, source=gettext("criteria of %(target)s") % {"target": label})
        )
    locked = _lock_version(trial, expected_version)
    if isinstance(target, Trial):
        target = locked
    old = target.match_criteria
    if old == canonical:
        return locked
    target.match_criteria = canonical
    if not isinstance(target, Trial):
        part: Any = target
        part.version += 1
        part._history_user = by
        part._change_reason = reason
        part.save(update_fields=["match_criteria", "version"])
        _bump(locked, by, reason)
    else:
        locked.version += 1
        locked._history_user = by  # type: ignore[attr-defined]
        locked._change_reason = reason  # type: ignore[attr-defined]
        locked.save(update_fields=["match_criteria", "version"])
    audit_record(
        action="update",
        instance=target,
        changes={"match_criteria": [old, canonical]},
        reason=reason,
        by=by,
    )
    return locked


# ------------------------------------------------------------------------------ CTML import
@dataclass(frozen=True)
class CtmlImportResult:
    trial: Trial
    assigned: tuple[tuple[str, str], ...]  # (CTML level path, our target label)
    checked_only: bool
    # What was accepted without being matched on (keys MatchMiner ignores, empty arms...).
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial.protocol_code,
            "trial_version": self.trial.version,
            "checked_only": self.checked_only,
            "levels": [{"ctml": c, "target": t} for c, t in self.assigned],
            "warnings": list(self.warnings),
        }


def ctml_document(text: str, *, source: str) -> Any:
    """Parse an uploaded CTML file (JSON or YAML); a syntax error names the file and line."""
    try:
        if source.lower().endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            gettext("%(source)s: not valid JSON (%(msg)s at line %(lineno)s); fix the syntax.")
            % {"source": source, "msg": exc.msg, "lineno": exc.lineno},
            code="ctml_syntax",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(
            gettext("%(source)s: not valid YAML%(where)s; fix the syntax.")
            % {"source": source, "where": where},
            code="ctml_syntax",
        ) from None


def ctml_protocol(data: Any, *, source: str) -> str:
    """The ``protocol_no`` of a CTML document, or a ValidationError naming the file."""
    protocol = data.get("protocol_no") if isinstance(data, Mapping) else None
    if not isinstance(protocol, str | int) or isinstance(protocol, bool) or not str(protocol):
        raise ValidationError(
            gettext(
                "%(source)s: protocol_no: a CTML trial needs its protocol_no; got %(protocol)s."
            )
            % {"source": source, "protocol": repr(protocol)},
            code="invalid_criteria",
            path="protocol_no",
        )
    return str(protocol).strip()


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _find_cohort(trial: Trial, level: Level, source: str) -> Cohort:
    cohorts = list(trial.cohorts.all())
    for key in (level.path, level.name):
        found = [c for c in cohorts if _norm(c.code) == _norm(key)]
        if len(found) == 1:
            return found[0]
    found = [c for c in cohorts if _norm(c.name) == _norm(level.name)]
    if len(found) == 1:
        return found[0]
    codes = ", ".join(c.code for c in cohorts) or "none"
    raise ValidationError(
        gettext(
            "%(source)s: arm %(path)s (%(level)s) matches no cohort of %(protocol_code)s "
            "by code or name (cohorts: %(codes)s); rename the arm_code or the cohort. "
            "Nothing was imported."
        )
        % {
            "source": source,
            "path": repr(level.path),
            "level": repr(level.name),
            "protocol_code": trial.protocol_code,
            "codes": codes,
        },
        code="ctml_unmapped_arm",
        path=level.path,
    )


def _find_dose_levels(cohort: Cohort, code: str, source: str, path: str) -> list[DoseLevel]:
    wanted = _norm(code)
    doses = list(cohort.dose_levels.all())
    found = [
        d
        for d in doses
        if wanted in (_norm(f"DL{d.level}"), _norm(str(d.level)), _norm(f"level {d.level}"))
    ]
    if not found:
        known = ", ".join(sorted({f"DL{d.level}" for d in doses})) or "none"
        raise ValidationError(
            gettext(
                "%(source)s: dose level %(path)s matches no dose level of cohort %(cohort)s "
                "(write level_code as DL<n> or <n>; levels: %(known)s). Nothing was imported."
            )
            % {"source": source, "path": repr(path), "cohort": cohort.code, "known": known},
            code="ctml_unmapped_dose_level",
            path=path,
        )
    return found


def ctml_warnings_translated(parsed: Any) -> list[str]:
    """The import's warnings in the active language (each from its reason and values; the
    core's English where a reason has no wording here)."""
    if len(parsed.notices) != len(parsed.warnings):
        return list(parsed.warnings)
    out = []
    for text, (reason, params) in zip(parsed.warnings, parsed.notices, strict=True):
        template = MATCHING_CORE_MESSAGES.get(reason)
        try:
            out.append(text if template is None else str(template) % dict(params))
        except (KeyError, TypeError, ValueError):
            out.append(text)
    return out


def ctml_import(
    *, data: Any, source: str, by: User | None, reason: str = "", check_only: bool = False
) -> CtmlImportResult:
    """Import a MatchMiner CTML trial's criteria into our trial with its ``protocol_no``.

    Mapping: as in MatchMiner, every ``match`` list is an independent level, and the trial is
    marked so (``match_levels = "independent"``): a cohort is matched on its arm's criteria
    only, never ``and`` the trial's, exactly as file mode reads the same document. The
    trial-level ``match`` goes to the trial; a ``step``'s ``match`` (a level of its own in
    CTML, which our trials do not have) goes to the trial level too, the trial level then
    being the ``or`` of the trial's and the steps' criteria (it matches whoever matches any of
    them, with a warning); a trial level absent from the document is cleared. An arm goes to
    the cohort whose code equals its ``arm_code`` (letters and digits compared
    case-insensitively), else whose code or name equals its ``arm_description``; a dose level
    to the cohort's dose level(s) numbered by its ``level_code`` (``DL2``, ``2``, ``-1``; every
    agent of a combination level). All or nothing: one unmapped arm or dose level, one invalid
    criterion, and nothing is saved.
    Only criteria are imported: CTML's trial status and ``arm_suspended`` /
    ``level_suspended`` are not, since our trial status and cohort status govern openness.
    The criteria are stored in our language (``to_dict`` of the compiled CTML), so a later
    edit on the trial page starts from what the engine matches.
    """
    if not check_only and not reason.strip():
        reason = f"CTML import from {source}"
    genes = gene_catalogue()
    with core_errors_translated(MATCHING_CORE_MESSAGES):
        parsed = trial_from_ctml(data, source=source, oncotree=shipped_oncotree(), genes=genes)
    trial = Trial.objects.filter(protocol_code__iexact=parsed.id).first()
    if trial is None:
        raise NotFoundError(
            gettext(
                "%(source)s: protocol_no %(parsed_id)s is not the protocol code of any of our "
                "trials; create the trial first or correct protocol_no. Nothing was imported."
            )
            % {"source": source, "parsed_id": repr(parsed.id)},
            code="ctml_unknown_protocol",
        )
    warnings = ctml_warnings_translated(parsed)
    trial_levels = [lvl for lvl in parsed.levels if lvl.kind in ("trial", "step")]
    trial_node: dict[str, Any] | None = None
    if trial_levels:
        crits = tuple(lvl.criteria for lvl in trial_levels)
        trial_node = to_dict(crits[0] if len(crits) == 1 else Or(crits))
    if any(lvl.kind == "step" for lvl in trial_levels):
        warnings.append(
            gettext(
                "%(source)s: step-level match: our trials have no steps; the trial level matches "
                "whoever matches the criteria of any of: %(levels)s"
            )
            % {
                "source": source,
                "levels": ", ".join(
                    gettext("the trial") if lv.kind == "trial" else lv.path for lv in trial_levels
                ),
            }
        )
    targets: dict[tuple[str, int], tuple[Any, dict[str, Any], str]] = {}
    assigned: list[tuple[str, str]] = []
    for level in parsed.levels:
        if level.kind in ("trial", "step"):
            label = "(trial)" if level.kind == "trial" else level.path
            assigned.append((label, trial.protocol_code))
        elif level.kind == "arm":
            cohort = _find_cohort(trial, level, source)
            targets[("cohort", cohort.pk)] = (cohort, to_dict(level.criteria), level.path)
            assigned.append((level.path, f"cohort {cohort.code}"))
        elif level.kind == "dose_level":
            arm_path, _, dcode = level.path.partition("/")
            arm = next(
                (lv for lv in parsed.levels if lv.kind == "arm" and lv.path == arm_path), None
            )
            cohort = _find_cohort(
                trial,
                arm or Level(parsed.id, "arm", arm_path, arm_path, True, None, level.criteria),
                source,
            )
            for dl in _find_dose_levels(cohort, dcode, source, level.path):
                targets[("dose", dl.pk)] = (dl, to_dict(level.criteria), level.path)
                assigned.append((level.path, f"cohort {cohort.code} DL{dl.level} {dl.agent}"))
    if check_only:
        return CtmlImportResult(trial, tuple(assigned), True, tuple(warnings))
    with transaction.atomic():
        locked = Trial.objects.select_for_update().get(pk=trial.pk)
        changes: list[tuple[Any, dict[str, Any]]] = []
        trial_changes: dict[str, Any] = {}
        if locked.match_criteria != trial_node:
            trial_changes["match_criteria"] = [locked.match_criteria, trial_node]
            locked.match_criteria = trial_node
        if locked.match_levels != "independent":
            trial_changes["match_levels"] = [locked.match_levels, "independent"]
            locked.match_levels = "independent"
        if trial_changes:
            changes.append((locked, trial_changes))
        for obj, node_dict, _ in targets.values():
            if obj.match_criteria != node_dict:
                changes.append((obj, {"match_criteria": [obj.match_criteria, node_dict]}))
                obj.match_criteria = node_dict
                obj.version += 1
                obj._history_user = by
                obj._change_reason = reason
                obj.save(update_fields=["match_criteria", "version"])
        if changes:
            locked.version += 1
            locked._history_user = by  # type: ignore[attr-defined]
            locked._change_reason = reason  # type: ignore[attr-defined]
            locked.save(update_fields=["match_criteria", "match_levels", "version"])
        for obj, diff in changes:
            audit_record(action="import", instance=obj, changes=diff, reason=reason, by=by)
    return CtmlImportResult(locked, tuple(assigned), False, tuple(warnings))
