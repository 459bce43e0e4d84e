"""``oncotrials randomise``: permuted-block lists and minimisation operating characteristics."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    print_json,
    stderr,
    stdout,
)
from oncotrials.core.errors import ValidationError
from oncotrials.core.randomisation import (
    AllocationSimulation,
    BlockList,
    MinimisationConfig,
    permuted_block_list,
    simulate_allocation,
)

app = typer.Typer(
    help="Randomisation: permuted-block lists and minimisation simulations.", no_args_is_help=True
)


@app.callback()
def _randomise() -> None:
    """Randomisation: permuted-block lists and minimisation simulations."""


ArmsOption = Annotated[
    str, typer.Option("--arms", help="Arms and integer ratios, e.g. A:1,B:1 or T:2,C:1.")
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Random seed (same seed, same output).")
]


def parse_arms_text(text: str) -> dict[str, int]:
    """``"A:1,B:1"`` → ``{"A": 1, "B": 1}``; an arm without a ratio has ratio 1."""
    arms: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, ratio = part.partition(":")
        name = name.strip()
        try:
            value = int(ratio) if ratio.strip() else 1
        except ValueError:
            raise ValidationError(
                f"--arms: the ratio of arm {name!r} must be a whole number; got {ratio!r} "
                "(write e.g. A:2,B:1)."
            ) from None
        if name in arms:
            raise ValidationError(f"--arms: arm {name!r} is listed twice.")
        arms[name] = value
    return arms


def parse_factors_text(text: str, option: str) -> dict[str, list[str]]:
    """``"site=A,B;ecog=0,1"`` → ``{"site": ["A", "B"], "ecog": ["0", "1"]}``."""
    factors: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, levels = part.partition("=")
        if not sep or not name.strip():
            raise ValidationError(
                f"{option}: {part!r} must be a factor and its levels, e.g. site=A,B."
            )
        factors[name.strip()] = [v.strip() for v in levels.split(",") if v.strip()]
    return factors


def _ints(text: str, option: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            f"{option}: give whole numbers separated by commas (e.g. 4,6); got {text!r}."
        ) from None


def block_list_document(lst: BlockList, seed: int | None) -> dict[str, Any]:
    return {
        "seed": seed,
        "arms": [{"name": a.name, "ratio": a.ratio} for a in lst.arms],
        "block_sizes": list(lst.block_sizes),
        "factors": {name: list(levels) for name, levels in lst.factors},
        "strata": [
            {
                "stratum": s.label,
                "levels": dict(s.levels),
                "n": len(s),
                "allocations": list(s.allocations),
                "blocks": [{"index": b.index, "start": b.start, "size": b.size} for b in s.blocks],
            }
            for s in lst.strata
        ],
    }


def _write_csv(lst: BlockList, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["stratum", "sequence", "block", "block_size", "arm"])
        for s in lst.strata:
            for b in s.blocks:
                for i in range(b.start, b.stop):
                    writer.writerow([s.label, i + 1, b.index + 1, b.size, s.allocations[i]])


@app.command("blocks")
@command_errors
def blocks(
    arms: ArmsOption,
    n: Annotated[int, typer.Option("--n", help="Minimum allocations per stratum.")],
    block_sizes: Annotated[
        str, typer.Option("--blocks", help="Allowed block sizes, e.g. 4,6.")
    ] = "4,6",
    strata: Annotated[
        str | None,
        typer.Option("--strata", help="Stratification factors, e.g. 'site=A,B;ecog=0,1'."),
    ] = None,
    seed: SeedOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the list as CSV here.", dir_okay=False),
    ] = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Generate a stratified permuted-block allocation list (complete blocks per stratum)."""
    lst = permuted_block_list(
        arms=parse_arms_text(arms),
        block_sizes=_ints(block_sizes, "--blocks"),
        n=n,
        strata=parse_factors_text(strata, "--strata") if strata else None,
        rng=seed,
    )
    if out is not None:
        _write_csv(lst, out)
        stderr.print(f"Wrote {sum(len(s) for s in lst.strata)} rows to {escape(str(out))}.")
    if output is OutputFormat.json:
        print_json(block_list_document(lst, seed))
        return
    if out is None:
        table = Table(title="Allocation list (confidential)", title_justify="left")
        for column in ("Stratum", "Seq", "Block", "Arm"):
            table.add_column(column)
        for s in lst.strata:
            for b in s.blocks:
                for i in range(b.start, b.stop):
                    table.add_row(
                        escape(s.label),
                        str(i + 1),
                        f"{b.index + 1} ({b.size})",
                        escape(s.allocations[i]),
                    )
        stdout.print(table)
    summary = Table(title="Per stratum", title_justify="left")
    for column in ("Stratum", "Rows", "Blocks", *(a.name for a in lst.arms)):
        summary.add_column(column)
    for s in lst.strata:
        summary.add_row(
            escape(s.label),
            str(len(s)),
            str(len(s.blocks)),
            *(str(s.allocations.count(a.name)) for a in lst.arms),
        )
    stdout.print(summary)


