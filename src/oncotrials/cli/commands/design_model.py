"""Model-based dose finding and phase II commands, attached under ``oncotrials design``.

``simon``, ``single-stage``, ``pp-monitor``, ``getprior``, ``crm-decide`` and ``crm-simulate``.
Dose levels are numbered from 1 (the lowest dose) on the command line and in the JSON output,
as in the other ``design`` commands; the Python API uses 0-based indexes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from oncotrials.cli.output import (
    FormatOption,
    OutputFormat,
    command_errors,
    print_json,
    stderr,
    stdout,
)
from oncotrials.core.designs.base import parse_dose_data
from oncotrials.core.designs.crm import CRM, crm_pathways, simulate_crm
from oncotrials.core.designs.crm import getprior as core_getprior
from oncotrials.core.designs.ewoc import EWOC
from oncotrials.core.designs.phase2 import (
    SimonDesign,
    pp_boundaries,
    pp_design_search,
    pp_operating_characteristics,
    simon_two_stage,
)
from oncotrials.core.designs.phase2 import (
    single_stage as core_single_stage,
)
from oncotrials.core.designs.tite_crm import simulate_tite_crm
from oncotrials.core.errors import ValidationError

app = typer.Typer(
    help="Model-based dose finding (CRM) and phase II designs (Simon, predictive probability).",
    no_args_is_help=True,
)


def parse_floats(name: str, text: str) -> list[float]:
    """Parse '0.05,0.1,0.2' into floats, naming the option and the bad item."""
    items = [s.strip() for s in text.replace(";", ",").split(",") if s.strip()]
    if not items:
        raise ValidationError(f"{name} is empty; give comma-separated numbers, e.g. 0.05,0.1,0.2.")
    out = []
    for i, item in enumerate(items):
        try:
            v = float(item)
        except ValueError:
            raise ValidationError(f"{name}: item {i + 1} is not a number; got {item!r}.") from None
        if not math.isfinite(v):
            raise ValidationError(f"{name}: item {i + 1} must be finite; got {item!r}.")
        out.append(v)
    return out


def _design_doc(d: SimonDesign) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": d.kind,
        "r1": d.r1,
        "n1": d.n1,
        "r": d.r,
        "n": d.n,
        "en_p0": d.en0,
        "pet_p0": d.pet0,
        "alpha": d.alpha,
        "power": d.power,
    }
    if d.q_low is not None:
        doc["q_low"] = d.q_low
        doc["q_high"] = d.q_high
    return doc


# --- Simon two-stage ----------------------------------------------------------------------


@app.command("simon")
@command_errors
def simon(
    p0: Annotated[float, typer.Option("--p0", help="Uninteresting response rate.")],
    p1: Annotated[float, typer.Option("--p1", help="Desirable response rate.")],
    alpha: Annotated[float, typer.Option("--alpha", help="Type I error bound (strict).")] = 0.05,
    power: Annotated[float, typer.Option("--power", help="Power (1 - beta), strict.")] = 0.8,
    nmax: Annotated[int, typer.Option("--nmax", help="Largest total sample size.")] = 100,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Simon two-stage designs: minimax, admissible and optimal (as clinfun::ph2simon)."""
    beta = 1.0 - power
    if not 0.0 < power < 1.0:
        raise ValidationError(f"--power must lie in (0, 1); got {power!r}.")
    start = time.perf_counter()
    res = simon_two_stage(p0, p1, alpha, beta, nmax=nmax)
    elapsed = time.perf_counter() - start
    doc = {
        "p0": res.p0,
        "p1": res.p1,
        "alpha": res.alpha,
        "power": power,
        "nmax": res.nmax,
        "rule": "stop after n1 if responses <= r1; promising if total responses > r",
        "minimax": _design_doc(res.minimax),
        "optimal": _design_doc(res.optimal),
        "admissible": [_design_doc(d) for d in res.admissible],
        "warning": res.warning,
        "seconds": round(elapsed, 4),
    }
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table(
        title=f"Simon two-stage designs: p0={p0:g}, p1={p1:g}, alpha={alpha:g}, power={power:g}"
    )
    for col in ("design", "r1/n1", "r/n", "EN(p0)", "PET(p0)", "alpha", "power", "q range"):
        table.add_column(col)
    for d in res.admissible:
        q = "" if d.q_low is None else f"{d.q_low:.3f}-{d.q_high:.3f}"
        table.add_row(
            d.kind, f"{d.r1}/{d.n1}", f"{d.r}/{d.n}", f"{d.en0:.2f}", f"{d.pet0:.3f}",
            f"{d.alpha:.4f}", f"{d.power:.4f}", q,
        )  # fmt: skip
    stdout.print(table)
    stdout.print("Stop after stage 1 if responses <= r1; the drug is promising if responses > r.")
    if res.warning:
        stderr.print(f"[yellow]warning:[/] {res.warning}", markup=True)


