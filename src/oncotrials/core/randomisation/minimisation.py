"""Minimisation (Pocock & Simon 1975) with its random element, and a vectorised simulator.

For a new patient, every arm is tried in turn: the patient is added to that arm and, for each
factor, the counts of the patients who share the new patient's level are compared across arms
(each count divided by its arm's ratio). The spread of those counts (range or variance) is that
factor's imbalance; the weighted sum over factors is the arm's score. The arm with the lowest
score is preferred (ties broken at random) and assigned with probability ``p``; each other arm
gets ``(1 - p) / (K - 1)``. When every arm scores the same, the arm is drawn by the ratios.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.errors import ValidationError
from oncotrials.core.randomisation.blocks import Arm, parse_arms

Measure = Literal["range", "variance"]
MEASURES: tuple[Measure, ...] = ("range", "variance")
# scores are sums of ratios of small integers: equal scores agree to far better than this
_TIE = 1e-9


@dataclass(frozen=True, slots=True)
class Factor:
    """A minimisation factor, its levels and its weight in the score."""

    name: str
    levels: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class MinimisationConfig:
    """The declared scheme; checked on use (:meth:`validated`), never in the constructor.

    ``arms``: ``{"A": 1, "B": 1}`` (integer ratios > 0); ``factors``: ``{"sex": ["F", "M"]}``
    or :class:`Factor` objects; ``weights``: per factor (default 1); ``p``: probability of the
    preferred arm, in ``[1/K, 1]``; ``measure``: ``"range"`` or ``"variance"`` (population
    variance of the ratio-adjusted counts).
    """

    arms: Mapping[str, int] | Sequence[Arm]
    factors: Mapping[str, Sequence[str]] | Sequence[Factor]
    weights: Mapping[str, float] | None = None
    p: float = 0.8
    measure: str = "range"

    def validated(self) -> PreparedConfig:
        return _prepare(self)


@dataclass(frozen=True)
class PreparedConfig:
    """A checked configuration with the arrays the scoring uses."""

    arms: tuple[Arm, ...]
    factors: tuple[Factor, ...]
    p: float
    measure: Measure

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.arms)

    @cached_property
    def ratios(self) -> NDArray[np.float64]:
        return np.array([a.ratio for a in self.arms], dtype=float)

    @cached_property
    def weights(self) -> NDArray[np.float64]:
        return np.array([f.weight for f in self.factors], dtype=float)

    @cached_property
    def max_levels(self) -> int:
        return max(len(f.levels) for f in self.factors)

    @cached_property
    def _lookup(self) -> tuple[dict[str, int], ...]:
        return tuple({level: j for j, level in enumerate(f.levels)} for f in self.factors)

    def level_index(self, levels: Mapping[str, str], *, where: str) -> NDArray[np.intp]:
        """Indexes of a patient's levels, one per factor; errors name the missing/unknown field."""
        return np.array(self.level_tuple(levels, where=where), dtype=np.intp)

    def level_tuple(self, levels: Mapping[str, str], *, where: str) -> tuple[int, ...]:
        """:meth:`level_index` as a tuple of ints (cheap to hash and count)."""
        if isinstance(levels, Mapping) and len(levels) == len(self.factors):
            try:  # fast path: every factor given, every level known
                return tuple(
                    lookup[str(levels[f.name])]
                    for f, lookup in zip(self.factors, self._lookup, strict=True)
                )
            except KeyError:
                pass  # the checks below name the faulty field
        if not isinstance(levels, Mapping):
            raise ValidationError(
                f"{where}: the factor levels must be a mapping of factor to level; "
                f"got {type(levels).__name__}.",
                code="randomisation_factor_levels_mapping_factor",
                name=str(type(levels).__name__),
                field=where,
            )
        index = []
        for factor in self.factors:
            if factor.name not in levels:
                raise ValidationError(
                    f"{where}.{factor.name}: missing; every patient needs a level for factor "
                    f"{factor.name!r} (one of {', '.join(factor.levels)}).",
                    code="randomisation_missing_every_patient_needs",
                    where=str(where),
                    factor=str(factor.name),
                    factor_b=repr(factor.name),
                    levels=str(", ".join(factor.levels)),
                    field=f"{where}.{factor.name}",
                )
            value = str(levels[factor.name])
            if value not in factor.levels:
                raise ValidationError(
                    f"{where}.{factor.name}: unknown level {value!r}; factor {factor.name!r} "
                    f"has levels {', '.join(factor.levels)}.",
                    code="randomisation_unknown_level_factor_has",
                    where=str(where),
                    factor=str(factor.name),
                    value=repr(value),
                    factor_b=repr(factor.name),
                    levels=str(", ".join(factor.levels)),
                    field=f"{where}.{factor.name}",
                )
            index.append(factor.levels.index(value))
        extra = sorted(set(levels) - {f.name for f in self.factors})
        if extra:
            raise ValidationError(
                f"{where}.{extra[0]}: not a minimisation factor of this scheme "
                f"(factors: {', '.join(f.name for f in self.factors)}).",
                code="randomisation_not_minimisation_factor_this",
                where=str(where),
                extra=str(extra[0]),
                factors=str(", ".join(f.name for f in self.factors)),
                field=f"{where}.{extra[0]}",
            )
        return tuple(index)

    def arm_index(self, arm: str, *, where: str) -> int:
        names = self.arm_names
        if arm not in names:
            raise ValidationError(
                f"{where}: unknown arm {arm!r}; the arms are {', '.join(names)}.",
                code="randomisation_unknown_arm_arms_are",
                arm=repr(arm),
                names=str(", ".join(names)),
                field=where,
            )
        return names.index(arm)


