"""Stratified permuted-block randomisation: concealed allocation lists generated in advance.

A list holds, for every stratum (one combination of the stratification factors' levels), a
sequence of blocks. Each block contains every arm in proportion to its ratio, in a random order;
its size is drawn at random from the allowed sizes, so the end of a block cannot be guessed
(Matts & Lachin 1988). The app stores the list once, never shows it to blinded roles, and hands
out its rows in order with :func:`next_allocation`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError

#: the label of the single stratum of an unstratified list
UNSTRATIFIED = "all"


@dataclass(frozen=True, slots=True)
class Arm:
    """A treatment arm and its allocation ratio (A:1, B:1 is 1:1; A:2, B:1 is 2:1)."""

    name: str
    ratio: int


@dataclass(frozen=True, slots=True)
class Block:
    """One permuted block of a stratum's list: rows ``start`` to ``start + size - 1`` (0-based)."""

    index: int
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass(frozen=True, slots=True)
class StratumList:
    """The allocation sequence of one stratum, with the blocks it is made of.

    ``levels`` names the stratum's level for each stratification factor, in the factors' order
    (empty for an unstratified list); ``label`` is ``"site=A|ecog=0"`` (or ``"all"``).
    """

    label: str
    levels: tuple[tuple[str, str], ...]
    allocations: tuple[str, ...]
    blocks: tuple[Block, ...]

    def __len__(self) -> int:
        return len(self.allocations)


@dataclass(frozen=True, slots=True)
class Allocation:
    """The row handed out: its 1-based sequence number in the stratum and its block."""

    stratum: str
    sequence: int
    arm: str
    block: int
    block_size: int
    position_in_block: int


@dataclass(frozen=True, slots=True)
class BlockList:
    """A complete stratified permuted-block list (every stratum holds complete blocks only)."""

    arms: tuple[Arm, ...]
    factors: tuple[tuple[str, tuple[str, ...]], ...]
    block_sizes: tuple[int, ...]
    strata: tuple[StratumList, ...]

    def stratum(self, levels: Mapping[str, str] | str) -> StratumList:
        """The stratum of a patient's levels (``{"site": "A", "ecog": "0"}``) or of a label."""
        label = levels if isinstance(levels, str) else stratum_label(levels, self.factors)
        for stratum in self.strata:
            if stratum.label == label:
                return stratum
        known = ", ".join(s.label for s in self.strata)
        raise NotFoundError(
            f"Stratum {label!r} is not in this list (strata: {known}).",
            code="randomisation_stratum_not_this_list",
            label=repr(label),
            known=str(known),
            field="stratum",
        )


def parse_arms(arms: Mapping[str, int] | Sequence[Arm]) -> tuple[Arm, ...]:
    """Arms from ``{"A": 1, "B": 1}`` or a sequence of :class:`Arm`; ratios must be integers > 0."""
    items = (
        [Arm(name, ratio) for name, ratio in arms.items()]
        if isinstance(arms, Mapping)
        else list(arms)
    )
    if len(items) < 2:
        raise ValidationError(
            f"arms: a randomisation needs at least two arms; got {len(items)}.",
            code="randomisation_arms_randomisation_needs_least",
            n_items=str(len(items)),
            field="arms",
        )
    seen: set[str] = set()
    for arm in items:
        if not isinstance(arm.name, str) or not arm.name.strip():
            raise ValidationError(
                f"arms: every arm needs a name; got {arm.name!r}.",
                code="randomisation_arms_every_arm_needs",
                arm=repr(arm.name),
                field="arms",
            )
        if arm.name in seen:
            raise ValidationError(
                f"arms.{arm.name}: the arm is listed twice; name each arm once.",
                code="randomisation_arms_arm_listed_twice",
                arm=str(arm.name),
                field=f"arms.{arm.name}",
            )
        seen.add(arm.name)
        if isinstance(arm.ratio, bool) or not isinstance(arm.ratio, int | np.integer):
            raise ValidationError(
                f"arms.{arm.name}: the ratio must be a whole number (e.g. 2 for 2:1); "
                f"got {arm.ratio!r}.",
                code="randomisation_arms_ratio_whole_number",
                arm=str(arm.name),
                ratio=repr(arm.ratio),
                field=f"arms.{arm.name}",
            )
        if arm.ratio <= 0:
            raise ValidationError(
                f"arms.{arm.name}: the ratio must be > 0; got {arm.ratio}.",
                code="randomisation_arms_ratio_got",
                arm=str(arm.name),
                ratio=str(arm.ratio),
                field=f"arms.{arm.name}",
            )
    return tuple(Arm(a.name, int(a.ratio)) for a in items)