def _summary(sim: AllocationSimulation) -> dict[str, Any]:
    imbalance = sim.max_marginal_imbalance
    totals = sim.arm_totals
    return {
        "method": sim.method,
        "max_marginal_imbalance": {
            "mean": float(imbalance.mean()),
            "median": float(np.median(imbalance)),
            "p95": float(np.quantile(imbalance, 0.95)),
            "max": float(imbalance.max()),
        },
        "arm_totals": {
            a.name: {"mean": float(totals[:, j].mean()), "sd": float(totals[:, j].std())}
            for j, a in enumerate(sim.config.arms)
        },
        "preferred_rate": None if sim.decided == 0 else sim.preferred_rate,
        "decisions_with_preference": sim.decided,
    }


@app.command("simulate-minimisation")
@command_errors
def simulate_minimisation(
    arms: ArmsOption,
    factors: Annotated[
        str,
        typer.Option("--factors", help="Factors and levels, e.g. 'sex=F,M;age=<65,>=65;ecog=0,1'."),
    ],
    weights: Annotated[
        str | None, typer.Option("--weights", help="Factor weights, e.g. sex=1,ecog=2.")
    ] = None,
    p: Annotated[float, typer.Option("--p", help="Probability of the preferred arm.")] = 0.8,
    measure: Annotated[str, typer.Option("--measure", help="range or variance.")] = "range",
    patients: Annotated[int, typer.Option("--patients", help="Patients per trial.")] = 200,
    trials: Annotated[int, typer.Option("--trials", help="Simulated trials.")] = 1000,
    seed: SeedOption = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Simulate accrual under minimisation and under simple randomisation; compare balance."""
    parsed_weights: dict[str, float] = {}
    for part in (w.strip() for w in (weights or "").split(",")):
        if not part:
            continue
        name, _, value = part.partition("=")
        try:
            parsed_weights[name.strip()] = float(value)
        except ValueError:
            raise ValidationError(
                f"--weights: the weight of {name.strip()!r} must be a number; got {value!r}."
            ) from None
    config = MinimisationConfig(
        arms=parse_arms_text(arms),
        factors=parse_factors_text(factors, "--factors"),
        weights=parsed_weights or None,
        p=p,
        measure=measure,
    )
    generator = np.random.default_rng(seed)
    methods: tuple[Literal["minimisation", "simple"], ...] = ("minimisation", "simple")
    summaries = [
        _summary(
            simulate_allocation(
                config, n_patients=patients, n_trials=trials, method=method, rng=generator
            )
        )
        for method in methods
    ]
    document = {
        "seed": seed,
        "patients": patients,
        "trials": trials,
        "p": p,
        "measure": measure,
        "results": summaries,
    }
    if output is OutputFormat.json:
        print_json(document)
        return
    table = Table(
        title=f"{trials} trials of {patients} patients (largest marginal imbalance per trial)",
        title_justify="left",
    )
    for column in ("Method", "Mean", "Median", "95th pct", "Max", "Preferred arm taken"):
        table.add_column(column)
    for r in summaries:
        m = r["max_marginal_imbalance"]
        rate = "—" if r["preferred_rate"] is None else f"{r['preferred_rate']:.3f}"
        table.add_row(
            r["method"],
            f"{m['mean']:.2f}",
            f"{m['median']:g}",
            f"{m['p95']:g}",
            f"{m['max']:g}",
            rate,
        )
    stdout.print(table)