def _prepare(config: MinimisationConfig) -> PreparedConfig:
    arms = parse_arms(config.arms)
    raw_factors: list[Factor]
    if isinstance(config.factors, Mapping):
        raw_factors = [
            Factor(str(name), tuple(str(v) for v in levels))
            for name, levels in config.factors.items()
        ]
    else:
        raw_factors = list(config.factors)
    if not raw_factors:
        raise ValidationError(
            "factors: minimisation needs at least one factor; use a block list for none.",
            code="randomisation_factors_minimisation_needs_least",
            field="factors",
        )
    weights = dict(config.weights or {})
    names = [f.name for f in raw_factors]
    for name in weights:
        if name not in names:
            raise ValidationError(
                f"weights.{name}: not a factor of this scheme (factors: {', '.join(names)}).",
                code="randomisation_weights_not_factor_this",
                name=str(name),
                names=str(", ".join(names)),
                field=f"weights.{name}",
            )
    factors = []
    for factor in raw_factors:
        if not factor.name:
            raise ValidationError(
                "factors: a factor has no name.",
                code="randomisation_factors_factor_has_no",
                field="factors",
            )
        if names.count(factor.name) > 1:
            raise ValidationError(
                f"factors.{factor.name}: the factor is listed twice.",
                code="randomisation_factors_factor_listed_twice",
                factor=str(factor.name),
                field=f"factors.{factor.name}",
            )
        levels = tuple(str(v) for v in factor.levels)
        if len(levels) < 2:
            raise ValidationError(
                f"factors.{factor.name}: a factor needs at least two levels; got {list(levels)}.",
                code="randomisation_factors_factor_needs_least",
                factor=str(factor.name),
                levels=str(list(levels)),
                field=f"factors.{factor.name}",
            )
        if len(set(levels)) != len(levels):
            raise ValidationError(
                f"factors.{factor.name}: a level is listed twice ({', '.join(levels)}).",
                code="randomisation_factors_level_listed_twice",
                factor=str(factor.name),
                levels=str(", ".join(levels)),
                field=f"factors.{factor.name}",
            )
        weight = float(weights.get(factor.name, factor.weight))
        if not np.isfinite(weight) or weight < 0:
            raise ValidationError(
                f"weights.{factor.name}: a factor weight must be a finite number >= 0; "
                f"got {weight}.",
                code="randomisation_weights_factor_weight_finite",
                factor=str(factor.name),
                weight=str(weight),
                field=f"weights.{factor.name}",
            )
        factors.append(Factor(factor.name, levels, weight))
    if not any(f.weight > 0 for f in factors):
        raise ValidationError(
            "weights: at least one factor needs a weight > 0.",
            code="randomisation_weights_least_one_factor",
            field="weights",
        )
    k = len(arms)
    p = float(config.p)
    if not (1.0 / k - 1e-12 <= p <= 1.0):
        raise ValidationError(
            f"p: the probability of the preferred arm must lie in [1/{k}, 1] for {k} arms; "
            f"got {config.p}.",
            code="randomisation_p_probability_preferred_arm",
            k=str(k),
            p=str(config.p),
            field="p",
        )
    if config.measure not in MEASURES:
        raise ValidationError(
            f"measure: the imbalance measure must be one of {', '.join(MEASURES)}; "
            f"got {config.measure!r}.",
            code="randomisation_measure_imbalance_measure_one",
            measures=str(", ".join(MEASURES)),
            measure=repr(config.measure),
            field="measure",
        )
    measure: Measure = "range" if config.measure == "range" else "variance"
    return PreparedConfig(arms, tuple(factors), p, measure)


