"""BOIN12: Bayesian optimal interval phase I/II design for utility-based dose finding.

BOIN12 looks for the optimal biological dose (OBD), the dose with the best toxicity-efficacy
trade-off, from a binary toxicity (DLT) and a binary efficacy (response) outcome per patient.

* **Utility**. Each patient's outcome earns a utility: u1 = 100 for a response without DLT,
  u4 = 0 for a DLT without response, ``u_neither`` (default 40) for neither and ``u_both``
  (default 60) for both (the paper's default utility, used for its Table 3).
* **Quasi-binomial utility posterior**. With ``y1..y4`` the patients in each of those four cells
  at dose j, the pseudo-count ``x_j = sum(u_k y_k) / 100`` is treated as ``x_j`` successes out of
  ``n_j``; with the Beta(1, 1) prior the standardised mean utility has posterior
  Beta(1 + x_j, 1 + n_j - x_j). When ``u_neither + u_both = 100`` (the default) the utility is
  additive and ``x_j = (u_neither n_j + (100 - u_neither) e_j - u_neither t_j) / 100`` depends on
  the numbers of DLTs t_j and responses e_j only; otherwise the joint counts are needed.
* **Desirability**. ``ū`` is the mean utility of a dose with toxicity ``phi_t`` and efficacy
  ``phi_e`` (the highest unacceptable utility), the benchmark is ``u_b = ū + (100 - ū) / 2`` and
  the desirability of dose j is ``P(u_j > u_b | data)``; the rank-based desirability score (RDS)
  is its rank in the table of every possible outcome (Table 3; :meth:`BOIN12.rds_table`). Ranks
  and probabilities order doses alike, so decisions use the probability itself.
* **Toxicity boundaries** are BOIN's ``lambda_e`` and ``lambda_d`` at the target ``phi_t``
  (``p_saf = 0.6 phi_t``, ``p_tox = 1.4 phi_t``; Liu & Yuan 2015).
* **Safety and futility rules**. A dose with at least 3 patients is eliminated together with every
  higher dose when ``P(p_T > phi_t | data) > c_t`` (0.95), and on its own when
  ``P(p_E < phi_e | data) > c_e`` (0.9), both under Beta(1, 1) priors. Elimination is permanent.
* **Dose finding** at the current dose d with observed DLT rate p̂ (the paper's Table 2 and the
  dose-exploration rule of its Data Supplement), in this order:

  1. d is eliminated for toxicity: go to the nearest admissible lower dose (stop if none);
  2. dose exploration: ``n_d >= n_explore`` (9), ``p̂ < lambda_d`` and the next admissible higher
     dose is untried: escalate to it;
  3. ``p̂ >= lambda_d``: de-escalate to the nearest admissible lower dose (stay at the lowest);
  4. ``lambda_e < p̂ < lambda_d`` and ``n_d >= n_star`` (6): the more desirable of the admissible
     doses d-1 and d;
  5. otherwise the most desirable admissible dose among d-1, d and d+1.

  "d-1" and "d+1" are the nearest admissible doses below and above d, as in the MD Anderson
  group's BOIN12-based code (PKBOIN-12). Near-ties (within 1e-6 in probability) go to the higher
  dose, as in that code and, according to the escalation package, the MD Anderson BOIN12
  application. The trial stops early when no admissible dose is left, and stops (without being an
  early stop) when the sample size is reached or, with ``n_cap``, when one more cohort at the dose
  chosen next would take it past ``n_cap`` patients.
* **OBD selection**. The DLT rates are smoothed by isotonic regression (as ``BOIN::select.mtd``)
  and the MTD is the dose whose estimate is closest to ``phi_t``; the OBD is, among tried
  admissible doses at or below the MTD, the one with the largest posterior mean utility
  ``(1 + x_j) / (2 + n_j)`` (the lowest such dose on ties).

Deviation, for safety: when the current dose is the lowest admissible one, rule 3 applies and the
dose itself has been eliminated for futility, the trial stops instead of staying at an eliminated
dose. The escalation package (``boin12_next_dose``) differs where doses have been eliminated: it
checks admissibility afresh for the literal d-1, d, d+1 at each decision.

References
----------
Lin R, Zhou Y, Yan F, Li D, Yuan Y (2020). BOIN12: Bayesian optimal interval phase I/II trial
design for utility-based dose finding in immunotherapy and targeted therapies. JCO Precision
Oncology 4:1393-1402.
Liu S, Yuan Y (2015). Bayesian optimal interval designs for phase I clinical trials. JRSS-C 64.
Brock K, Billingham L, Copland M, et al. (2017). Implementing the EffTox dose-finding design in
the Matchpoint trial. BMC Med Res Methodol 17:112 (the outcome letters E, T, B, N).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    check_current,
    check_positive_int,
    check_truth,
)
from oncotrials.core.designs.boin import boin_lambdas
from oncotrials.core.designs.isotonic import beta_estimates, isotonic_select, pava_rows
from oncotrials.core.designs.reasons import Explanation, explain
from oncotrials.core.designs.simulate import ProgressCallback, RngLike
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import special

#: Added to the desirability of the k-th candidate (lower, current, higher) before taking the
#: maximum, so that near-ties go to the higher dose (the authors' code does the same).
TIE_BREAK = 1e-6
#: Doses need this many patients before a safety or futility rule can eliminate them (as BOIN).
ELIMINATION_MIN_N = 3

# Rule codes of the dose-finding step.
_R_TOX, _R_NONE, _R_EXPLORE, _R_DOWN, _R_NSTAR, _R_BEST = 1, 2, 3, 4, 5, 6


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EffToxData:
    """Outcomes at one dose: patients treated, with a DLT, with a response, and with both.

    ``both`` (patients with a DLT *and* a response) is needed only when the utility is not
    additive (``u_neither + u_both != 100``); with the paper's default utility the marginal
    counts suffice.
    """

    treated: int
    dlts: int
    responses: int
    both: int | None = None

    def check(self, *, dose: int) -> None:
        DoseData(treated=self.treated, dlts=self.dlts).check(dose=dose)
        if self.responses < 0 or self.responses > self.treated:
            raise ValidationError(
                f"Dose {dose}: responses must lie between 0 and treated={self.treated}; "
                f"got responses={self.responses}.",
                code="design_responses_range",
                dose=dose,
                treated=self.treated,
                responses=self.responses,
            )
        b = self.both
        if b is not None:
            lo = max(0, self.dlts + self.responses - self.treated)
            hi = min(self.dlts, self.responses)
            if not lo <= b <= hi:
                raise ValidationError(
                    f"Dose {dose}: both (patients with a DLT and a response) must lie between "
                    f"{lo} and {hi} for treated={self.treated}, dlts={self.dlts}, "
                    f"responses={self.responses}; got both={b}.",
                    code="design_both_range",
                    dose=dose,
                    lo=lo,
                    hi=hi,
                    treated=self.treated,
                    dlts=self.dlts,
                    responses=self.responses,
                    b=b,
                )

    @property
    def dose_data(self) -> DoseData:
        """The toxicity part, for code written for toxicity-only designs."""
        return DoseData(treated=self.treated, dlts=self.dlts)


def as_efftox_data(
    data: Sequence[EffToxData | tuple[int, ...]],
) -> tuple[EffToxData, ...]:
    """Accept ``EffToxData`` or ``(treated, dlts, responses[, both])`` tuples and validate them."""
    out: list[EffToxData] = []
    for i, d in enumerate(data):
        if isinstance(d, EffToxData):
            item = d
        else:
            try:
                vals = [int(v) for v in d]
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Dose {i}: expected (treated, dlts, responses) or EffToxData; got {d!r}.",
                    code="design_data_item_efftox",
                    i=i,
                    d=repr(d),
                ) from None
            if len(vals) not in (3, 4):
                raise ValidationError(
                    f"Dose {i}: expected (treated, dlts, responses) or (treated, dlts, "
                    f"responses, both); got {d!r}.",
                    code="design_data_item_both",
                    i=i,
                    d=repr(d),
                )
            item = EffToxData(*vals)
        item.check(dose=i)
        out.append(item)
    if not out:
        raise ValidationError(
            "data must hold one entry per dose level; got none.",
            code="design_no_data",
        )
    return tuple(out)


_LETTERS = {"N": (0, 0), "E": (0, 1), "T": (1, 0), "B": (1, 1)}


def parse_efftox_outcomes(text: str, n_doses: int) -> tuple[EffToxData, ...]:
    """Per-dose counts from a phase I/II outcome string such as ``"1NNN 2ETB"``.

    Each cohort is a 1-based dose number followed by one letter per patient: ``N`` neither
    outcome, ``E`` efficacy only, ``T`` toxicity only, ``B`` both (Brock et al. 2017).
    """
    n_doses = check_positive_int("n_doses", n_doses)
    n = [0] * n_doses
    t = [0] * n_doses
    e = [0] * n_doses
    b = [0] * n_doses
    for j, cohort in enumerate(text.split()):
        digits = len(cohort) - len(cohort.lstrip("0123456789"))
        letters = cohort[digits:].upper()
        if digits == 0 or not letters or any(c not in _LETTERS for c in letters):
            raise ValidationError(
                f"Cohort {j + 1} of the outcomes, {cohort!r}: expected a dose number followed by "
                "letters N, E, T or B (e.g. '2NTE').",
                code="design_outcomes_cohort",
                number=j + 1,
                cohort=repr(cohort),
            )
        dose = int(cohort[:digits])
        if not 1 <= dose <= n_doses:
            raise ValidationError(
                f"Cohort {j + 1} of the outcomes, {cohort!r}: dose {dose} is not one of the "
                f"{n_doses} dose levels 1..{n_doses}.",
                code="design_outcomes_dose",
                number=j + 1,
                cohort=repr(cohort),
                dose=dose,
                n_doses=n_doses,
            )
        for c in letters:
            tox, eff = _LETTERS[c]
            n[dose - 1] += 1
            t[dose - 1] += tox
            e[dose - 1] += eff
            b[dose - 1] += tox * eff
    return tuple(EffToxData(n[i], t[i], e[i], b[i]) for i in range(n_doses))


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BOIN12Boundaries:
    """Toxicity boundaries and utility benchmark of a BOIN12 design."""

    lambda_e: float
    lambda_d: float
    u_bar: float  # highest unacceptable utility (toxicity phi_t, efficacy phi_e)
    u_benchmark: float  # u_b = u_bar + (100 - u_bar) / 2


@dataclass(frozen=True)
class RDSRow:
    """One row of the rank-based desirability score table (Lin et al. 2020, Table 3)."""

    treated: int
    dlts: int
    responses: int
    admissible: bool
    probability: float  # P(u > u_b | data)
    rds: float | None  # rank among admissible outcomes (ties averaged); None: eliminated


@dataclass(frozen=True)
class OBDSelection:
    """The optimal biological dose chosen at the end of a trial, and what led to it.

    ``dose`` and ``mtd`` are 0-based, or None. ``tox_estimates`` are isotonic estimates of the
    DLT rates (None for untried or toxicity-eliminated doses); ``utility`` the posterior mean
    utilities on the 0-100 scale (None for untried doses).
    """

    dose: int | None
    mtd: int | None
    eliminated: tuple[int, ...]
    tox_estimates: tuple[float | None, ...]
    utility: tuple[float | None, ...]
    reason: str
    #: the reason by its code and values (``reasons.REASONS``), for an application to word
    explained: Explanation | None = None


@dataclass(frozen=True, eq=False)
class BOIN12Simulation:
    """Operating characteristics of BOIN12 under one (toxicity, efficacy) scenario.

    ``selection`` gives the fraction of trials selecting each dose as the OBD (``selected`` holds
    per-trial choices, -1 for none); ``early_stop`` the fraction stopped because no admissible
    dose was left; ``patients``, ``dlts`` and ``responses`` mean counts per dose.
    """

    design: str
    tox: tuple[float, ...]
    eff: tuple[float, ...]
    correlation: float
    true_utility: tuple[float, ...]
    true_obd: int | None
    n_trials: int
    selection: NDArray[np.float64]
    no_selection: float
    early_stop: float
    patients: NDArray[np.float64]
    dlts: NDArray[np.float64]
    responses: NDArray[np.float64]
    total_patients: float
    selected: NDArray[np.int64] = field(repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def selection_percent(self) -> NDArray[np.float64]:
        return 100.0 * self.selection

    def selection_se(self) -> NDArray[np.float64]:
        """Monte Carlo standard error of each selection fraction."""
        p = self.selection
        return np.sqrt(p * (1.0 - p) / self.n_trials)

    @property
    def correct_selection(self) -> float:
        """Fraction of trials selecting the true OBD (or none, when there is no OBD)."""
        if self.true_obd is None:
            return self.no_selection
        return float(self.selection[self.true_obd])

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (percentages, means), without per-trial arrays."""
        return {
            "design": self.design,
            "tox": list(self.tox),
            "eff": list(self.eff),
            "correlation": self.correlation,
            "true_utility": [round(v, 4) for v in self.true_utility],
            "true_obd": self.true_obd,
            "n_trials": self.n_trials,
            "selection_percent": [round(float(v), 4) for v in self.selection_percent],
            "selection_se_percent": [round(float(v), 4) for v in 100 * self.selection_se()],
            "correct_selection_percent": round(100.0 * self.correct_selection, 4),
            "no_selection_percent": round(100.0 * self.no_selection, 4),
            "early_stop_percent": round(100.0 * self.early_stop, 4),
            "patients_per_dose": [round(float(v), 4) for v in self.patients],
            "dlts_per_dose": [round(float(v), 4) for v in self.dlts],
            "responses_per_dose": [round(float(v), 4) for v in self.responses],
            "total_patients": round(self.total_patients, 4),
            "settings": dict(self.settings),
        }


