"""``oncotrials design``: decision tables, live decisions and operating characteristics.

Dose levels are numbered from 1 (the lowest dose) on the command line and in its JSON output;
the Python API (``oncotrials.core.designs``) uses 0-based indexes.

Commands defined elsewhere (for example the CRM and Simon commands of
``oncotrials.cli.commands.design_model``) attach to the same group with :func:`register`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    print_json,
    stderr,
    stdout,
)
from oncotrials.core.designs.base import (
    Decision,
    DoseData,
    EscalationSettings,
    check_truth,
    parse_dose_data,
)
from oncotrials.core.designs.boin import BOIN
from oncotrials.core.designs.interval import IntervalDesign
from oncotrials.core.designs.registry import (
    DESIGNS,
    LiveDesign,
    design_for_escalation,
    get_design,
    is_live,
    resolve_name,
)
from oncotrials.core.designs.simulate import Scenario, SimulationResult, load_scenarios
from oncotrials.core.designs.threeplusthree import ThreePlusThree
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.errors import ValidationError

app = typer.Typer(
    help="Dose-finding designs: decision tables, live decisions, operating characteristics.",
    no_args_is_help=True,
)


def _table_design(cls: type) -> bool:
    """Designs with a decision table and a vectorised simulation (``boundaries``, ``simulate``)."""
    return issubclass(cls, IntervalDesign | ThreePlusThree)


#: The designs ``decide`` runs (every live design of the registry); ``boundaries`` and
#: ``simulate`` take the table designs among them.
DESIGN_NAMES = ", ".join(
    name if _table_design(cls) else f"{name} (decide only)"
    for name, cls in DESIGNS.items()
    if is_live(cls)
)


def register(commands: Mapping[str, Callable[..., Any]]) -> None:
    """Attach commands defined in other modules under ``oncotrials design``.

    ``register({"crm": design_model.crm, "simon": design_model.simon})`` makes
    ``oncotrials design crm`` and ``oncotrials design simon`` available.
    """
    for name, func in commands.items():
        app.command(name)(func)


# --- options -------------------------------------------------------------------------------

DesignArg = Annotated[str, typer.Argument(help=f"Design: {DESIGN_NAMES}.")]
TargetOpt = Annotated[float, typer.Option("--target", "-t", help="Target DLT rate.")]
CohortOpt = Annotated[int, typer.Option("--cohort-size", help="Patients per cohort.")]
NCohortsOpt = Annotated[int, typer.Option("--n-cohorts", help="Maximum number of cohorts.")]
EarlyOpt = Annotated[
    int, typer.Option("--n-earlystop", help="Stop when this many patients are at one dose.")
]
ExtraOpt = Annotated[
    bool, typer.Option("--extrasafe", help="Extra-safe stopping rule for the lowest dose.")
]
PSafOpt = Annotated[
    float | None, typer.Option("--p-saf", help="BOIN: highest sub-therapeutic rate.")
]
PToxOpt = Annotated[float | None, typer.Option("--p-tox", help="BOIN: lowest overly toxic rate.")]
MarginOpt = Annotated[
    float,
    typer.Option("--margin", help="Keyboard/mTPI-2/i3+3: half-width of the target interval."),
]
VariantOpt = Annotated[
    str, typer.Option("--variant", help="3+3: deescalation (default) or escalation_only.")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="A design parameter as key=value (JSON value), e.g. skeleton=[0.1,0.2,0.3]; "
        "repeatable. 'oncotrials design list' shows each design's parameters.",
    ),
]


def design_name(name: str) -> str:
    """The registry name of a design given by name or alias."""
    return resolve_name(name)


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``["skeleton=[0.1,0.2]", "model=logistic"]`` -> a dict (values read as JSON, else text)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--param must read key=value; got {item!r}.")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def make_design(
    name: str,
    *,
    target: float = 0.3,
    cohort_size: int = 3,
    n_cohorts: int = 12,
    n_earlystop: int = 100,
    extrasafe: bool = False,
    p_saf: float | None = None,
    p_tox: float | None = None,
    margin: float = 0.05,
    variant: str = "deescalation",
    n_doses: int = 0,
    params: Mapping[str, Any] | None = None,
) -> LiveDesign:
    """Build a live design of the registry from command-line options.

    The options are mapped to the parameters the design declares (``escalation_params``),
    as for a cohort's escalation plan; ``params`` adds others (``--param key=value``).
    ``--p-saf``/``--p-tox`` for a design without them are errors.
    """
    key = design_name(name)
    cls: Any = get_design(key)
    declared = cls.escalation_params if is_live(cls) else {}
    if "p_saf" not in declared and (p_saf is not None or p_tox is not None):
        raise ValidationError(f"--p-saf and --p-tox apply to BOIN only; got design {name!r}.")
    options: dict[str, Any] = {
        "n_earlystop": n_earlystop,
        "p_saf": p_saf,
        "p_tox": p_tox,
        "margin_l": margin,
        "margin_r": margin,
        "variant": variant,
    }
    chosen = {k: v for k, v in options.items() if k in declared and v is not None}
    if extrasafe:
        chosen["extrasafe"] = True
    settings = EscalationSettings(
        n_doses=n_doses,
        target=target,
        cohort_size=cohort_size,
        max_sample_size=cohort_size * n_cohorts,
        params={**chosen, **(params or {})},
    )
    return design_for_escalation(key, settings)


def _check_table_design(name: str, command: str) -> None:
    """``boundaries`` and ``simulate`` need a decision table (TITE-BOIN: BOIN's)."""
    cls = get_design(name)
    if not (_table_design(cls) or cls is TITEBOIN):
        supported = ", ".join(n for n, c in DESIGNS.items() if _table_design(c) or c is TITEBOIN)
        raise ValidationError(
            f"'oncotrials design {command}' runs {supported}; for {design_name(name)} use "
            "'oncotrials design decide' or its own commands (see 'oncotrials design --help')."
        )


def parse_truth(text: str) -> tuple[float, ...]:
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            f"--truth must be comma-separated DLT probabilities such as 0.05,0.1,0.2; got {text!r}."
        ) from None
    return tuple(float(v) for v in check_truth(values))