def _parse_factors(
    factors: Mapping[str, Sequence[str]] | None,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not factors:
        return ()
    parsed = []
    for name, levels in factors.items():
        if not name:
            raise ValidationError(
                "strata: a stratification factor has no name.",
                code="randomisation_strata_stratification_factor_has",
                field="strata",
            )
        values = tuple(str(v) for v in levels)
        if not values:
            raise ValidationError(
                f"strata.{name}: the factor has no levels; list at least one.",
                code="randomisation_strata_factor_has_no",
                name=str(name),
                field=f"strata.{name}",
            )
        if len(set(values)) != len(values):
            raise ValidationError(
                f"strata.{name}: a level is listed twice ({', '.join(values)}).",
                code="randomisation_strata_level_listed_twice",
                name=str(name),
                values=str(", ".join(values)),
                field=f"strata.{name}",
            )
        parsed.append((name, values))
    return tuple(parsed)


def stratum_label(levels: Mapping[str, str], factors: Sequence[tuple[str, Sequence[str]]]) -> str:
    """``"site=A|ecog=0"`` for a patient's levels; errors name a missing or unknown level."""
    if not factors:
        return UNSTRATIFIED
    parts = []
    for name, allowed in factors:
        if name not in levels:
            raise ValidationError(
                f"strata.{name}: the patient has no level for stratification factor {name!r}; "
                f"give one of {', '.join(allowed)}.",
                code="randomisation_strata_patient_has_no",
                name=str(name),
                name_b=repr(name),
                allowed=str(", ".join(allowed)),
                field=f"strata.{name}",
            )
        value = str(levels[name])
        if value not in allowed:
            raise ValidationError(
                f"strata.{name}: level {value!r} is not one of {', '.join(allowed)}.",
                code="randomisation_strata_level_not_one",
                name=str(name),
                value=repr(value),
                allowed=str(", ".join(allowed)),
                field=f"strata.{name}",
            )
        parts.append(f"{name}={value}")
    return "|".join(parts)


def permuted_block_list(
    *,
    arms: Mapping[str, int] | Sequence[Arm],
    block_sizes: Sequence[int],
    n: int,
    strata: Mapping[str, Sequence[str]] | None = None,
    rng: np.random.Generator | int | None = None,
) -> BlockList:
    """Generate a stratified permuted-block allocation list.

    Parameters
    ----------
    arms
        Arm names and integer ratios, e.g. ``{"A": 1, "B": 1}`` or ``{"A": 2, "B": 1}``.
    block_sizes
        Allowed block sizes, each a multiple of the sum of the ratios (``{4, 6}`` for 1:1);
        each block's size is drawn uniformly from them.
    n
        Minimum number of allocations per stratum; blocks are added until a stratum holds at
        least ``n`` rows, so every stratum ends on a complete block.
    strata
        Stratification factors and their levels, e.g. ``{"site": ["A", "B"], "ecog": ["0", "1"]}``;
        one list per combination of levels. ``None``: a single stratum ``"all"``.
    rng
        Seed or generator; the strata are generated in order from one generator.

    References
    ----------
    Matts JP, Lachin JM. Properties of permuted-block randomization in clinical trials.
    Control Clin Trials 1988;9:327-344.
    """
    parsed_arms = parse_arms(arms)
    factors = _parse_factors(strata)
    total = sum(a.ratio for a in parsed_arms)
    sizes = tuple(int(s) for s in block_sizes)
    if not sizes:
        raise ValidationError(
            "block_sizes: give at least one block size.",
            code="randomisation_block_sizes_give_least",
            field="block_sizes",
        )
    for size in sizes:
        if size <= 0 or size % total:
            ratio_text = ":".join(str(a.ratio) for a in parsed_arms)
            raise ValidationError(
                f"block_sizes: {size} is not a positive multiple of {total}, the sum of the "
                f"ratios {ratio_text}; every block must hold each arm in the ratio.",
                code="randomisation_block_sizes_not_positive",
                size=str(size),
                total=str(total),
                ratio_text=str(ratio_text),
                field="block_sizes",
            )
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValidationError(
            f"n: the list length must be a whole number > 0; got {n!r}.",
            code="randomisation_n_list_length_whole",
            n=repr(n),
            field="n",
        )
    generator = np.random.default_rng(rng)
    names = np.array([a.name for a in parsed_arms])
    ratios = np.array([a.ratio for a in parsed_arms])
    combos: list[tuple[tuple[str, str], ...]] = (
        [
            tuple(zip([f for f, _ in factors], combo, strict=True))
            for combo in itertools.product(*(levels for _, levels in factors))
        ]
        if factors
        else [()]
    )
    result = []
    for combo in combos:
        label = "|".join(f"{f}={v}" for f, v in combo) if combo else UNSTRATIFIED
        allocations: list[str] = []
        blocks: list[Block] = []
        while len(allocations) < n:
            size = int(generator.choice(sizes))
            content = np.repeat(names, ratios * (size // total))
            allocations.extend(str(a) for a in generator.permutation(content))
            blocks.append(Block(len(blocks), len(allocations) - size, size))
        result.append(StratumList(label, combo, tuple(allocations), tuple(blocks)))
    return BlockList(parsed_arms, factors, sizes, tuple(result))


def next_allocation(stratum: StratumList, allocated: int) -> Allocation:
    """The next row of ``stratum`` when ``allocated`` patients already received theirs.

    Raises :class:`ConflictError` (code ``list_exhausted``) when the list has no row left: the
    statistician must extend the list before anyone else is randomised in this stratum.
    """
    if isinstance(allocated, bool) or not isinstance(allocated, int) or allocated < 0:
        raise ValidationError(
            f"allocated: the number already allocated must be a whole number >= 0; got {allocated!r}.",
            code="randomisation_allocated_number_already_allocated",
            allocated=repr(allocated),
            field="allocated",
        )
    if allocated >= len(stratum.allocations):
        raise ConflictError(
            f"The allocation list of stratum {stratum.label!r} is exhausted: all "
            f"{len(stratum.allocations)} rows are used. Generate an extension of the list "
            "before randomising another patient in this stratum.",
            code="list_exhausted",
            stratum=stratum.label,
            length=len(stratum.allocations),
        )
    # blocks are contiguous and ordered; a linear scan is fine for lists of a few hundred rows
    block = next(b for b in stratum.blocks if b.start <= allocated < b.stop)
    return Allocation(
        stratum=stratum.label,
        sequence=allocated + 1,
        arm=stratum.allocations[allocated],
        block=block.index,
        block_size=block.size,
        position_in_block=allocated - block.start + 1,
    )