# --- the design --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """Outcome of one vectorised dose-finding step (one entry per trial)."""

    next_dose: NDArray[np.int64]  # -1: stop, no admissible dose
    rule: NDArray[np.int64]
    below: NDArray[np.int64]
    above: NDArray[np.int64]
    scores: NDArray[np.float64]  # (T, 3): lower, current, higher (-inf: not a candidate)


class BOIN12:
    """BOIN12 phase I/II design (Lin, Zhou, Yan, Li & Yuan, JCO Precis Oncol 2020).

    Parameters
    ----------
    phi_t : highest acceptable DLT rate (the toxicity target of the BOIN boundaries), default 0.35.
    phi_e : lowest acceptable response rate, default 0.25.
    u_neither, u_both : utilities of "no DLT, no response" (40) and "DLT and response" (60) on the
        scale where "response without DLT" is 100 and "DLT without response" is 0 (the paper's
        defaults).
    cohort_size, n_cohorts : the sample size is their product (default 3 x 12 = 36).
    n_star : with at least this many patients at the current dose and a DLT rate between the
        boundaries, do not escalate (``N*`` = 6 in the paper).
    n_explore : dose-exploration rule: with at least this many patients (9), a DLT rate below
        ``lambda_d`` and an untried next dose, escalate.
    n_cap : optional; stop when the dose chosen next would exceed this many patients.
    c_t, c_e : posterior probability cutoffs of the safety (0.95) and futility (0.9) rules.
    prior_a, prior_b : Beta prior of the toxicity, efficacy and utility rates (1, 1).
    p_saf, p_tox : BOIN's sub-therapeutic and overly toxic rates (0.6 and 1.4 times ``phi_t``).
    """

    name: ClassVar[str] = "boin12"
    label: ClassVar[str] = "BOIN12"
    aliases: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        phi_t: float = 0.35,
        phi_e: float = 0.25,
        *,
        u_neither: float = 40.0,
        u_both: float = 60.0,
        cohort_size: int = 3,
        n_cohorts: int = 12,
        n_star: int = 6,
        n_explore: int = 9,
        n_cap: int | None = None,
        c_t: float = 0.95,
        c_e: float = 0.9,
        prior_a: float = 1.0,
        prior_b: float = 1.0,
        p_saf: float | None = None,
        p_tox: float | None = None,
    ) -> None:
        self.phi_t = phi_t
        self.phi_e = phi_e
        self.u_neither = u_neither
        self.u_both = u_both
        self.cohort_size = cohort_size
        self.n_cohorts = n_cohorts
        self.n_star = n_star
        self.n_explore = n_explore
        self.n_cap = n_cap
        self.c_t = c_t
        self.c_e = c_e
        self.prior_a = prior_a
        self.prior_b = prior_b
        self.p_saf = p_saf
        self.p_tox = p_tox

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    # --- validation and derived quantities ---------------------------------------------------

    @staticmethod
    def _number(name: str, value: Any, low: float, high: float, *, closed: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
            raise ValidationError(
                f"BOIN12 {name} must be a number; got {value!r}.",
                code="design_boin12_number",
                name=name,
                value=repr(value),
            )
        v = float(value)
        ok = (low <= v <= high) if closed else (low < v < high)
        if not ok or math.isnan(v):
            brackets = f"[{low:g}, {high:g}]" if closed else f"({low:g}, {high:g})"
            raise ValidationError(
                f"BOIN12 {name} must lie in {brackets}; got {value!r}.",
                code="design_boin12_range",
                name=name,
                brackets=brackets,
                value=repr(value),
            )
        return v

    def _validate(self) -> None:
        t = self._number("phi_t", self.phi_t, 0.0, 1.0 / 1.4)
        self._number("phi_e", self.phi_e, 0.0, 1.0)
        self._number("u_neither", self.u_neither, 0.0, 100.0, closed=True)
        self._number("u_both", self.u_both, 0.0, 100.0, closed=True)
        check_positive_int("BOIN12 cohort_size", self.cohort_size)
        check_positive_int("BOIN12 n_cohorts", self.n_cohorts)
        check_positive_int("BOIN12 n_star", self.n_star)
        check_positive_int("BOIN12 n_explore", self.n_explore)
        if self.n_cap is not None:
            check_positive_int("BOIN12 n_cap", self.n_cap)
        self._number("c_t", self.c_t, 0.5, 1.0)
        self._number("c_e", self.c_e, 0.5, 1.0)
        self._number("prior_a", self.prior_a, 0.0, math.inf)
        self._number("prior_b", self.prior_b, 0.0, math.inf)
        _, p_saf, p_tox = self._probs()
        if not 0 < p_saf < t:
            raise ValidationError(
                f"BOIN12 p_saf must lie in (0, phi_t={t:g}); got {p_saf!r}.",
                code="design_boin12_p_saf",
                t=f"{t:g}",
                p_saf=repr(p_saf),
            )
        if not t < p_tox < 1:
            raise ValidationError(
                f"BOIN12 p_tox must lie in (phi_t={t:g}, 1); got {p_tox!r}.",
                code="design_boin12_p_tox",
                t=f"{t:g}",
                p_tox=repr(p_tox),
            )

    def _probs(self) -> tuple[float, float, float]:
        t = float(self.phi_t)
        p_saf = 0.6 * t if self.p_saf is None else float(self.p_saf)
        p_tox = 1.4 * t if self.p_tox is None else float(self.p_tox)
        return t, p_saf, p_tox

    @property
    def sample_size(self) -> int:
        return int(self.cohort_size) * int(self.n_cohorts)

    @property
    def additive(self) -> bool:
        """Whether the utility depends on the marginal counts only (``u_neither + u_both = 100``)."""
        return math.isclose(float(self.u_neither) + float(self.u_both), 100.0)

    def utility(self, tox: float, eff: float, both: float | None = None) -> float:
        """Expected utility (0-100) of a dose with these toxicity and efficacy probabilities.

        ``both`` is P(DLT and response); by default the outcomes are taken as independent.
        """
        self._validate()
        p11 = tox * eff if both is None else both
        p01 = eff - p11  # response, no DLT
        p00 = 1.0 - tox - eff + p11
        return 100.0 * p01 + float(self.u_neither) * p00 + float(self.u_both) * p11

    def boundaries(self) -> BOIN12Boundaries:
        """``lambda_e``, ``lambda_d`` (BOIN at ``phi_t``), ``ū`` and the benchmark ``u_b``."""
        self._validate()
        lam_e, lam_d = boin_lambdas(*self._probs())
        u_bar = self.utility(float(self.phi_t), float(self.phi_e))
        return BOIN12Boundaries(
            lambda_e=lam_e, lambda_d=lam_d, u_bar=u_bar, u_benchmark=u_bar + (100.0 - u_bar) / 2
        )

    # --- posterior quantities (vectorised) -----------------------------------------------------

    def _pseudo(
        self,
        n: NDArray[np.int64],
        t: NDArray[np.int64],
        e: NDArray[np.int64],
        b: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """Quasi-binomial pseudo-count x = sum(u_k y_k) / 100 from joint counts."""
        u2, u3 = float(self.u_neither), float(self.u_both)
        neither = n - t - e + b
        return np.asarray((100.0 * (e - b) + u2 * neither + u3 * b) / 100.0, dtype=np.float64)

    def _desirability(self, n: NDArray[Any], x: NDArray[Any], u_b: float) -> NDArray[np.float64]:
        """P(u > u_b | data), evaluated once per distinct (n, x) pair (simulations repeat them)."""
        a, bb = float(self.prior_a), float(self.prior_b)
        n_arr = np.asarray(n, dtype=np.float64)
        x_arr = np.asarray(x, dtype=np.float64)
        key = np.rint(n_arr).astype(np.int64) * 10**9 + np.rint(x_arr * 1e6).astype(np.int64)
        _, first, inverse = np.unique(key.ravel(), return_index=True, return_inverse=True)
        nu, xu = n_arr.ravel()[first], x_arr.ravel()[first]
        vals = special.betaincc(a + xu, bb + nu - xu, u_b / 100.0)
        return np.asarray(vals[inverse].reshape(key.shape), dtype=np.float64)

    def _count_tail(
        self, n: NDArray[Any], y: NDArray[Any], q: float, *, upper: bool
    ) -> NDArray[np.float64]:
        """P(p > q) (upper) or P(p < q) given y of n, once per distinct (n, y) pair."""
        n_arr = np.asarray(n, dtype=np.int64)
        y_arr = np.asarray(y, dtype=np.int64)
        key = n_arr * 100_000 + y_arr
        _, first, inverse = np.unique(key.ravel(), return_index=True, return_inverse=True)
        nu, yu = n_arr.ravel()[first], y_arr.ravel()[first]
        a, b = float(self.prior_a) + yu, float(self.prior_b) + nu - yu
        vals = special.betaincc(a, b, q) if upper else special.betainc(a, b, q)
        return np.asarray(vals[inverse].reshape(key.shape), dtype=np.float64)

    def _tox_unsafe(self, n: NDArray[Any], t: NDArray[Any]) -> NDArray[np.bool_]:
        p = self._count_tail(n, t, float(self.phi_t), upper=True)
        return np.asarray((n >= ELIMINATION_MIN_N) & (p > float(self.c_t)), dtype=np.bool_)

    def _futile(self, n: NDArray[Any], e: NDArray[Any]) -> NDArray[np.bool_]:
        p = self._count_tail(n, e, float(self.phi_e), upper=False)
        return np.asarray((n >= ELIMINATION_MIN_N) & (p > float(self.c_e)), dtype=np.bool_)

    def _arrays(
        self, doses: tuple[EffToxData, ...]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        n = np.array([[d.treated for d in doses]], dtype=np.int64)
        t = np.array([[d.dlts for d in doses]], dtype=np.int64)
        e = np.array([[d.responses for d in doses]], dtype=np.int64)
        if all(d.both is not None for d in doses):
            b = np.array([[d.both for d in doses]], dtype=np.int64)
            x = self._pseudo(n, t, e, b)
        elif self.additive:
            u2 = float(self.u_neither)
            x = np.asarray((u2 * n + (100.0 - u2) * e - u2 * t) / 100.0, dtype=np.float64)
        else:
            missing = [i for i, d in enumerate(doses) if d.both is None and d.treated > 0]
            if missing:
                raise ValidationError(
                    f"Dose {missing[0]}: 'both' (patients with a DLT and a response) is needed "
                    f"because the utility is not additive (u_neither={self.u_neither!r} + "
                    f"u_both={self.u_both!r} != 100); give (treated, dlts, responses, both).",
                    code="design_both_needed",
                    dose=missing[0],
                    u_neither=repr(self.u_neither),
                    u_both=repr(self.u_both),
                )
            b = np.array([[d.both or 0 for d in doses]], dtype=np.int64)
            x = self._pseudo(n, t, e, b)
        return n, t, e, x

    def _elimination(
        self, n: NDArray[np.int64], t: NDArray[np.int64], e: NDArray[np.int64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """(toxicity-eliminated, futility-eliminated) masks from cumulative data."""
        tox = np.logical_or.accumulate(self._tox_unsafe(n, t), axis=1)
        return tox, self._futile(n, e)

    def _step(
        self,
        n: NDArray[np.int64],
        t: NDArray[np.int64],
        x: NDArray[np.float64],
        kept: NDArray[np.bool_],
        tox_elim: NDArray[np.bool_],
        d: NDArray[np.int64],
        bounds: BOIN12Boundaries,
    ) -> _Step:
        """The BOIN12 dose-finding rules for every trial at once (rows of the arrays)."""
        t_count, k = n.shape
        rows = np.arange(t_count)
        pos = np.arange(k)[None, :]
        nd = n[rows, d]
        phat = t[rows, d] / np.maximum(nd, 1)
        lower = kept & (pos < d[:, None])
        upper = kept & (pos > d[:, None])
        below = np.where(lower.any(axis=1), k - 1 - np.argmax(lower[:, ::-1], axis=1), -1)
        above = np.where(upper.any(axis=1), np.argmax(upper, axis=1), -1)
        has_below, has_above = below >= 0, above >= 0
        bi, ai = np.maximum(below, 0), np.maximum(above, 0)

        lam_e, lam_d = bounds.lambda_e, bounds.lambda_d
        r_tox = tox_elim[rows, d]
        r_none = ~r_tox & ~kept.any(axis=1)
        open_ = ~r_tox & ~r_none
        r_explore = open_ & has_above & (nd >= self.n_explore) & (phat < lam_d) & (n[rows, ai] == 0)
        open_ &= ~r_explore
        r_down = open_ & (phat >= lam_d)
        open_ &= ~r_down
        r_nstar = open_ & (nd >= self.n_star) & (phat > lam_e)
        r_best = open_ & ~r_nstar

        cur_ok = kept[rows, d]
        idx = np.stack([bi, d, ai], axis=1)
        des = self._desirability(n[rows[:, None], idx], x[rows[:, None], idx], bounds.u_benchmark)
        scores = np.stack(
            [
                np.where(has_below, des[:, 0], -np.inf),
                np.where(cur_ok, des[:, 1], -np.inf),
                np.where(has_above & r_best, des[:, 2], -np.inf),
            ],
            axis=1,
        )
        cand = np.stack([below, d, above], axis=1)
        pick = np.argmax(scores + TIE_BREAK * np.arange(1, 4)[None, :], axis=1)
        best = np.where(np.isfinite(scores.max(axis=1)), cand[rows, pick], -1)

        nxt = np.full(t_count, -1, dtype=np.int64)
        nxt = np.where(r_tox, below, nxt)
        nxt = np.where(r_explore, above, nxt)
        nxt = np.where(r_down, np.where(has_below, below, np.where(cur_ok, d, -1)), nxt)
        nxt = np.where(r_nstar | r_best, best, nxt)
        rule = (
            _R_TOX * r_tox
            + _R_NONE * r_none
            + _R_EXPLORE * r_explore
            + _R_DOWN * r_down
            + _R_NSTAR * r_nstar
            + _R_BEST * r_best
        )
        return _Step(
            next_dose=nxt.astype(np.int64),
            rule=rule.astype(np.int64),
            below=below.astype(np.int64),
            above=above.astype(np.int64),
            scores=scores,
        )

    # --- public live API ---------------------------------------------------------------------

    def desirability(self, data: Sequence[EffToxData | tuple[int, ...]]) -> tuple[float, ...]:
        """``100 * P(u_j > u_b | data)`` for each dose (the quantity the RDS ranks)."""
        self._validate()
        doses = as_efftox_data(data)
        n, _, _, x = self._arrays(doses)
        u_b = self.boundaries().u_benchmark
        return tuple(float(v) for v in 100.0 * self._desirability(n, x, u_b)[0])

    def eliminated_doses(self, data: Sequence[EffToxData | tuple[int, ...]]) -> tuple[int, ...]:
        """Doses removed by the safety rule (with every higher dose) or the futility rule."""
        self._validate()
        doses = as_efftox_data(data)
        n, t, e, _ = self._arrays(doses)
        tox, fut = self._elimination(n, t, e)
        return tuple(int(i) for i in np.flatnonzero((tox | fut)[0]))

    def rds_table(self, sample_sizes: Sequence[int] = (0, 3, 6, 9)) -> list[RDSRow]:
        """The rank-based desirability score table (Lin et al. 2020, Table 3).

        One row per (patients, DLTs, responses) for each sample size; outcomes eliminated by the
        safety or futility rule are marked and left unranked; the others are ranked by
        ``P(u > u_b)`` across the whole table (1 = least desirable, ties averaged). Needs an
        additive utility, since the table is indexed by marginal counts.
        """
        self._validate()
        if not self.additive:
            raise ValidationError(
                "The RDS table is indexed by marginal counts and needs an additive utility "
                f"(u_neither + u_both = 100); got u_neither={self.u_neither!r}, "
                f"u_both={self.u_both!r}.",
                code="design_rds_additive_utility",
                u_neither=repr(self.u_neither),
                u_both=repr(self.u_both),
            )
        sizes = [check_positive_int("sample_sizes entry", s, minimum=0) for s in sample_sizes]
        if not sizes:
            raise ValidationError(
                "sample_sizes must list at least one sample size; got none.",
                code="design_sample_sizes_empty",
            )
        n_l, t_l, e_l = [], [], []
        for s in sizes:
            for tt in range(s + 1):
                for ee in range(s + 1):
                    n_l.append(s)
                    t_l.append(tt)
                    e_l.append(ee)
        n = np.array(n_l, dtype=np.float64)
        t = np.array(t_l, dtype=np.float64)
        e = np.array(e_l, dtype=np.float64)
        u2 = float(self.u_neither)
        x = (u2 * n + (100.0 - u2) * e - u2 * t) / 100.0
        prob = self._desirability(n, x, self.boundaries().u_benchmark)
        a, b = float(self.prior_a), float(self.prior_b)
        # The table marks eliminated outcomes at every n (no minimum), as the paper's Table 3.
        unsafe = special.betaincc(a + t, b + n - t, float(self.phi_t)) >= float(self.c_t)
        futile = special.betainc(a + e, b + n - e, float(self.phi_e)) >= float(self.c_e)
        adm = ~unsafe & ~futile
        ranks = np.full(n.size, np.nan)
        key = np.round(prob[adm], 12)  # equal utilities give equal ranks despite rounding
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        r = np.empty(key.size)
        i = 0
        while i < key.size:
            j = i
            while j + 1 < key.size and sorted_key[j + 1] == sorted_key[i]:
                j += 1
            r[order[i : j + 1]] = (i + j) / 2.0 + 1.0
            i = j + 1
        ranks[adm] = r
        return [
            RDSRow(
                treated=int(n[i]),
                dlts=int(t[i]),
                responses=int(e[i]),
                admissible=bool(adm[i]),
                probability=float(prob[i]),
                rds=None if not adm[i] else float(ranks[i]),
            )
            for i in range(n.size)
        ]

    def decide(self, data: Sequence[EffToxData | tuple[int, ...]], current: int) -> Decision:
        """The next action given per-dose data (lowest dose first) and the current dose.

        ``data`` holds, per dose, ``EffToxData`` or ``(treated, dlts, responses[, both])``.
        When the trial stops with a selection, ``Decision.mtd`` holds the selected OBD.
        """
        self._validate()
        doses = as_efftox_data(data)
        k = len(doses)
        cur = check_current(current, k)
        n, t, e, x = self._arrays(doses)
        tox_elim, futile = self._elimination(n, t, e)
        kept = ~(tox_elim | futile)
        elim = tuple(int(i) for i in np.flatnonzero(~kept[0]))
        bounds = self.boundaries()
        pos = f"dose {cur + 1}"
        nc, tc, ec = doses[cur].treated, doses[cur].dlts, doses[cur].responses

        if tox_elim[0, 0]:
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                reason=(
                    f"The lowest dose is overly toxic ({doses[0].dlts}/{doses[0].treated} DLTs: "
                    f"P(DLT rate > {self.phi_t}) > {self.c_t}); stop the trial, no OBD."
                ),
                rule="safety rule at dose 1",
                eliminated=elim,
            )
        if not kept[0].any():
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                reason="Every dose is eliminated (safety or futility rule); stop, no OBD.",
                rule="no admissible dose",
                eliminated=elim,
            )
        total = int(n.sum())
        if total >= self.sample_size:
            sel = self.select_obd(doses)
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                reason=(
                    f"The maximum sample size ({self.sample_size}) is reached; "
                    + (f"select dose {sel.dose + 1} as the OBD." if sel.dose is not None else "")
                    + ("no dose is selected." if sel.dose is None else "")
                ),
                rule="sample size",
                eliminated=elim,
                mtd=sel.dose,
            )
        if nc == 0 and kept[0, cur]:
            return Decision(
                action=Action.STAY,
                current_dose=cur,
                next_dose=cur,
                reason=f"No patient treated yet at {pos}; treat the next cohort there.",
                rule="n=0",
                eliminated=elim,
            )
        step = self._step(n, t, x, kept, tox_elim, np.array([cur], dtype=np.int64), bounds)
        nxt = int(step.next_dose[0])
        rule = self._rule_text(step, bounds, nc, tc, ec)
        code = int(step.rule[0])
        obs = f"{tc}/{nc} DLTs and {ec}/{nc} responses at {pos}"
        if nxt < 0:
            why = (
                "no admissible dose remains below it"
                if code in (_R_TOX, _R_DOWN)
                else "no admissible dose remains to choose from"
            )
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                reason=f"{obs}: {why}; stop the trial, no OBD.",
                rule=rule,
                eliminated=elim,
            )
        if self.n_cap is not None and doses[nxt].treated + self.cohort_size > self.n_cap:
            sel = self.select_obd(doses)
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                reason=(
                    f"The next dose, {nxt + 1}, already has {doses[nxt].treated} patients "
                    f"(n_cap={self.n_cap}); stop and "
                    + (f"select dose {sel.dose + 1}." if sel.dose is not None else "select none.")
                ),
                rule=rule,
                eliminated=elim,
                mtd=sel.dose,
            )
        if code == _R_TOX:
            action = Action.ELIMINATE
            why = (
                f"P(DLT rate > {self.phi_t}) > {self.c_t}: eliminate {pos} and higher doses, "
                f"go to dose {nxt + 1}"
            )
        elif nxt > cur:
            action = Action.ESCALATE
            why = (
                f"dose-exploration rule, escalate to untried dose {nxt + 1}"
                if code == _R_EXPLORE
                else f"dose {nxt + 1} is the most desirable; escalate"
            )
        elif nxt < cur:
            action = Action.DE_ESCALATE
            why = (
                f"DLT rate >= lambda_d={bounds.lambda_d:.4f}; de-escalate to dose {nxt + 1}"
                if code == _R_DOWN
                else f"dose {nxt + 1} is the most desirable; de-escalate"
            )
        else:
            action = Action.STAY
            why = (
                "DLT rate >= lambda_d but no admissible lower dose; stay"
                if code == _R_DOWN
                else f"{pos} is the most desirable; stay"
            )
        return Decision(
            action=action,
            current_dose=cur,
            next_dose=nxt,
            reason=f"{obs}: {why}.",
            rule=rule,
            eliminated=elim,
        )

    def _rule_text(self, step: _Step, bounds: BOIN12Boundaries, nc: int, tc: int, ec: int) -> str:
        code = int(step.rule[0])
        phat = tc / max(nc, 1)
        head = (
            f"n={nc}, DLT rate {phat:.3f} (lambda_e={bounds.lambda_e:.4f}, "
            f"lambda_d={bounds.lambda_d:.4f}), responses {ec}"
        )
        names = {
            _R_TOX: "safety rule: current dose eliminated",
            _R_NONE: "no admissible dose",
            _R_EXPLORE: f"dose exploration (n >= {self.n_explore}, next dose untried)",
            _R_DOWN: "DLT rate >= lambda_d: de-escalate",
            _R_NSTAR: f"lambda_e < DLT rate < lambda_d and n >= N*={self.n_star}: lower or stay",
            _R_BEST: "most desirable of lower, current, higher",
        }
        text = f"{head}; {names.get(code, '')}"
        if code in (_R_NSTAR, _R_BEST):
            labels = ("lower", "current", "higher")
            docs = (int(step.below[0]), -1, int(step.above[0]))
            parts = []
            for j in range(3):
                s = float(step.scores[0, j])
                if np.isfinite(s):
                    where = labels[j] if docs[j] < 0 else f"dose {docs[j] + 1}"
                    parts.append(f"{where} {100 * s:.2f}")
            text += f"; 100*P(u > {bounds.u_benchmark:g}): " + ", ".join(parts)
        return text

    # --- OBD selection -------------------------------------------------------------------------

    def _select(
        self,
        n: NDArray[np.int64],
        t: NDArray[np.int64],
        x: NDArray[np.float64],
        tox_elim: NDArray[np.bool_],
        kept: NDArray[np.bool_],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(OBD, MTD) per trial, -1 where none."""
        mtd = isotonic_select(n, t, tox_elim, target=float(self.phi_t))
        k = n.shape[1]
        util = (x + float(self.prior_a)) / (n + float(self.prior_a) + float(self.prior_b))
        ok = kept & (n > 0) & (np.arange(k)[None, :] <= mtd[:, None])
        masked = np.where(ok, util, -np.inf)
        obd = np.argmax(masked, axis=1)
        none = (mtd < 0) | ~ok.any(axis=1)
        return np.where(none, -1, obd).astype(np.int64), mtd

    def select_obd(self, data: Sequence[EffToxData | tuple[int, ...]]) -> OBDSelection:
        """Select the OBD from the data of a finished trial (isotonic toxicity, then utility)."""
        self._validate()
        doses = as_efftox_data(data)
        n, t, e, x = self._arrays(doses)
        tox_elim, futile = self._elimination(n, t, e)
        kept = ~(tox_elim | futile)
        obd_a, mtd_a = self._select(n, t, x, tox_elim, kept)
        obd, mtd = int(obd_a[0]), int(mtd_a[0])
        tox_est = _isotonic_tox(n[0], t[0], tox_elim[0])
        a, b = float(self.prior_a), float(self.prior_b)
        util: tuple[float | None, ...] = tuple(
            None if n[0, j] == 0 else float(100.0 * (x[0, j] + a) / (n[0, j] + a + b))
            for j in range(n.shape[1])
        )
        if obd >= 0:
            why = explain("obd_utility", dose=obd + 1, mtd=mtd + 1)
        elif tox_elim[0, 0]:
            why = explain("mtd_none_lowest_toxic")
        elif not (n[0] > 0).any():
            why = explain("mtd_none_untreated")
        else:
            why = explain("obd_none_inadmissible")
        return OBDSelection(
            dose=obd if obd >= 0 else None,
            mtd=mtd if mtd >= 0 else None,
            eliminated=tuple(int(i) for i in np.flatnonzero(~kept[0])),
            tox_estimates=tox_est,
            utility=util,
            reason=str(why),
            explained=why,
        )

    # --- simulation ----------------------------------------------------------------------------

    def true_obd(
        self, tox: Sequence[float], eff: Sequence[float], *, correlation: float = 0.0
    ) -> int | None:
        """The true OBD of a scenario: the highest-utility dose among those with toxicity at most
        ``phi_t``, provided one of them reaches efficacy ``phi_e`` (None otherwise)."""
        self._validate()
        p_t, p_e, p11 = _scenario(tox, eff, correlation)
        util = self._true_utility(p_t, p_e, p11)
        safe = np.flatnonzero(p_t <= float(self.phi_t))
        if safe.size == 0 or p_e[safe].max() < float(self.phi_e):
            return None
        return int(safe[np.argmax(util[safe])])

    def _true_utility(
        self, p_t: NDArray[np.float64], p_e: NDArray[np.float64], p11: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        p01 = p_e - p11
        p00 = 1.0 - p_t - p_e + p11
        return np.asarray(
            100.0 * p01 + float(self.u_neither) * p00 + float(self.u_both) * p11,
            dtype=np.float64,
        )

    def simulate(
        self,
        tox: Sequence[float],
        eff: Sequence[float],
        *,
        correlation: float = 0.0,
        n_trials: int = 10_000,
        rng: RngLike = None,
        start_dose: int = 0,
        progress: ProgressCallback | None = None,
    ) -> BOIN12Simulation:
        """Operating characteristics over ``n_trials`` simulated trials (vectorised).

        Parameters
        ----------
        tox : true DLT probability per dose, non-decreasing.
        eff : true response probability per dose (any shape: plateaus and umbrellas allowed).
        correlation : Pearson correlation of the binary DLT and response outcomes of a patient
            (0: independent); it must be attainable for every dose.
        n_trials : number of replicate trials.
        rng : seed or ``np.random.Generator``; the same seed gives the same result.
        start_dose : 0-based starting dose.
        progress : optional ``progress(done, total)`` callback (one call per cohort step).
        """
        self._validate()
        p_t, p_e, p11 = _scenario(tox, eff, correlation)
        n_trials = check_positive_int("n_trials", n_trials)
        k = p_t.size
        start = check_current(start_dose, k)
        gen = np.random.default_rng(rng)
        bounds = self.boundaries()
        cs = int(self.cohort_size)
        # Cumulative cell probabilities per dose: both, DLT only, response only, neither.
        cells = np.stack([p11, p_t - p11, p_e - p11], axis=1)
        cum = np.cumsum(cells, axis=1)

        n = np.zeros((n_trials, k), dtype=np.int64)
        t = np.zeros((n_trials, k), dtype=np.int64)
        e = np.zeros((n_trials, k), dtype=np.int64)
        b = np.zeros((n_trials, k), dtype=np.int64)
        kept = np.ones((n_trials, k), dtype=bool)
        tox_elim = np.zeros((n_trials, k), dtype=bool)
        d = np.full(n_trials, start, dtype=np.int64)
        active = np.ones(n_trials, dtype=bool)
        early = np.zeros(n_trials, dtype=bool)
        rows = np.arange(n_trials)
        pos = np.arange(k)[None, :]

        for step in range(int(self.n_cohorts)):
            u = gen.random((n_trials, cs))
            c = cum[d]  # (T, 3)
            both = u < c[:, 0:1]
            tox_only = ~both & (u < c[:, 1:2])
            eff_only = ~both & ~tox_only & (u < c[:, 2:3])
            add = active.astype(np.int64)
            n[rows, d] += cs * add
            t[rows, d] += (both | tox_only).sum(axis=1) * add
            e[rows, d] += (both | eff_only).sum(axis=1) * add
            b[rows, d] += both.sum(axis=1) * add
            # The safety and futility rules also apply to the last cohort (they feed selection).
            nd, td, ed = n[rows, d], t[rows, d], e[rows, d]
            hit_t = active & self._tox_unsafe(nd, td)
            tox_elim |= hit_t[:, None] & (pos >= d[:, None])
            hit_e = active & self._futile(nd, ed)
            kept &= ~tox_elim
            kept[rows[hit_e], d[hit_e]] = False
            if step == int(self.n_cohorts) - 1:
                break  # the sample size is reached: no further decision
            x = self._pseudo(n, t, e, b)
            res = self._step(n, t, x, kept, tox_elim, d, bounds)
            stop = active & (res.next_dose < 0)
            early |= stop
            active &= ~stop
            nxt = np.where(active, res.next_dose, d)
            if self.n_cap is not None:
                capped = active & (n[rows, nxt] + cs > int(self.n_cap))
                active &= ~capped
            d = np.where(active, nxt, d)
            if progress is not None:
                progress(step + 1, int(self.n_cohorts))
            if not active.any():
                break
        if progress is not None:
            progress(int(self.n_cohorts), int(self.n_cohorts))

        early |= ~kept.any(axis=1)  # every dose eliminated, by the last cohort included
        x = self._pseudo(n, t, e, b)
        obd, _ = self._select(n, t, x, tox_elim, kept)
        selected = np.where(early, -1, obd).astype(np.int64)
        counts = np.bincount(selected[selected >= 0], minlength=k).astype(np.float64)
        util = self._true_utility(p_t, p_e, p11)
        return BOIN12Simulation(
            design=self.name,
            tox=tuple(float(v) for v in p_t),
            eff=tuple(float(v) for v in p_e),
            correlation=float(correlation),
            true_utility=tuple(float(v) for v in util),
            true_obd=self.true_obd(p_t.tolist(), p_e.tolist(), correlation=correlation),
            n_trials=n_trials,
            selection=counts / n_trials,
            no_selection=float(np.mean(selected < 0)),
            early_stop=float(np.mean(early)),
            patients=n.mean(axis=0),
            dlts=t.mean(axis=0),
            responses=e.mean(axis=0),
            total_patients=float(n.sum(axis=1).mean()),
            selected=selected,
            settings={**self.get_params(), "start_dose": start, "correlation": correlation},
        )


def _scenario(
    tox: Sequence[float], eff: Sequence[float], correlation: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a scenario; return (p_T, p_E, P(DLT and response)) per dose."""
    p_t = check_truth(tox, name="tox")
    p_e = check_truth(eff, monotone=False, name="eff")
    if p_e.size != p_t.size:
        raise ValidationError(
            f"eff has {p_e.size} doses but tox has {p_t.size}; give one probability per dose "
            "in both.",
            code="design_eff_tox_sizes",
            n_eff=p_e.size,
            n_tox=p_t.size,
        )
    if isinstance(correlation, bool) or not isinstance(correlation, int | float | np.floating):
        raise ValidationError(
            f"correlation must be a number in [-1, 1]; got {correlation!r}.",
            code="design_correlation_number",
            correlation=repr(correlation),
        )
    rho = float(correlation)
    if not -1.0 <= rho <= 1.0:
        raise ValidationError(
            f"correlation must lie in [-1, 1]; got {correlation!r}.",
            code="design_correlation_range",
            correlation=repr(correlation),
        )
    p11 = p_t * p_e + rho * np.sqrt(p_t * (1 - p_t) * p_e * (1 - p_e))
    lo = np.maximum(0.0, p_t + p_e - 1.0)
    hi = np.minimum(p_t, p_e)
    bad = np.flatnonzero((p11 < lo - 1e-12) | (p11 > hi + 1e-12))
    if bad.size:
        i = int(bad[0])
        raise ValidationError(
            f"correlation {rho:g} is not attainable at dose {i + 1} (tox={p_t[i]:g}, "
            f"eff={p_e[i]:g}): P(DLT and response) would be {p11[i]:.4f}, outside "
            f"[{lo[i]:.4f}, {hi[i]:.4f}]. Use a correlation closer to 0.",
            code="design_correlation_unattainable",
            rho=f"{rho:g}",
            dose=i + 1,
            tox=f"{p_t[i]:g}",
            eff=f"{p_e[i]:g}",
            joint=f"{p11[i]:.4f}",
            low=f"{lo[i]:.4f}",
            high=f"{hi[i]:.4f}",
        )
    return p_t, p_e, np.clip(p11, lo, hi)


def _isotonic_tox(
    n: NDArray[np.int64], t: NDArray[np.int64], tox_elim: NDArray[np.bool_]
) -> tuple[float | None, ...]:
    """Isotonic DLT-rate estimates as ``BOIN::select.mtd`` (tried, non-eliminated doses)."""
    k = n.size
    use = np.flatnonzero((n > 0) & ~tox_elim)
    out: list[float | None] = [None] * k
    if use.size == 0:
        return tuple(out)
    phat, var = beta_estimates(n[use], t[use])
    iso = pava_rows(phat[None, :], (1.0 / var)[None, :], np.array([use.size]))[0]
    for j, i in enumerate(use):
        out[int(i)] = float(iso[j])
    return tuple(out)


__all__ = [
    "BOIN12",
    "BOIN12Boundaries",
    "BOIN12Simulation",
    "EffToxData",
    "OBDSelection",
    "RDSRow",
    "as_efftox_data",
    "parse_efftox_outcomes",
]