def read_data_file(path: Path) -> tuple[DoseData, ...]:
    """Read dose data: a JSON list of {treated, dlts[, pending, follow_up]} or ``3/0,3/1`` text.

    ``follow_up`` lists, for each pending patient, the fraction of the DLT window observed
    (TITE-BOIN); without it pending patients count as not followed up at all.
    """
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("["):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{path.name}: not valid JSON ({exc.msg}).") from None
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or "treated" not in item or "dlts" not in item:
                raise ValidationError(
                    f"{path.name}: entry {i} must be an object with 'treated' and 'dlts'; "
                    f"got {item!r}."
                )
            out.append(
                DoseData(
                    treated=int(item["treated"]),
                    dlts=int(item["dlts"]),
                    pending=int(item.get("pending", 0)),
                    follow_up=tuple(float(f) for f in item.get("follow_up", ())),
                )
            )
        return tuple(out)
    return parse_dose_data(text.replace("\n", ","))


# --- boundaries ------------------------------------------------------------------------------

THREE_PLUS_THREE_RULES = [
    {"n": 3, "dlts": "0", "action": "escalate (top dose: it is the MTD)"},
    {"n": 3, "dlts": "1", "action": "treat 3 more at the same dose"},
    {"n": 3, "dlts": ">=2", "action": "dose exceeded"},
    {"n": 6, "dlts": "<=1", "action": "escalate; MTD if a higher dose was exceeded or top dose"},
    {"n": 6, "dlts": ">=2", "action": "dose exceeded"},
]


