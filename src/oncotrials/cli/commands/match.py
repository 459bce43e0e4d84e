"""``oncotrials match``: match patients to trials, explain matches, import CTML.

On the database (the platform's own patients, genomic reports and trials, as the system actor):
``oncotrials match --patient RESEARCH_ID`` lists the cohorts a patient matches,
``oncotrials match --trial PROTOCOL_CODE`` the patients a trial matches, ``oncotrials match run``
every match, each with its criterion-by-criterion explanation in ``--format json``;
``oncotrials match import-ctml PATH`` sets a trial's criteria from MatchMiner CTML (all or
nothing; ``--check`` only validates and prints the compiled criteria, as before).

On files: ``run --patients FILE --trials DIR`` and ``explain`` read a patients file (JSON/YAML)
and a directory of trial files (oncotrials format or CTML); formats in
``docs/formats/criteria.md``. The OncoTree is read from ``--oncotree FILE`` (cBioPortal's JSON,
or ``{code: parent}``), or from the ``ONCOTRIALS_ONCOTREE`` environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    errors_as_one_line,
    print_json,
    stderr,
    stdout,
)
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
    help="Patient-to-trial matching on the database (--patient, --trial, run) or on files; "
    "MatchMiner CTML import.",
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
        help="OncoTree JSON (cBioPortal nested tree or {code: parent}); default: the shipped "
        "tree (oncotree_2025_10_03).",
    ),
]
GenesOpt = Annotated[
    Path | None,
    typer.Option("--genes", help="Gene catalogue, one HGNC symbol per line: unknown genes fail."),
]
StatusKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--ctml-status-key",
        help="Root key of a CTML trial's status (default: _summary.status[0].value, else "
        "status, where the CTIMS editor writes it).",
    ),
]
ClosedOpt = Annotated[
    bool, typer.Option("--include-closed", help="Also list closed or suspended levels.")
]
DeceasedOpt = Annotated[
    bool, typer.Option("--include-deceased", help="Also list deceased patients.")
]


def _oncotree(path: Path | None) -> OncoTreeMap:
    """The OncoTree given, else the one the platform ships (cBioPortal's 2025-10-03 release)."""
    if path is None:
        import json
        from importlib import resources

        text = (
            resources.files("oncotrials.core.genomics")
            .joinpath("data/oncotree_2025_10_03.json")
            .read_text(encoding="utf-8")
        )
        return OncoTreeMap.from_json(json.loads(text), source="shipped OncoTree")
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
    patients: Path,
    trials: Path,
    oncotree: Path | None,
    genes: Path | None,
    status_key: str | None = None,
) -> tuple[Matcher, list[Trial]]:
    tree = _oncotree(oncotree)
    loaded = load_trials(trials, oncotree=tree, genes=_genes(genes), status_key=status_key)
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


