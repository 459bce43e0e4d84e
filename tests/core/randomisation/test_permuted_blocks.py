"""Stratified permuted-block lists: exact ratios in every block, concealed block ends, next row."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError
from oncotrials.core.randomisation import (
    Arm,
    next_allocation,
    permuted_block_list,
)

STRATA = {"site": ["A", "B"], "ecog": ["0", "1"]}


def test_every_complete_block_holds_the_arms_in_the_exact_ratio_1_to_1():
    lst = permuted_block_list(
        arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=100, strata=STRATA, rng=1
    )
    assert len(lst.strata) == 4
    for stratum in lst.strata:
        assert len(stratum) >= 100
        for block in stratum.blocks:
            assert block.size in (4, 6)
            content = Counter(stratum.allocations[block.start : block.stop])
            assert content == {"A": block.size // 2, "B": block.size // 2}


def test_every_complete_block_holds_the_arms_in_the_exact_ratio_2_to_1():
    lst = permuted_block_list(arms={"T": 2, "C": 1}, block_sizes=[3, 6], n=60, rng=7)
    (stratum,) = lst.strata
    assert stratum.label == "all"
    for block in stratum.blocks:
        content = Counter(stratum.allocations[block.start : block.stop])
        assert content["T"] == 2 * content["C"] == 2 * block.size // 3


def test_blocks_tile_the_list_and_it_ends_on_a_complete_block():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=25, strata=STRATA, rng=3)
    for stratum in lst.strata:
        assert stratum.blocks[0].start == 0
        for before, after in zip(stratum.blocks, stratum.blocks[1:], strict=False):
            assert after.start == before.stop
            assert after.index == before.index + 1
        assert stratum.blocks[-1].stop == len(stratum)
        # no block more than needed: without the last block the list would be too short
        assert stratum.blocks[-1].start < 25


def test_block_sizes_are_drawn_at_random_from_the_allowed_set():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=2000, rng=11)
    sizes = Counter(b.size for b in lst.strata[0].blocks)
    share = sizes[4] / sum(sizes.values())
    # uniform over {4, 6}: about 400 blocks, so the share of 4s lies within 0.5 ± 4 SE (SE ≈ 0.025)
    assert abs(share - 0.5) < 0.1


def test_within_block_order_is_random_first_row_is_a_about_half_the_time():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=4000, rng=5)
    stratum = lst.strata[0]
    first = [stratum.allocations[b.start] for b in stratum.blocks]
    share = first.count("A") / len(first)
    # 1000 blocks, P(first row is A) = 1/2; 4 SE ≈ 0.063
    assert abs(share - 0.5) < 0.063


def test_same_seed_same_list_and_strata_get_different_sequences():
    a = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=50, strata=STRATA, rng=42)
    b = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=50, strata=STRATA, rng=42)
    c = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=50, strata=STRATA, rng=43)
    assert a == b
    assert a != c
    assert len({s.allocations for s in a.strata}) == 4
    generator = np.random.default_rng(42)
    assert (
        permuted_block_list(
            arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=50, strata=STRATA, rng=generator
        )
        == a
    )


def test_strata_are_every_combination_of_levels_and_found_by_a_patients_levels():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=8, strata=STRATA, rng=1)
    labels = [s.label for s in lst.strata]
    assert labels == ["site=A|ecog=0", "site=A|ecog=1", "site=B|ecog=0", "site=B|ecog=1"]
    assert lst.stratum({"ecog": "1", "site": "B"}).label == "site=B|ecog=1"
    assert lst.stratum("site=A|ecog=0").levels == (("site", "A"), ("ecog", "0"))
    with pytest.raises(ValidationError, match=r"strata\.ecog: level '3' is not one of 0, 1"):
        lst.stratum({"site": "A", "ecog": "3"})
    with pytest.raises(ValidationError, match=r"strata\.site: the patient has no level"):
        lst.stratum({"ecog": "0"})
    with pytest.raises(NotFoundError, match="Stratum 'site=C'"):
        lst.stratum("site=C")


def test_next_allocation_hands_out_rows_in_order_with_their_block():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4, 6], n=20, rng=2)
    stratum = lst.strata[0]
    handed = [next_allocation(stratum, i) for i in range(len(stratum))]
    assert [h.arm for h in handed] == list(stratum.allocations)
    assert [h.sequence for h in handed] == list(range(1, len(stratum) + 1))
    for h in handed:
        block = stratum.blocks[h.block]
        assert h.block_size == block.size
        assert h.position_in_block == h.sequence - block.start
        assert 1 <= h.position_in_block <= block.size


def test_an_exhausted_list_is_a_conflict_that_says_to_extend_it():
    lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=4, rng=2)
    stratum = lst.strata[0]
    with pytest.raises(ConflictError, match="exhausted: all 4 rows are used") as info:
        next_allocation(stratum, 4)
    assert info.value.code == "list_exhausted"
    with pytest.raises(ValidationError, match="allocated"):
        next_allocation(stratum, -1)


@pytest.mark.parametrize(
    ("arms", "sizes", "message"),
    [
        ({"A": 1, "B": 0}, [4], r"arms\.B: the ratio must be > 0; got 0"),
        ({"A": 1, "B": -2}, [4], r"arms\.B: the ratio must be > 0; got -2"),
        ({"A": 1.5, "B": 1}, [4], r"arms\.A: the ratio must be a whole number"),
        ({"A": 1}, [4], "at least two arms"),
        ({"A": 2, "B": 1}, [4], "block_sizes: 4 is not a positive multiple of 3"),
        ({"A": 1, "B": 1}, [], "block_sizes: give at least one"),
        ({"A": 1, "B": 1}, [0], "block_sizes: 0 is not a positive multiple"),
    ],
)
def test_bad_input_names_the_field(arms, sizes, message):
    with pytest.raises(ValidationError, match=message):
        permuted_block_list(arms=arms, block_sizes=sizes, n=10, rng=1)


def test_bad_strata_and_length_name_the_field():
    with pytest.raises(ValidationError, match=r"strata\.site: the factor has no levels"):
        permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=4, strata={"site": []})
    with pytest.raises(ValidationError, match=r"n: the list length"):
        permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=0)
    with pytest.raises(ValidationError, match=r"arms\.A: the arm is listed twice"):
        permuted_block_list(arms=[Arm("A", 1), Arm("A", 1)], block_sizes=[4], n=4)