@app.command()
@command_errors
def boundaries(
    design: DesignArg,
    target: TargetOpt = 0.3,
    cohort_size: CohortOpt = 3,
    n_cohorts: NCohortsOpt = 10,
    extrasafe: ExtraOpt = False,
    p_saf: PSafOpt = None,
    p_tox: PToxOpt = None,
    margin: MarginOpt = 0.05,
    full: Annotated[
        bool, typer.Option("--full", help="Also print every (n, DLTs) decision letter.")
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Print the decision table of a design (as BOIN::get.boundary), for the protocol."""
    _check_table_design(design, "boundaries")
    d: Any = make_design(
        design,
        target=target,
        cohort_size=cohort_size,
        n_cohorts=n_cohorts,
        extrasafe=extrasafe,
        p_saf=p_saf,
        p_tox=p_tox,
        margin=margin,
    )
    if isinstance(d, TITEBOIN):
        d = d._boin()  # TITE-BOIN compares the ESS-based rate with BOIN's boundaries
    if isinstance(d, ThreePlusThree):
        doc: dict[str, Any] = {"design": "3+3", "rules": THREE_PLUS_THREE_RULES}
        if fmt is OutputFormat.json:
            print_json(doc)
            return
        table = Table(title="3+3 rules")
        for col in ("patients", "DLTs", "action"):
            table.add_column(col)
        for r in THREE_PLUS_THREE_RULES:
            table.add_row(str(r["n"]), str(r["dlts"]), str(r["action"]))
        stdout.print(table)
        return
    tab = d.decision_table()
    doc = tab.to_dict(cohort_size=1 if full else cohort_size)
    if not full:
        doc.pop("table")
    if isinstance(d, BOIN):
        lam_e, lam_d = d.lambdas
        doc["lambda_e"] = lam_e
        doc["lambda_d"] = lam_d
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    title = f"{tab.design} decision boundaries, target {tab.target:g}"
    if isinstance(d, BOIN):
        title += (
            f" (escalate if rate <= {doc['lambda_e']:.4f}, de-escalate if > {doc['lambda_d']:.4f})"
        )
    rows = tab.boundaries(cohort_size)
    table = Table(title=title)
    table.add_column("Number of patients treated")
    for r in rows:
        table.add_column(str(r["n"]), justify="right")
    labels = [
        ("Escalate if # of DLT <=", "escalate_if_dlts_at_most"),
        ("De-escalate if # of DLT >=", "deescalate_if_dlts_at_least"),
        ("Eliminate if # of DLT >=", "eliminate_if_dlts_at_least"),
    ]
    if tab.stop_lowest is not None:
        labels.append(("Stop (lowest dose) if # of DLT >=", "stop_if_lowest_dose_dlts_at_least"))
    for label, key in labels:
        table.add_row(label, *("NA" if r[key] is None else str(r[key]) for r in rows))
    stdout.print(table)
    if full:
        grid = Table(title="Decision for each number of DLTs (E, S, D, DU)")
        grid.add_column("n")
        grid.add_column("DLTs 0, 1, 2, ...")
        for n, letters in tab.grid(1).items():
            grid.add_row(str(n), " ".join(letters))
        stdout.print(grid)


# --- decide ----------------------------------------------------------------------------------


def decision_doc(design: str, dec: Decision) -> dict[str, Any]:
    def lvl(i: int | None) -> int | None:
        return None if i is None else i + 1

    return {
        "design": design,
        "action": dec.action.value,
        "current_dose": dec.current_dose + 1,
        "next_dose": lvl(dec.next_dose),
        "reason": dec.reason,
        "rule": dec.rule,
        "eliminated_doses": [i + 1 for i in dec.eliminated],
        "mtd": lvl(dec.mtd),
    }


@app.command()
@command_errors
def decide(
    design: DesignArg,
    current: Annotated[
        int, typer.Option("--current", "-c", help="Current dose level (1 = lowest).")
    ],
    data: Annotated[
        str | None,
        typer.Option("--data", "-d", help="treated/DLTs per dose, lowest first: '3/0,3/1,0/0'."),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option("--data-file", help="File with the data (JSON list or '3/0,3/1' text)."),
    ] = None,
    target: TargetOpt = 0.3,
    cohort_size: CohortOpt = 3,
    n_cohorts: NCohortsOpt = 12,
    n_earlystop: EarlyOpt = 100,
    extrasafe: ExtraOpt = False,
    p_saf: PSafOpt = None,
    p_tox: PToxOpt = None,
    margin: MarginOpt = 0.05,
    variant: VariantOpt = "deescalation",
    param: ParamOpt = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """The next action for the data observed so far (escalate, stay, de-escalate, ...).

    Every design of 'oncotrials design list' with a live decision runs here; a CRM needs
    '--param skeleton=[...]', EWOC '--param doses=[...]'.
    """
    if (data is None) == (data_file is None):
        raise ValidationError("Give the dose data with exactly one of --data or --data-file.")
    doses = parse_dose_data(data) if data is not None else read_data_file(data_file)  # type: ignore[arg-type]
    d = make_design(
        design,
        target=target,
        cohort_size=cohort_size,
        n_cohorts=n_cohorts,
        n_earlystop=n_earlystop,
        extrasafe=extrasafe,
        p_saf=p_saf,
        p_tox=p_tox,
        margin=margin,
        variant=variant,
        n_doses=len(doses),
        params=parse_params(param),
    )
    if not 1 <= current <= len(doses):
        raise ValidationError(
            f"--current must be a dose level between 1 and {len(doses)} (the doses in --data); "
            f"got {current}."
        )
    dec = d.decide(doses, current - 1)
    doc = decision_doc(design_name(design), dec)
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    nxt = "" if doc["next_dose"] is None else f" -> dose {doc['next_dose']}"
    stdout.print(f"[bold]{doc['action'].upper()}[/]{nxt}: {dec.reason}", markup=True)
    if dec.rule:
        stdout.print(f"rule: {dec.rule}")
    if dec.eliminated:
        stdout.print(f"eliminated doses: {', '.join(str(i) for i in doc['eliminated_doses'])}")


# --- simulate --------------------------------------------------------------------------------


def plot_selection(results: Sequence[SimulationResult], names: Sequence[str], path: Path) -> None:
    """Bar chart of selection % per dose (one group of bars per scenario), PNG or SVG."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValidationError(f"--plot must end in .png or .svg; got {path.name!r}.")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(results[0].truth)
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(1.2 * k + 3, 4))
    for i, (res, name) in enumerate(zip(results, names, strict=True)):
        xs = [j + 1 + (i - (len(results) - 1) / 2) * width for j in range(k)]
        ax.bar(xs, res.selection_percent, width=width, label=name)
    ax.set_xticks(range(1, k + 1))
    ax.set_xlabel("Dose level")
    ax.set_ylabel("Selected as MTD (%)")
    ax.set_title(f"{results[0].design}: selection per dose ({results[0].n_trials} trials)")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format=suffix[1:], metadata={"Date": None} if suffix == ".svg" else None)
    plt.close(fig)


