"""``oncotrials match``: match patients to trials, explain matches, import CTML.

File-based for now: patients come from a JSON/YAML patients file, trials from a directory of
trial files (oncotrials format or MatchMiner CTML). Formats: ``docs/formats/criteria.md``.
The OncoTree is read from ``--oncotree FILE`` (cBioPortal's JSON, or ``{code: parent}``), or
from the ``ONCOTRIALS_ONCOTREE`` environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from oncotrials.cli.output import FormatOption, OutputFormat, command_errors, print_json, stdout
from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.matching import (
    Explanation,
    Level,
    Matcher,
    OncoTreeMap,
    Trial,
    load_trial,
    load_trials,
    patients_from_data,
    to_dict,
)
from oncotrials.core.matching.records import GENE_RE
from oncotrials.core.matching.trials import read_document

app = typer.Typer(
    help="Patient-to-trial matching: run, explain, import MatchMiner CTML.",
    no_args_is_help=True,
)

PatientsOpt = Annotated[
    Path, typer.Option("--patients", help="Patients file (JSON or YAML; see docs/formats).")
]
TrialsOpt = Annotated[
    Path, typer.Option("--trials", help="Directory of trial files (oncotrials format or CTML).")
]
OncoTreeOpt = Annotated[
    Path | None,
    typer.Option(
        "--oncotree",
        envvar="ONCOTRIALS_ONCOTREE",
        help="OncoTree JSON (cBioPortal nested tree or {code: parent}).",
    ),
]
GenesOpt = Annotated[
    Path | None,
    typer.Option("--genes", help="Gene catalogue, one HGNC symbol per line: unknown genes fail."),
]
ClosedOpt = Annotated[
    bool, typer.Option("--include-closed", help="Also list closed or suspended levels.")
]
DeceasedOpt = Annotated[
    bool, typer.Option("--include-deceased", help="Also list deceased patients.")
]


def _oncotree(path: Path | None) -> OncoTreeMap:
    if path is None:
        raise ValidationError(
            "No OncoTree given: pass --oncotree FILE (cBioPortal oncotree JSON) or set "
            "ONCOTRIALS_ONCOTREE."
        )
    return OncoTreeMap.from_path(path)


def _genes(path: Path | None) -> set[str] | None:
    if path is None:
        return None
    genes: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        symbol = line.split("\t")[0].strip()
        if not symbol or symbol.startswith("#"):
            continue
        if not GENE_RE.match(symbol):
            raise ValidationError(f"{path}: line {number}: {symbol!r} is not a gene symbol.")
        genes.add(symbol.upper())
    return genes


def _load(
    patients: Path, trials: Path, oncotree: Path | None, genes: Path | None
) -> tuple[Matcher, list[Trial]]:
    tree = _oncotree(oncotree)
    loaded = load_trials(trials, oncotree=tree, genes=_genes(genes))
    records = patients_from_data(read_document(patients), source=str(patients))
    return Matcher(loaded, records, tree), loaded


def _level_dict(level: Level) -> dict[str, Any]:
    return {
        "trial_id": level.trial_id,
        "level": level.path,
        "kind": level.kind,
        "name": level.name,
        "open": level.open,
        "slots": level.slots,
    }


@app.command("run")
@command_errors
def run(
    patients: PatientsOpt,
    trials: TrialsOpt,
    oncotree: OncoTreeOpt = None,
    genes: GenesOpt = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Only the levels this patient matches.")
    ] = None,
    trial: Annotated[str | None, typer.Option("--trial", help="Only this trial's levels.")] = None,
    include_closed: ClosedOpt = False,
    include_deceased: DeceasedOpt = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Match every patient against every trial level (cohorts, dose levels)."""
    matcher, loaded = _load(patients, trials, oncotree, genes)
    if trial is not None and trial not in matcher.trials:
        raise NotFoundError(f"Trial {trial!r} is not in {trials}; check the trial id.")
    rows = [
        lm
        for lm in matcher.matches(include_closed=include_closed, include_deceased=include_deceased)
        if trial is None or lm.level.trial_id == trial
    ]
    if patient is not None:
        if not matcher.has_patient(patient):
            raise NotFoundError(f"Patient {patient!r} is not in {patients}; check the id.")
        rows = [lm for lm in rows if patient in lm.patient_ids]
    result = {
        "trials": len(loaded),
        "levels": [{**_level_dict(lm.level), "patients": list(lm.patient_ids)} for lm in rows],
    }
    if fmt == OutputFormat.json:
        print_json(result)
        return
    table = Table(title=f"Matches ({len(rows)} levels)")
    for col in ("trial", "level", "kind", "status", "slots", "matched", "patients"):
        table.add_column(col)
    for lm in rows:
        shown = ", ".join(lm.patient_ids[:5]) + (" ..." if len(lm.patient_ids) > 5 else "")
        table.add_row(
            lm.level.trial_id,
            lm.level.path or "(trial)",
            lm.level.kind,
            "open" if lm.level.open else "closed",
            "-" if lm.level.slots is None else str(lm.level.slots),
            str(len(lm.patient_ids)),
            shown,
        )
    stdout.print(table)