def _as_prepared(config: MinimisationConfig | PreparedConfig) -> PreparedConfig:
    return config if isinstance(config, PreparedConfig) else config.validated()


def _scores(at_levels: NDArray[np.float64], prepared: PreparedConfig) -> NDArray[np.float64]:
    """Scores per candidate arm from the counts at the new patient's levels.

    ``at_levels`` has shape ``(..., F, K)``: for each factor, the number of patients in each arm
    who share the new patient's level. Returns ``(..., K)``: the weighted imbalance if the new
    patient joined each arm.
    """
    k = len(prepared.arms)
    trial = at_levels[..., None, :, :] + np.eye(k)[:, None, :]  # (..., K cand, F, K)
    adjusted = trial / prepared.ratios
    if prepared.measure == "range":
        spread = adjusted.max(axis=-1) - adjusted.min(axis=-1)
    else:
        spread = adjusted.var(axis=-1)
    scores: NDArray[np.float64] = (spread * prepared.weights).sum(axis=-1)
    return scores


def _count_array(
    existing: Iterable[tuple[Mapping[str, str], str]], prepared: PreparedConfig
) -> NDArray[np.int64]:
    arm_lookup = {name: m for m, name in enumerate(prepared.arm_names)}
    tally: Counter[tuple[tuple[int, ...], int]] = Counter()
    for i, item in enumerate(existing):
        try:
            levels, arm = item
        except (TypeError, ValueError):
            raise ValidationError(
                f"existing[{i}]: each allocated patient must be (levels, arm); got {item!r}.",
                code="randomisation_existing_each_allocated_patient",
                i=str(i),
                item=repr(item),
                field=f"existing[{i}]",
            ) from None
        index = prepared.level_tuple(levels, where=f"existing[{i}].levels")
        m = arm_lookup.get(arm)
        if m is None:
            m = prepared.arm_index(arm, where=f"existing[{i}].arm")  # raises, naming the arm
        tally[(index, m)] += 1
    counts = np.zeros((len(prepared.factors), prepared.max_levels, len(prepared.arms)), np.int64)
    rows = np.arange(len(prepared.factors))
    for (index, m), n in tally.items():
        counts[rows, list(index), m] += n
    return counts