@app.command("single-stage")
@command_errors
def single_stage(
    p0: Annotated[float, typer.Option("--p0", help="Uninteresting response rate.")],
    p1: Annotated[float, typer.Option("--p1", help="Desirable response rate.")],
    alpha: Annotated[float, typer.Option("--alpha", help="Type I error bound.")] = 0.05,
    power: Annotated[float, typer.Option("--power", help="Power (1 - beta).")] = 0.8,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="PhIIdesign's eps (0: exact, as clinfun).")
    ] = 0.0,
    solutions: Annotated[int, typer.Option("--solutions", help="Designs to list.")] = 1,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Exact single-stage designs (A'Hern 2001; clinfun::ph2single)."""
    if not 0.0 < power < 1.0:
        raise ValidationError(f"--power must lie in (0, 1); got {power!r}.")
    designs = core_single_stage(
        p0, p1, alpha, 1.0 - power, tolerance=tolerance, n_solutions=solutions
    )
    doc = [{"n": d.n, "r": d.r, "alpha": d.alpha, "power": d.power} for d in designs]
    if fmt is OutputFormat.json:
        print_json({"p0": p0, "p1": p1, "designs": doc})
        return
    for d in designs:
        stdout.print(
            f"n = {d.n}, promising if responses > {d.r}: alpha = {d.alpha:.4f}, "
            f"power = {d.power:.4f}"
        )


@app.command("pp-monitor")
@command_errors
def pp_monitor(
    nmax: Annotated[int, typer.Option("--nmax", help="Maximum sample size.")],
    p0: Annotated[float, typer.Option("--p0", help="Response rate to beat.")],
    theta_t: Annotated[
        float, typer.Option("--theta-t", help="Final success: P(p > p0 | data) > theta_t.")
    ] = 0.9,
    theta_l: Annotated[
        float, typer.Option("--theta-l", help="Stop for futility if PP < this.")
    ] = 0.05,
    theta_u: Annotated[
        float, typer.Option("--theta-u", help="Stop for efficacy if PP > this (1: never).")
    ] = 1.0,
    a: Annotated[float, typer.Option("--a", help="Beta prior shape a.")] = 1.0,
    b: Annotated[float, typer.Option("--b", help="Beta prior shape b.")] = 1.0,
    looks: Annotated[
        str | None, typer.Option("--looks", help="Interim sample sizes, e.g. 10,20,30,40.")
    ] = None,
    p1: Annotated[
        float | None, typer.Option("--p1", help="Also report exact OC at this response rate.")
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Lee & Liu (2008) predictive-probability boundaries and exact operating characteristics."""
    look_list = None if looks is None else [int(v) for v in parse_floats("--looks", looks)]
    design = pp_boundaries(nmax, p0, theta_t, theta_l, theta_u, a, b, look_list)
    oc = {"p0": pp_operating_characteristics(design, p0)}
    if p1 is not None:
        oc["p1"] = pp_operating_characteristics(design, p1)
    doc = {
        "nmax": nmax,
        "p0": p0,
        "theta_t": theta_t,
        "theta_l": theta_l,
        "theta_u": theta_u,
        "prior": [a, b],
        "looks": list(design.looks),
        "stop_futility_if_responses_at_most": list(design.futility),
        "stop_efficacy_if_responses_at_least": list(design.efficacy),
        "operating_characteristics": {
            k: {
                "p": v.p,
                "reject": v.reject,
                "early_futility": v.early_futility,
                "early_efficacy": v.early_efficacy,
                "expected_n": v.expected_n,
            }
            for k, v in oc.items()
        },
    }
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table(title=f"Predictive-probability monitoring, Nmax={nmax}, p0={p0:g}")
    table.add_column("patients")
    table.add_column("stop (futility) if responses <=")
    table.add_column("stop (efficacy) if responses >=")
    for n, f, e in zip(design.looks, design.futility, design.efficacy, strict=True):
        table.add_row(str(n), "-" if f < 0 else str(f), "-" if e is None else str(e))
    stdout.print(table)
    for k, v in oc.items():
        stdout.print(
            f"at {k}={v.p:g}: P(promising) = {v.reject:.4f}, P(early futility stop) = "
            f"{v.early_futility:.4f}, E[N] = {v.expected_n:.2f}"
        )


@app.command("pp-search")
@command_errors
def pp_search(
    p0: Annotated[float, typer.Option("--p0", help="Response rate to beat.")],
    p1: Annotated[float, typer.Option("--p1", help="Desirable response rate.")],
    alpha: Annotated[float, typer.Option("--alpha", help="Largest P(promising | p0).")] = 0.1,
    power: Annotated[float, typer.Option("--power", help="Smallest P(promising | p1).")] = 0.9,
    nmax_min: Annotated[int, typer.Option("--nmax-min", help="Smallest Nmax searched.")] = 10,
    nmax_max: Annotated[int, typer.Option("--nmax-max", help="Largest Nmax searched.")] = 60,
    a: Annotated[float, typer.Option("--a", help="Beta prior shape a.")] = 1.0,
    b: Annotated[float, typer.Option("--b", help="Beta prior shape b.")] = 1.0,
    first_look: Annotated[
        int, typer.Option("--first-look", help="Monitor from this many patients on.")
    ] = 1,
    top: Annotated[int, typer.Option("--top", help="Designs to show.")] = 5,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """Calibrate a Lee & Liu predictive-probability design (smallest Nmax, then smallest E[N|p0])."""
    if nmax_max < nmax_min:
        raise ValidationError(
            f"--nmax-max must be at least --nmax-min; got {nmax_max} < {nmax_min}."
        )
    designs = pp_design_search(
        p0, p1, alpha, power, nmax=range(nmax_min, nmax_max + 1), a=a, b=b,
        first_look=first_look,
    )  # fmt: skip
    if not designs:
        raise ValidationError(
            f"No design with Nmax in {nmax_min}..{nmax_max} meets alpha <= {alpha:g} and power "
            f">= {power:g}; raise --nmax-max."
        )
    doc = [
        {
            "nmax": d.boundaries.nmax,
            "theta_t": d.boundaries.theta_t,
            "theta_l": d.boundaries.theta_l,
            "type1": d.type1,
            "power": d.power,
            "pet_p0": d.pet0,
            "en_p0": d.en0,
            "en_p1": d.en1,
            "looks": list(d.boundaries.looks),
            "stop_futility_if_responses_at_most": list(d.boundaries.futility),
        }
        for d in designs[:top]
    ]
    if fmt is OutputFormat.json:
        print_json({"p0": p0, "p1": p1, "alpha": alpha, "power": power, "designs": doc})
        return
    table = Table(title=f"Predictive-probability designs, p0={p0:g}, p1={p1:g}")
    for col in ("Nmax", "theta_T", "theta_L", "type I", "power", "PET(p0)", "E[N|p0]"):
        table.add_column(col)
    for d in doc:
        table.add_row(
            str(d["nmax"]), f"{d['theta_t']:.3f}", f"{d['theta_l']:.3f}", f"{d['type1']:.4f}",
            f"{d['power']:.4f}", f"{d['pet_p0']:.3f}", f"{d['en_p0']:.2f}",
        )  # fmt: skip
    stdout.print(table)


# --- CRM ----------------------------------------------------------------------------------

ModelOpt = Annotated[str, typer.Option("--model", help="empiric (power) or logistic.")]


@app.command("getprior")
@command_errors
def getprior(
    halfwidth: Annotated[float, typer.Option("--halfwidth", help="Indifference half-width.")],
    target: Annotated[float, typer.Option("--target", "-t", help="Target DLT rate.")],
    nu: Annotated[int, typer.Option("--nu", help="Prior MTD level (1 = lowest).")],
    nlevel: Annotated[int, typer.Option("--nlevel", help="Number of dose levels.")],
    model: ModelOpt = "empiric",
    intcpt: Annotated[float, typer.Option("--intcpt", help="Logistic intercept.")] = 3.0,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """CRM skeleton by indifference intervals (Lee & Cheung 2009; dfcrm::getprior)."""
    skel = core_getprior(halfwidth, target, nu, nlevel, model, intcpt)  # type: ignore[arg-type]
    if fmt is OutputFormat.json:
        print_json({"skeleton": [float(v) for v in skel], "model": model, "nu": nu})
        return
    stdout.print(", ".join(f"{v:.6g}" for v in skel))


def _skeleton(
    skeleton: str | None, halfwidth: float | None, nu: int | None, target: float, k: int | None,
    model: str,
) -> list[float]:  # fmt: skip
    if skeleton is not None:
        return parse_floats("--skeleton", skeleton)
    if halfwidth is None or nu is None or k is None:
        raise ValidationError(
            "Give the CRM skeleton with --skeleton, or --halfwidth and --nu to calibrate one."
        )
    return [float(v) for v in core_getprior(halfwidth, target, nu, k, model)]  # type: ignore[arg-type]


@app.command("crm-decide")
@command_errors
def crm_decide(
    skeleton: Annotated[str, typer.Option("--skeleton", help="Prior DLT guesses per dose.")],
    current: Annotated[
        int, typer.Option("--current", "-c", help="Current dose level (1 = lowest).")
    ],
    data: Annotated[
        str,
        typer.Option("--data", "-d", help="treated/DLTs per dose, lowest first: '3/0,3/1,0/0'."),
    ],
    target: Annotated[float, typer.Option("--target", "-t", help="Target DLT rate.")] = 0.3,
    last_cohort: Annotated[
        str | None,
        typer.Option("--last-cohort", help="treated/DLTs of the last cohort (coherence)."),
    ] = None,
    model: ModelOpt = "empiric",
    method: Annotated[str, typer.Option("--method", help="bayes or mle.")] = "bayes",
    no_skip: Annotated[
        bool, typer.Option("--no-skip/--allow-skip", help="At most one level up.")
    ] = True,
    safety_threshold: Annotated[
        float | None,
        typer.Option("--safety-threshold", help="Stop if P(lowest dose too toxic) exceeds this."),
    ] = None,
    pathways: Annotated[
        int, typer.Option("--pathways", help="Also tabulate decisions for the next N cohorts.")
    ] = 0,
    cohort_size: Annotated[
        int, typer.Option("--cohort-size", help="Cohort size for --pathways.")
    ] = 3,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """The CRM's next dose for the data so far (dfcrm::crm posterior, with restrictions)."""
    skel = parse_floats("--skeleton", skeleton)
    doses = parse_dose_data(data)
    if len(doses) != len(skel):
        raise ValidationError(
            f"--data has {len(doses)} dose levels but --skeleton has {len(skel)}; give one entry "
            "per dose in both."
        )
    if not 1 <= current <= len(doses):
        raise ValidationError(
            f"--current must be a dose level between 1 and {len(doses)}; got {current}."
        )
    last = None
    if last_cohort is not None:
        (last,) = parse_dose_data(last_cohort)
    design = CRM(
        skeleton=tuple(skel), target=target, model=model, method=method,  # type: ignore[arg-type]
        no_skip=no_skip, safety_threshold=safety_threshold,
    )  # fmt: skip
    fit = design.fit(doses)
    dec = design.decide(doses, current - 1, last_cohort=last)
    doc: dict[str, Any] = {
        "design": CRM.name,
        "action": dec.action.value,
        "current_dose": current,
        "next_dose": None if dec.next_dose is None else dec.next_dose + 1,
        "model_recommendation": fit.mtd + 1,
        "reason": dec.reason,
        "rule": dec.rule,
        "beta_estimate": fit.estimate,
        "posterior_variance": fit.post_var,
        "ptox": list(fit.ptox),
        "ptox_lower_90": list(fit.ptox_lower),
        "ptox_upper_90": list(fit.ptox_upper),
    }
    paths: list[dict[str, Any]] = []
    if pathways > 0:
        for p in crm_pathways(
            design, doses, current - 1, cohort_size=cohort_size, n_cohorts=pathways
        ):
            paths.append(
                {
                    "outcomes": [
                        {"dose": d + 1, "dlts": y, "treated": cohort_size} for d, y in p.outcomes
                    ],
                    "action": p.decision.action.value,
                    "next_dose": None if p.decision.next_dose is None else p.decision.next_dose + 1,
                }
            )
        doc["pathways"] = paths
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    nxt = "" if doc["next_dose"] is None else f" -> dose {doc['next_dose']}"
    stdout.print(f"[bold]{dec.action.value.upper()}[/]{nxt}: {dec.reason}", markup=True)
    table = Table(title="CRM estimates (90% interval)")
    for col in ("dose", "skeleton", "n", "DLTs", "P(DLT)", "interval"):
        table.add_column(col)
    for i, (s, d) in enumerate(zip(skel, doses, strict=True)):
        table.add_row(
            str(i + 1), f"{s:g}", str(d.treated), str(d.dlts), f"{fit.ptox[i]:.3f}",
            f"{fit.ptox_lower[i]:.3f}-{fit.ptox_upper[i]:.3f}",
        )  # fmt: skip
    stdout.print(table)
    if paths:
        ptable = Table(title="Dose-transition pathways (dose: DLTs/treated per future cohort)")
        ptable.add_column("future cohorts")
        ptable.add_column("action")
        ptable.add_column("next dose")
        for row in paths:
            text = "  then  ".join(
                f"dose {o['dose']}: {o['dlts']}/{o['treated']}" for o in row["outcomes"]
            )
            ptable.add_row(
                text, row["action"], "-" if row["next_dose"] is None else str(row["next_dose"])
            )
        stdout.print(ptable)


@app.command("crm-simulate")
@command_errors
def crm_simulate(
    truth: Annotated[str, typer.Option("--truth", help="True DLT rates per dose.")],
    target: Annotated[float, typer.Option("--target", "-t", help="Target DLT rate.")] = 0.3,
    skeleton: Annotated[
        str | None, typer.Option("--skeleton", help="Prior DLT guesses (or --halfwidth/--nu).")
    ] = None,
    halfwidth: Annotated[
        float | None, typer.Option("--halfwidth", help="getprior half-width.")
    ] = None,
    nu: Annotated[int | None, typer.Option("--nu", help="getprior prior MTD level.")] = None,
    n_patients: Annotated[int, typer.Option("--patients", help="Sample size.")] = 36,
    cohort_size: Annotated[int, typer.Option("--cohort-size", help="Patients per cohort.")] = 3,
    trials: Annotated[int, typer.Option("--trials", help="Simulated trials.")] = 10_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    start: Annotated[int, typer.Option("--start", help="Starting dose level (1 = lowest).")] = 1,
    model: ModelOpt = "empiric",
    restrict: Annotated[
        bool, typer.Option("--restrict/--no-restrict", help="dfcrm's no-skip and coherence.")
    ] = True,
    safety_threshold: Annotated[
        float | None,
        typer.Option("--safety-threshold", help="Stop if P(lowest dose too toxic) exceeds this."),
    ] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """CRM operating characteristics over many simulated trials (vectorised)."""
    tr = parse_floats("--truth", truth)
    skel = _skeleton(skeleton, halfwidth, nu, target, len(tr), model)
    t0 = time.perf_counter()
    res = simulate_crm(
        tr, skel, target, n_patients=n_patients, cohort_size=cohort_size, n_trials=trials,
        start_dose=start - 1, model=model, restrict=restrict,  # type: ignore[arg-type]
        safety_threshold=safety_threshold, rng=seed,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    doc = res.summary()
    doc["seconds"] = round(elapsed, 3)
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table(title=f"CRM, {trials} trials, target {target:g} ({elapsed:.2f} s)")
    for col in ("dose", "truth", "skeleton", "selected %", "patients", "DLTs"):
        table.add_column(col)
    for i in range(len(tr)):
        table.add_row(
            str(i + 1), f"{tr[i]:g}", f"{skel[i]:.3f}", f"{100 * res.selection[i]:.1f}",
            f"{res.patients[i]:.2f}", f"{res.dlts[i]:.2f}",
        )  # fmt: skip
    stdout.print(table)
    stdout.print(
        f"no dose selected: {100 * res.no_selection:.1f}%; early stop: "
        f"{100 * res.early_stop:.1f}%; mean patients {res.mean_n:.1f}, mean DLTs "
        f"{res.mean_dlts:.2f}"
    )


@app.command("tite-crm-simulate")
@command_errors
def tite_crm_simulate(
    truth: Annotated[str, typer.Option("--truth", help="True DLT rates per dose.")],
    target: Annotated[float, typer.Option("--target", "-t", help="Target DLT rate.")] = 0.3,
    skeleton: Annotated[
        str | None, typer.Option("--skeleton", help="Prior DLT guesses (or --halfwidth/--nu).")
    ] = None,
    halfwidth: Annotated[
        float | None, typer.Option("--halfwidth", help="getprior half-width.")
    ] = None,
    nu: Annotated[int | None, typer.Option("--nu", help="getprior prior MTD level.")] = None,
    n_patients: Annotated[int, typer.Option("--patients", help="Sample size.")] = 24,
    rate: Annotated[float, typer.Option("--rate", help="Patients arriving per DLT window.")] = 1.0,
    accrual: Annotated[str, typer.Option("--accrual", help="fixed or poisson.")] = "fixed",
    trials: Annotated[int, typer.Option("--trials", help="Simulated trials.")] = 10_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    model: ModelOpt = "empiric",
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """TITE-CRM operating characteristics with staggered accrual (dfcrm::titesim semantics).

    Times are in units of the DLT window; the reported duration runs to the end of the last
    patient's window.
    """
    tr = parse_floats("--truth", truth)
    skel = _skeleton(skeleton, halfwidth, nu, target, len(tr), model)
    t0 = time.perf_counter()
    res = simulate_tite_crm(
        tr, skel, target, n_patients=n_patients, rate=rate, accrual=accrual,  # type: ignore[arg-type]
        n_trials=trials, model=model, rng=seed,  # type: ignore[arg-type]
    )  # fmt: skip
    doc = res.summary()
    doc["seconds"] = round(time.perf_counter() - t0, 3)
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table(title=f"TITE-CRM, {trials} trials, target {target:g}")
    for col in ("dose", "truth", "selected %", "patients", "DLTs"):
        table.add_column(col)
    for i in range(len(tr)):
        table.add_row(
            str(i + 1), f"{tr[i]:g}", f"{100 * res.selection[i]:.1f}",
            f"{res.patients[i]:.2f}", f"{res.dlts[i]:.2f}",
        )  # fmt: skip
    stdout.print(table)
    stdout.print(f"mean duration {res.mean_duration:.2f} DLT windows")


@app.command("ewoc-decide")
@command_errors
def ewoc_decide(
    doses: Annotated[str, typer.Option("--doses", help="Dose amounts, increasing.")],
    current: Annotated[
        int, typer.Option("--current", "-c", help="Current dose level (1 = lowest).")
    ],
    data: Annotated[
        str,
        typer.Option("--data", "-d", help="treated/DLTs per dose, lowest first: '3/0,3/1,0/0'."),
    ],
    target: Annotated[float, typer.Option("--target", "-t", help="DLT rate at the MTD.")] = 0.33,
    alpha: Annotated[float, typer.Option("--alpha", help="Feasibility bound.")] = 0.25,
    min_dose: Annotated[
        float | None, typer.Option("--min-dose", help="Lower end of the dose scale.")
    ] = None,
    max_dose: Annotated[
        float | None, typer.Option("--max-dose", help="Upper end of the dose scale.")
    ] = None,
    no_skip: Annotated[
        bool, typer.Option("--no-skip/--allow-skip", help="At most one level up.")
    ] = True,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """EWOC's next dose (Babb et al. 1998): the alpha-quantile of the MTD posterior."""
    amounts = parse_floats("--doses", doses)
    obs = parse_dose_data(data)
    if len(obs) != len(amounts):
        raise ValidationError(
            f"--data has {len(obs)} dose levels but --doses has {len(amounts)}; give one entry "
            "per dose in both."
        )
    if not 1 <= current <= len(obs):
        raise ValidationError(
            f"--current must be a dose level between 1 and {len(obs)}; got {current}."
        )
    design = EWOC(
        tuple(amounts), target=target, alpha=alpha, min_dose=min_dose, max_dose=max_dose,
        no_skip=no_skip,
    )  # fmt: skip
    dec = design.decide(obs, current - 1)
    post = design.posterior(obs)
    doc = {
        "design": EWOC.name,
        "action": dec.action.value,
        "current_dose": current,
        "next_dose": None if dec.next_dose is None else dec.next_dose + 1,
        "next_dose_amount": None if dec.next_dose is None else amounts[dec.next_dose],
        "reason": dec.reason,
        "rule": dec.rule,
        "mtd_quantile": post.mtd_quantile,
        "mtd_mean": post.mtd_mean,
        "pdlt": list(post.pdlt),
        "prob_overdose": list(post.prob_overdose),
    }
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    nxt = "" if doc["next_dose"] is None else f" -> dose {doc['next_dose']}"
    stdout.print(f"[bold]{dec.action.value.upper()}[/]{nxt}: {dec.reason}", markup=True)
    stdout.print(f"rule: {dec.rule}")


@app.command("ewoc-simulate")
@command_errors
def ewoc_simulate(
    doses: Annotated[str, typer.Option("--doses", help="Dose amounts, increasing.")],
    truth: Annotated[str, typer.Option("--truth", help="True DLT rates per dose.")],
    target: Annotated[float, typer.Option("--target", "-t", help="DLT rate at the MTD.")] = 0.33,
    alpha: Annotated[float, typer.Option("--alpha", help="Feasibility bound.")] = 0.25,
    min_dose: Annotated[
        float | None, typer.Option("--min-dose", help="Lower end of the dose scale.")
    ] = None,
    n_patients: Annotated[int, typer.Option("--patients", help="Sample size.")] = 30,
    cohort_size: Annotated[int, typer.Option("--cohort-size", help="Patients per cohort.")] = 1,
    trials: Annotated[int, typer.Option("--trials", help="Simulated trials.")] = 10_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    fmt: FormatOption = OutputFormat.human,
) -> None:
    """EWOC operating characteristics (final MTD estimate: the posterior median)."""
    amounts = parse_floats("--doses", doses)
    tr = parse_floats("--truth", truth)
    design = EWOC(tuple(amounts), target=target, alpha=alpha, min_dose=min_dose)
    t0 = time.perf_counter()
    res = design.simulate(
        tr, n_patients=n_patients, cohort_size=cohort_size, n_trials=trials, rng=seed
    )
    doc = res.summary()
    doc["seconds"] = round(time.perf_counter() - t0, 3)
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    table = Table(title=f"EWOC, {trials} trials, target {target:g}, alpha {alpha:g}")
    for col in ("dose", "amount", "truth", "selected %", "patients", "DLTs"):
        table.add_column(col)
    for i in range(len(tr)):
        table.add_row(
            str(i + 1), f"{amounts[i]:g}", f"{tr[i]:g}", f"{100 * res.selection[i]:.1f}",
            f"{res.patients[i]:.2f}", f"{res.dlts[i]:.2f}",
        )  # fmt: skip
    stdout.print(table)
    stdout.print(f"early stop: {100 * res.early_stop:.1f}%; mean patients {res.mean_n:.1f}")


COMMANDS: dict[str, Callable[..., Any]] = {
    "simon": simon,
    "single-stage": single_stage,
    "pp-monitor": pp_monitor,
    "pp-search": pp_search,
    "getprior": getprior,
    "crm-decide": crm_decide,
    "crm-simulate": crm_simulate,
    "tite-crm-simulate": tite_crm_simulate,
    "ewoc-decide": ewoc_decide,
    "ewoc-simulate": ewoc_simulate,
}