def _explanation_dict(ex: Explanation) -> dict[str, Any]:
    out: dict[str, Any] = {"criterion": ex.criterion, "value": ex.truth.name.lower()}
    if ex.reason:
        out["reason"] = ex.reason
    if ex.evidence:
        out["evidence"] = list(ex.evidence)
    if ex.children:
        out["children"] = [_explanation_dict(c) for c in ex.children]
    return out


@app.command("explain")
@command_errors
def explain(
    patient: Annotated[str, typer.Option("--patient", help="Patient id to explain.")],
    patients: PatientsOpt,
    trials: TrialsOpt,
    oncotree: OncoTreeOpt = None,
    trial: Annotated[str | None, typer.Option("--trial", help="Only this trial.")] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Explain, criterion by criterion, why a patient matches each level or not."""
    matcher, _ = _load(patients, trials, oncotree, None)
    items = matcher.explain(patient, trial)
    if fmt == OutputFormat.json:
        print_json(
            {
                "patient": patient,
                "levels": [
                    {**_level_dict(level), "matched": ok, "explanation": _explanation_dict(ex)}
                    for level, ok, ex in items
                ],
            }
        )
        return
    for level, ok, ex in items:
        verdict = "[green]MATCH[/]" if ok else "[red]no match[/]"
        status = "" if level.open else " (closed)"
        stdout.print(f"{level.trial_id} {level.path or '(trial)'}{status}: {verdict}", markup=True)
        for line in ex.lines(1):
            stdout.print(line, markup=False)


@app.command("import-ctml")
@command_errors
def import_ctml(
    path: Annotated[Path, typer.Argument(help="A CTML file, or a directory of them.")],
    oncotree: OncoTreeOpt = None,
    genes: GenesOpt = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Validate MatchMiner CTML and print the compiled criteria of every level."""
    tree = _oncotree(oncotree)
    catalogue = _genes(genes)
    if path.is_dir():
        trials = load_trials(path, oncotree=tree, genes=catalogue)
    else:
        trials = [load_trial(path, oncotree=tree, genes=catalogue)]
    result: list[dict[str, Any]] = [
        {
            "trial_id": t.id,
            "title": t.title,
            "format": t.format,
            "open": t.open,
            "levels": [{**_level_dict(lvl), "criteria": to_dict(lvl.criteria)} for lvl in t.levels],
        }
        for t in trials
    ]
    if fmt == OutputFormat.json:
        print_json(result)
        return
    import yaml

    for item in result:
        stdout.print(
            f"[bold]{item['trial_id']}[/] ({item['format']}, "
            f"{'open' if item['open'] else 'closed'}): {len(item['levels'])} levels, valid",
            markup=True,
        )
        for lvl in item["levels"]:
            stdout.print(f"  {lvl['kind']} {lvl['level'] or '(trial)'}:", markup=False)
            text = yaml.safe_dump(lvl["criteria"], sort_keys=False).rstrip()
            for line in text.splitlines():
                stdout.print(f"    {line}", markup=False)