def marginal_counts(
    existing: Iterable[tuple[Mapping[str, str], str]],
    config: MinimisationConfig | PreparedConfig,
) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per factor, level and arm of the patients already allocated.

    ``existing`` is a sequence of ``(levels, arm)`` pairs, e.g. ``({"sex": "F"}, "A")``.
    """
    prepared = _as_prepared(config)
    counts = _count_array(existing, prepared)
    return {
        f.name: {
            level: {a.name: int(counts[i, j, m]) for m, a in enumerate(prepared.arms)}
            for j, level in enumerate(f.levels)
        }
        for i, f in enumerate(prepared.factors)
    }


def _at_levels_from_counts(
    counts: Mapping[str, Mapping[str, Mapping[str, int]]],
    new: Mapping[str, str],
    prepared: PreparedConfig,
) -> NDArray[np.float64]:
    index = prepared.level_index(new, where="new")
    at_levels = np.zeros((len(prepared.factors), len(prepared.arms)))
    for i, factor in enumerate(prepared.factors):
        level = factor.levels[index[i]]
        by_arm = counts.get(factor.name, {}).get(level, {})
        for name in by_arm:
            prepared.arm_index(name, where=f"counts.{factor.name}.{level}")
        for m, arm in enumerate(prepared.arms):
            value = by_arm.get(arm.name, 0)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValidationError(
                    f"counts.{factor.name}.{level}.{arm.name}: a count must be a whole number "
                    f">= 0; got {value!r}.",
                    code="randomisation_counts_count_whole_number",
                    factor=str(factor.name),
                    level=str(level),
                    arm=str(arm.name),
                    value=repr(value),
                    field=f"counts.{factor.name}.{level}.{arm.name}",
                )
            at_levels[i, m] = value
    return at_levels


def imbalance_scores(
    counts: Mapping[str, Mapping[str, Mapping[str, int]]],
    new: Mapping[str, str],
    config: MinimisationConfig | PreparedConfig,
) -> dict[str, float]:
    """The score of each arm for a new patient, from marginal counts (factor → level → arm → n).

    Lower is better. Levels or arms missing from ``counts`` count as zero.
    """
    prepared = _as_prepared(config)
    scores = _scores(_at_levels_from_counts(counts, new, prepared), prepared)
    return {a.name: float(s) for a, s in zip(prepared.arms, scores, strict=True)}


@dataclass(frozen=True)
class MinimisationDecision:
    """One allocation with everything the audit trail needs to replay it.

    ``scores``: imbalance per arm if the patient joined it (lower is better); ``tied``: the arms
    sharing the lowest score; ``preferred``: the arm the tie-break picked (``None`` when all arms
    tie and the arm was drawn by the ratios); ``probabilities``: the chance each arm had of
    being assigned; ``random_element_overrode``: the random element assigned an arm other than
    the preferred one.
    """

    arm: str
    scores: dict[str, float]
    tied: tuple[str, ...]
    preferred: str | None
    random_element_overrode: bool
    probabilities: dict[str, float]
    p: float
    measure: str


def _probabilities(tied: NDArray[np.bool_], prepared: PreparedConfig) -> NDArray[np.float64]:
    k = len(prepared.arms)
    if tied.all():
        out: NDArray[np.float64] = prepared.ratios / prepared.ratios.sum()
        return out
    m = tied.sum()
    other = (1.0 - prepared.p) / (k - 1)
    # arm j: chosen by the tie-break with chance tied_j / m, then assigned with p; or another
    # arm was preferred and j is one of its K - 1 alternatives
    return np.where(tied, (prepared.p + (m - 1) * other) / m, other)


def next_assignment(
    existing: Iterable[tuple[Mapping[str, str], str]],
    new: Mapping[str, str],
    config: MinimisationConfig | PreparedConfig,
    rng: np.random.Generator | int | None = None,
) -> MinimisationDecision:
    """Allocate a new patient by minimisation.

    Parameters
    ----------
    existing
        The patients already allocated, as ``(levels, arm)`` pairs in any order.
    new
        The new patient's level for every factor, e.g. ``{"sex": "F", "ecog": "0"}``.
    config
        The scheme (:class:`MinimisationConfig`).
    rng
        Seed or generator; the same inputs and seed give the same decision.

    References
    ----------
    Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic factors
    in the controlled clinical trial. Biometrics 1975;31:103-115.
    Altman DG, Bland JM. Treatment allocation by minimisation. BMJ 2005;330:843.
    """
    prepared = _as_prepared(config)
    counts = _count_array(existing, prepared)
    index = prepared.level_index(new, where="new")
    at_levels = counts[np.arange(len(prepared.factors)), index].astype(float)
    return _decide(at_levels, prepared, np.random.default_rng(rng))


def assign_from_counts(
    counts: Mapping[str, Mapping[str, Mapping[str, int]]],
    new: Mapping[str, str],
    config: MinimisationConfig | PreparedConfig,
    rng: np.random.Generator | int | None = None,
) -> MinimisationDecision:
    """:func:`next_assignment` from stored marginal counts (factor → level → arm → n).

    For an app that keeps running counts instead of re-reading every allocated patient; the
    counts must be those :func:`marginal_counts` gives for the same patients.
    """
    prepared = _as_prepared(config)
    at_levels = _at_levels_from_counts(counts, new, prepared)
    return _decide(at_levels, prepared, np.random.default_rng(rng))


def _decide(
    at_levels: NDArray[np.float64], prepared: PreparedConfig, generator: np.random.Generator
) -> MinimisationDecision:
    scores = _scores(at_levels, prepared)
    tied = scores <= scores.min() + _TIE
    names = prepared.arm_names
    k = len(names)
    probabilities = _probabilities(tied, prepared)
    preferred: int | None
    if tied.all():
        preferred = None
        chosen = int(generator.choice(k, p=probabilities))
        overrode = False
    else:
        candidates = np.flatnonzero(tied)
        preferred = int(candidates[generator.integers(len(candidates))])
        if generator.random() < prepared.p:
            chosen = preferred
        else:
            r = int(generator.integers(k - 1))
            chosen = r if r < preferred else r + 1
        overrode = chosen != preferred
    return MinimisationDecision(
        arm=names[chosen],
        scores={n: float(s) for n, s in zip(names, scores, strict=True)},
        tied=tuple(n for n, t in zip(names, tied, strict=True) if t),
        preferred=None if preferred is None else names[preferred],
        random_element_overrode=overrode,
        probabilities={n: float(q) for n, q in zip(names, probabilities, strict=True)},
        p=prepared.p,
        measure=prepared.measure,
    )


@dataclass(frozen=True)
class AllocationSimulation:
    """Simulated accrual: axis 0 is the replicate trial, axis 1 the patient in order of entry.

    ``levels[t, i, f]`` indexes factor ``f``'s levels; ``arms[t, i]`` indexes the arms;
    ``preferred[t, i]`` is the arm minimisation preferred (-1 when all arms tied, and always for
    simple randomisation).
    """

    method: str
    config: PreparedConfig
    levels: NDArray[np.intp]
    arms: NDArray[np.intp]
    preferred: NDArray[np.intp]

    @cached_property
    def counts(self) -> NDArray[np.int64]:
        """Final marginal counts, shape ``(trials, F, max levels, K)``."""
        t, _, f = self.levels.shape
        k = len(self.config.arms)
        counts = np.zeros((t, f, self.config.max_levels, k), dtype=np.int64)
        for j in range(f):
            np.add.at(counts[:, j], (np.arange(t)[:, None], self.levels[:, :, j], self.arms), 1)
        return counts

    @property
    def arm_totals(self) -> NDArray[np.int64]:
        """Patients per arm, shape ``(trials, K)``."""
        totals: NDArray[np.int64] = self.counts[:, 0].sum(axis=1)
        return totals

    @property
    def max_marginal_imbalance(self) -> NDArray[np.float64]:
        """Per trial, the largest range across arms of a ratio-adjusted level count."""
        adjusted = self.counts / self.config.ratios
        spread: NDArray[np.float64] = (adjusted.max(axis=-1) - adjusted.min(axis=-1)).max(
            axis=(1, 2)
        )
        return spread

    @property
    def preferred_rate(self) -> float:
        """Share of the decisions with a preferred arm that assigned it (estimates ``p``)."""
        decided = self.preferred >= 0
        if not decided.any():
            return float("nan")
        return float((self.arms[decided] == self.preferred[decided]).mean())

    @property
    def decided(self) -> int:
        """Number of decisions in which one arm (or a subset) was preferred."""
        return int((self.preferred >= 0).sum())


def simulate_allocation(
    config: MinimisationConfig | PreparedConfig,
    *,
    n_patients: int,
    n_trials: int = 1000,
    level_probabilities: Mapping[str, Sequence[float]] | None = None,
    method: Literal["minimisation", "simple"] = "minimisation",
    rng: np.random.Generator | int | None = None,
) -> AllocationSimulation:
    """Simulate accrual of ``n_patients`` in ``n_trials`` trials, vectorised over trials.

    Patients' levels are drawn independently per factor (uniform unless
    ``level_probabilities`` gives a distribution per factor). ``method="simple"`` assigns by the
    ratios alone, for comparison.
    """
    prepared = _as_prepared(config)
    for name, value in (("n_patients", n_patients), ("n_trials", n_trials)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationError(
                f"{name}: must be a whole number > 0; got {value!r}.",
                code="randomisation_whole_number_got",
                value=repr(value),
                field=name,
            )
    if method not in ("minimisation", "simple"):
        raise ValidationError(
            f"method: must be 'minimisation' or 'simple'; got {method!r}.",
            code="randomisation_method_minimisation_simple_got",
            method=repr(method),
            field="method",
        )
    generator = np.random.default_rng(rng)
    probs = dict(level_probabilities or {})
    for name in probs:
        if name not in {f.name for f in prepared.factors}:
            raise ValidationError(
                f"level_probabilities.{name}: not a factor of this scheme.",
                code="randomisation_level_probabilities_not_factor",
                name=str(name),
                field=f"level_probabilities.{name}",
            )
    f_count = len(prepared.factors)
    k = len(prepared.arms)
    levels = np.empty((n_trials, n_patients, f_count), dtype=np.intp)
    for j, factor in enumerate(prepared.factors):
        q = probs.get(factor.name)
        if q is not None:
            q_arr = np.asarray(q, dtype=float)
            if (
                q_arr.shape != (len(factor.levels),)
                or (q_arr < 0).any()
                or not np.isclose(q_arr.sum(), 1.0)
            ):
                raise ValidationError(
                    f"level_probabilities.{factor.name}: give {len(factor.levels)} probabilities "
                    f">= 0 summing to 1; got {list(q)}.",
                    code="randomisation_level_probabilities_give_probabilities",
                    factor=str(factor.name),
                    n_levels=str(len(factor.levels)),
                    q=str(list(q)),
                    field=f"level_probabilities.{factor.name}",
                )
            levels[:, :, j] = generator.choice(
                len(factor.levels), size=(n_trials, n_patients), p=q_arr
            )
        else:
            levels[:, :, j] = generator.integers(len(factor.levels), size=(n_trials, n_patients))
    ratio_p = prepared.ratios / prepared.ratios.sum()
    preferred = np.full((n_trials, n_patients), -1, dtype=np.intp)
    if method == "simple":
        arms = generator.choice(k, size=(n_trials, n_patients), p=ratio_p).astype(np.intp)
        return AllocationSimulation(method, prepared, levels, arms, preferred)

    arms = np.empty((n_trials, n_patients), dtype=np.intp)
    counts = np.zeros((n_trials, f_count, prepared.max_levels, k), dtype=np.float64)
    trials = np.arange(n_trials)[:, None]
    factors = np.arange(f_count)[None, :]
    for i in range(n_patients):  # patients arrive in order; trials are the vectorised axis
        lv = levels[:, i, :]
        scores = _scores(counts[trials, factors, lv], prepared)  # (T, K)
        tied = scores <= scores.min(axis=1, keepdims=True) + _TIE
        all_tied = tied.all(axis=1)
        # tie-break: the tied arm with the largest uniform key
        keys = np.where(tied, generator.random((n_trials, k)), -1.0)
        pref = keys.argmax(axis=1)
        take = generator.random(n_trials) < prepared.p
        r = generator.integers(k - 1, size=n_trials) if k > 1 else np.zeros(n_trials, np.intp)
        other = np.where(r < pref, r, r + 1)
        chosen = np.where(take, pref, other)
        by_ratio = (generator.random(n_trials)[:, None] > np.cumsum(ratio_p)[None, :]).sum(axis=1)
        chosen = np.where(all_tied, np.minimum(by_ratio, k - 1), chosen)
        preferred[:, i] = np.where(all_tied, -1, pref)
        arms[:, i] = chosen
        counts[trials, factors, lv, chosen[:, None]] += 1
    return AllocationSimulation(method, prepared, levels, arms, preferred)