OptPatientsOpt = Annotated[
    Path | None,
    typer.Option("--patients", help="File mode: patients file (JSON or YAML; see docs/formats)."),
]
OptTrialsOpt = Annotated[
    Path | None,
    typer.Option("--trials", help="File mode: directory of trial files (oncotrials or CTML)."),
]


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    patient: Annotated[
        str | None,
        typer.Option("--patient", help="Research id: the cohorts this patient matches."),
    ] = None,
    trial: Annotated[
        str | None,
        typer.Option("--trial", help="Protocol code: the patients this trial matches."),
    ] = None,
    include_closed: ClosedOpt = False,
    why_not: Annotated[
        str | None,
        typer.Option(
            "--why-not",
            help="With --patient: every level of this trial (protocol code), matched or not, "
            "with the first clause each fails on.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Patient-to-trial matching on the database (``--patient`` / ``--trial``) or on files."""
    if ctx.invoked_subcommand is not None:
        if patient is not None or trial is not None:
            raise typer.BadParameter("give --patient/--trial after the subcommand, or without one")
        return
    if patient is None and trial is None:
        stdout.print(ctx.get_help(), markup=False)
        raise typer.Exit(0)
    if patient is not None and trial is not None:
        raise typer.BadParameter("give --patient or --trial, not both")
    if why_not is not None and patient is None:
        raise typer.BadParameter("--why-not TRIAL goes with --patient")
    with errors_as_one_line():
        if patient is not None:
            _db_patient(patient, include_closed, fmt, why_not)
        else:
            assert trial is not None
            _db_trial(trial, include_closed, fmt)


@app.command("run")
@command_errors
def run(
    patients: OptPatientsOpt = None,
    trials: OptTrialsOpt = None,
    oncotree: OncoTreeOpt = None,
    genes: GenesOpt = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Only the levels this patient matches.")
    ] = None,
    trial: Annotated[str | None, typer.Option("--trial", help="Only this trial's levels.")] = None,
    include_closed: ClosedOpt = False,
    include_deceased: DeceasedOpt = False,
    status_key: StatusKeyOpt = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Match every patient against every trial level (database; files with --patients/--trials).

    On the database, matches are listed for open levels at the patient's site unless
    --include-closed is given; on files, the trials' own statuses apply.
    """
    if patients is None and trials is None:
        _db_run(include_closed, fmt)
        return
    if patients is None or trials is None:
        raise ValidationError(
            "File mode needs both --patients FILE and --trials DIR; give neither to match "
            "the database."
        )
    matcher, loaded = _load(patients, trials, oncotree, genes, status_key)
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
    status_key: StatusKeyOpt = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Explain, criterion by criterion, why a patient matches each level or not."""
    matcher, _ = _load(patients, trials, oncotree, None, status_key)
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
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Only validate and print the compiled criteria (no database)."
        ),
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Reason for change (audited).")] = "",
    oncotree: OncoTreeOpt = None,
    genes: GenesOpt = None,
    status_key: StatusKeyOpt = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Set our trials' machine criteria from MatchMiner CTML, all or nothing (--check: validate).

    The trial is the one whose protocol code is the CTML's protocol_no; arms go to cohorts by
    code (else by name), dose levels by number (level_code DL2 or 2).
    """
    if not check:
        _db_import_ctml(path, reason, fmt)
        return
    tree = _oncotree(oncotree)
    catalogue = _genes(genes)
    if path.is_dir():
        trials = load_trials(path, oncotree=tree, genes=catalogue, status_key=status_key)
    else:
        trials = [load_trial(path, oncotree=tree, genes=catalogue, status_key=status_key)]
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


# ------------------------------------------------------------------------- database mode
def _setup() -> None:
    from oncotrials.cli import django_setup

    django_setup.setup()


def _match_doc(m: Any, with_patient: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "trial": m.trial.protocol_code,
        "cohort": m.cohort.code if m.cohort else None,
        "dose_level": m.dose_level.level if m.dose_level else None,
        "level": m.level_path,
        "name": m.level_name,
        "open": m.open,
        "slots_available": m.slots_available,
        "registration": m.registration or None,
        "explanation": m.explanation,
    }
    if not with_patient:
        doc["matched"] = m.matched
        doc["why_not"] = m.why_not or None
    if with_patient:
        doc = {"patient": m.patient.research_id, "site": m.patient.site.code, **doc}
    return doc


def _slots_text(n: int | None) -> str:
    return "-" if n is None else str(n)


def _explanation_lines(rows: list[dict[str, Any]]) -> list[str]:
    mark = {"met": "[yes]", "not met": "[no]", "unknown": "[?]"}
    out = []
    for row in rows:
        text = f"{'  ' * (row['depth'] + 1)}{mark[row['value']]} {row['criterion']}"
        out.append(text + (f" — {row['reason']}" if row["reason"] else ""))
    return out


def _registered_text(status: str) -> str:
    return status.replace("_", " ") if status else "-"


def _db_patient(
    research_id: str, include_closed: bool, fmt: OutputFormat, why_not: str | None = None
) -> None:
    _setup()
    from oncotrials.apps.matching.engine import SYSTEM, matches_for_patient
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.apps.trials.models import Trial as DbTrial

    patient = Patient.objects.filter(research_id=research_id.strip()).first()
    if patient is None:
        raise NotFoundError(f"No patient with research id {research_id!r}; check the id.")
    if why_not is not None:
        trial = DbTrial.objects.filter(protocol_code__iexact=why_not.strip()).first()
        if trial is None:
            raise NotFoundError(f"No trial with protocol code {why_not!r}; check the code.")
        found = matches_for_patient(
            user=SYSTEM, patient=patient, include_non_matches=True, trial=trial
        )
    else:
        found = [
            m for m in matches_for_patient(user=SYSTEM, patient=patient) if include_closed or m.open
        ]
    if fmt == OutputFormat.json:
        print_json(
            {"patient": patient.research_id, "matches": [_match_doc(m, False) for m in found]}
        )
        return
    title = (
        f"{patient.research_id} against {why_not}: {sum(m.matched for m in found)} of "
        f"{len(found)} levels match"
        if why_not is not None
        else f"{patient.research_id}: {len(found)} matching levels"
    )
    table = Table(title=title)
    columns = ["trial", "level", "name", "status", "free slots", "registered"]
    if why_not is not None:
        columns += ["match", "first failing clause"]
    for col in columns:
        table.add_column(col)
    for m in found:
        cells = [
            m.trial.protocol_code,
            m.level_path or "(trial)",
            m.level_name,
            "open" if m.open else "closed",
            _slots_text(m.slots_available),
            _registered_text(m.registration),
        ]
        if why_not is not None:
            cells += ["yes" if m.matched else "no", m.why_not or "-"]
        table.add_row(*cells)
    stdout.print(table)
    for m in found:
        head = f"{m.trial.protocol_code} {m.level_path or '(trial)'}"
        if m.registration:
            head += f" (already in the trial: {_registered_text(m.registration)})"
        if m.why_not:
            head += f" does not match; first failing clause: {m.why_not}"
        stdout.print(head + ":", markup=False)
        for line in _explanation_lines(m.explanation):
            stdout.print(line, markup=False)


def _db_trial(code: str, include_closed: bool, fmt: OutputFormat) -> None:
    _setup()
    from oncotrials.apps.matching.engine import SYSTEM, matches_for_trial
    from oncotrials.apps.trials.models import Trial as DbTrial

    trial = DbTrial.objects.filter(protocol_code__iexact=code.strip()).first()
    if trial is None:
        raise NotFoundError(f"No trial with protocol code {code!r}; check the code.")
    found = [m for m in matches_for_trial(user=SYSTEM, trial=trial) if include_closed or m.open]
    if fmt == OutputFormat.json:
        print_json({"trial": trial.protocol_code, "matches": [_match_doc(m, True) for m in found]})
        return
    candidates = [m for m in found if not m.registration]
    table = Table(
        title=f"{trial.protocol_code}: {len(candidates)} candidates, "
        f"{len(found) - len(candidates)} already registered (listed apart)"
    )
    for col in ("level", "patient", "site", "status", "free slots", "registered"):
        table.add_column(col)
    for m in found:
        table.add_row(
            m.level_path or "(trial)",
            m.patient.research_id,
            m.patient.site.code,
            "open" if m.open else "closed",
            _slots_text(m.slots_available),
            _registered_text(m.registration),
        )
    stdout.print(table)


def _db_run(include_closed: bool, fmt: OutputFormat) -> None:
    _setup()
    from oncotrials.apps.matching.engine import SYSTEM, match_all

    summary = match_all(user=SYSTEM)
    found = [m for m in summary.matches if include_closed or m.open]
    if fmt == OutputFormat.json:
        print_json(
            {
                "patients": summary.patients,
                "trials": summary.trials,
                "levels": summary.levels,
                "matches": [_match_doc(m, True) for m in found],
                "problems": list(summary.problems),
            }
        )
        return
    per_level: dict[tuple[str, str], list[str]] = {}
    for m in found:
        per_level.setdefault((m.trial.protocol_code, m.level_path), []).append(
            m.patient.research_id
        )
    table = Table(
        title=f"{len(found)} matches: {summary.patients} patients x {summary.levels} levels "
        f"of {summary.trials} trials"
    )
    for col in ("trial", "level", "matched", "patients"):
        table.add_column(col)
    for (trial, level), ids in sorted(per_level.items()):
        shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        table.add_row(trial, level or "(trial)", str(len(ids)), shown)
    stdout.print(table)
    for problem in summary.problems:
        stderr.print(f"warning: {problem}", markup=False)


def _db_import_ctml(path: Path, reason: str, fmt: OutputFormat) -> None:
    _setup()
    from django.db import transaction

    from oncotrials.apps.audit.context import audit_context
    from oncotrials.apps.matching.criteria import ctml_document, ctml_import

    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json"))
    elif path.is_file():
        files = [path]
    else:
        raise NotFoundError(f"{path}: no such file or directory.")
    results = []
    with audit_context(channel="cli", user=None), transaction.atomic():
        for file in files:
            data = ctml_document(file.read_text(encoding="utf-8"), source=str(file))
            items = data if isinstance(data, list) else [data]  # a JSON array of trials
            for i, item in enumerate(items):
                source = f"{file}[{i}]" if isinstance(data, list) else str(file)
                results.append(ctml_import(data=item, source=source, by=None, reason=reason))
    docs = [r.as_dict() for r in results]
    if fmt == OutputFormat.json:
        print_json(docs)
        return
    for doc in docs:
        stdout.print(
            f"{doc['trial']} (version {doc['trial_version']}): "
            + "; ".join(f"{x['ctml']} -> {x['target']}" for x in doc["levels"]),
            markup=False,
        )
        for warning in doc["warnings"]:
            stderr.print(f"warning: {warning}", markup=False)