def _result_table(res: SimulationResult, name: str) -> Table:
    k = len(res.truth)
    table = Table(title=f"{res.design} — {name} ({res.n_trials} trials)")
    table.add_column("")
    for j in range(k):
        table.add_column(f"dose {j + 1}", justify="right")
    table.add_column("none", justify="right")
    table.add_row("true DLT rate", *(f"{v:g}" for v in res.truth), "")
    table.add_row(
        "selected %", *(f"{v:.1f}" for v in res.selection_percent), f"{100 * res.no_selection:.1f}"
    )
    table.add_row("patients", *(f"{v:.2f}" for v in res.patients), "")
    table.add_row("DLTs", *(f"{v:.2f}" for v in res.dlts), "")
    return table


@app.command()
@command_errors
def simulate(
    design: DesignArg,
    truth: Annotated[
        str | None, typer.Option("--truth", help="True DLT rates per dose: 0.05,0.1,0.2,...")
    ] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option("--scenarios", help="Scenario file (JSON or YAML, docs/formats)."),
    ] = None,
    trials: Annotated[int, typer.Option("--trials", "-n", help="Simulated trials.")] = 10_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    start_dose: Annotated[int, typer.Option("--start-dose", help="Starting dose level.")] = 1,
    target: TargetOpt = 0.3,
    cohort_size: CohortOpt = 3,
    n_cohorts: NCohortsOpt = 12,
    n_earlystop: EarlyOpt = 100,
    extrasafe: ExtraOpt = False,
    p_saf: PSafOpt = None,
    p_tox: PToxOpt = None,
    margin: MarginOpt = 0.05,
    variant: VariantOpt = "deescalation",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write selection per dose to a .png/.svg.")
    ] = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="3+3 only: exact probabilities instead of simulation.")
    ] = False,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Operating characteristics over simulated trials (vectorised; seeded).

    With several scenarios, scenario i (from 0) uses seed + i.
    """
    if (truth is None) == (scenarios is None):
        raise ValidationError("Give the true DLT rates with exactly one of --truth or --scenarios.")
    if truth is not None:
        items = [Scenario(name="scenario 1", truth=parse_truth(truth))]
    else:
        sf = load_scenarios(scenarios)  # type: ignore[arg-type]
        items = list(sf.scenarios)
        target = sf.target if sf.target is not None else target
        cohort_size = sf.cohort_size or cohort_size
        n_cohorts = sf.n_cohorts or n_cohorts
        trials = sf.n_trials or trials
        seed = sf.seed if sf.seed is not None else seed
        start_dose = sf.start_dose or start_dose
    _check_table_design(design, "simulate")
    d: Any = make_design(
        design,
        target=target,
        cohort_size=cohort_size,
        n_cohorts=n_cohorts,
        n_earlystop=n_earlystop,
        extrasafe=extrasafe,
        p_saf=p_saf,
        p_tox=p_tox,
        margin=margin,
        variant=variant,
    )
    human = fmt is OutputFormat.human
    if isinstance(d, TITEBOIN):
        raise ValidationError(
            "Simulation of TITE-BOIN (with accrual and time to toxicity) is not available yet; "
            "simulate boin for the operating characteristics without late toxicity."
        )
    if exact:
        if not isinstance(d, ThreePlusThree):
            raise ValidationError(f"--exact applies to the 3+3 design only; got {design!r}.")
        _print_exact(d, items, human=human, single=truth is not None)
        return
    results: list[SimulationResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=not human,
        transient=True,
    ) as bar:
        for i, sc in enumerate(items):
            task = bar.add_task(sc.name, total=1.0)

            def tick(done: int, total: int, _task: Any = task) -> None:
                bar.update(_task, completed=done / max(total, 1))

            res = d.simulate(
                sc.truth,
                n_trials=trials,
                rng=None if seed is None else seed + i,
                start_dose=start_dose - 1,
                progress=tick,
            )
            results.append(res)
    if plot is not None:
        plot_selection(results, [sc.name for sc in items], plot)
    if not human:
        docs = [{"scenario": sc.name, **r.summary()} for sc, r in zip(items, results, strict=True)]
        for doc in docs:
            doc["settings"]["start_dose"] = start_dose  # dose levels count from 1 here
        print_json(docs[0] if truth is not None else docs)
        return
    for sc, res in zip(items, results, strict=True):
        stdout.print(_result_table(res, sc.name))
        stdout.print(
            f"no selection {100 * res.no_selection:.1f}%, stopped early for toxicity "
            f"{100 * res.early_stop:.1f}%, mean sample size {res.total_patients:.1f}, "
            f"mean DLTs {res.total_dlts:.2f}"
        )
    if plot is not None:
        stderr.print(f"plot written to {plot}")


def _print_exact(
    d: ThreePlusThree, items: Sequence[Scenario], *, human: bool, single: bool
) -> None:
    docs = [{"scenario": sc.name, **d.exact(sc.truth).summary()} for sc in items]
    if not human:
        print_json(docs[0] if single else docs)
        return
    for doc in docs:
        k = len(doc["truth"])
        table = Table(title=f"3+3 ({doc['variant']}) — {doc['scenario']}: exact")
        table.add_column("")
        for j in range(k):
            table.add_column(f"dose {j + 1}", justify="right")
        table.add_column("none", justify="right")
        table.add_row("true DLT rate", *(f"{v:g}" for v in doc["truth"]), "")
        table.add_row(
            "selected %",
            *(f"{v:.2f}" for v in doc["selection_percent"]),
            f"{doc['no_selection_percent']:.2f}",
        )
        table.add_row("patients", *(f"{v:.2f}" for v in doc["patients_per_dose"]), "")
        stdout.print(table)
        stdout.print(f"expected sample size {doc['expected_sample_size']:.2f}")


# --- list ------------------------------------------------------------------------------------


@app.command("list")
@command_errors
def list_designs(fmt: FormatOption = OutputFormat.human) -> None:
    """The designs of the registry: names, aliases, live decision, escalation-plan parameters."""
    docs: list[dict[str, Any]] = []
    for name, cls in DESIGNS.items():
        live = is_live(cls)
        params = getattr(cls, "escalation_params", {}) if live else {}
        docs.append(
            {
                "name": name,
                "label": getattr(cls, "label", name),
                "aliases": list(getattr(cls, "aliases", ())),
                "live": live,
                "parameters": {
                    k: {"kind": p.kind, "help": p.help, "required": p.required}
                    for k, p in params.items()
                },
            }
        )
    if fmt is OutputFormat.json:
        print_json(docs)
        return
    table = Table(title="Dose-finding designs")
    for col in ("name", "design", "aliases", "live decision", "plan parameters"):
        table.add_column(col)
    for doc in docs:
        table.add_row(
            doc["name"],
            doc["label"],
            ", ".join(doc["aliases"]),
            "yes" if doc["live"] else "no",
            ", ".join(f"{k}{'*' if v['required'] else ''}" for k, v in doc["parameters"].items()),
        )
    stdout.print(table)
    stdout.print("* required. A live design can run a trial cohort's dose escalation.")


__all__ = ["app", "list_designs", "make_design", "register"]
