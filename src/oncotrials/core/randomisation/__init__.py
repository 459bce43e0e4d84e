"""Randomisation: stratified permuted-block lists and minimisation (Pocock & Simon).

>>> from oncotrials.core.randomisation import permuted_block_list, next_allocation
>>> lst = permuted_block_list(arms={"A": 1, "B": 1}, block_sizes=[4], n=4, rng=1)
>>> sorted(lst.strata[0].allocations)
['A', 'A', 'B', 'B']
>>> next_allocation(lst.strata[0], 0).sequence
1
"""

from __future__ import annotations

from oncotrials.core.randomisation.blocks import (
    UNSTRATIFIED,
    Allocation,
    Arm,
    Block,
    BlockList,
    StratumList,
    next_allocation,
    parse_arms,
    permuted_block_list,
    stratum_label,
)
from oncotrials.core.randomisation.minimisation import (
    MEASURES,
    AllocationSimulation,
    Factor,
    MinimisationConfig,
    MinimisationDecision,
    PreparedConfig,
    assign_from_counts,
    imbalance_scores,
    marginal_counts,
    next_assignment,
    simulate_allocation,
)

__all__ = [
    "MEASURES",
    "UNSTRATIFIED",
    "Allocation",
    "AllocationSimulation",
    "Arm",
    "Block",
    "BlockList",
    "Factor",
    "MinimisationConfig",
    "MinimisationDecision",
    "PreparedConfig",
    "StratumList",
    "assign_from_counts",
    "imbalance_scores",
    "marginal_counts",
    "next_allocation",
    "next_assignment",
    "parse_arms",
    "permuted_block_list",
    "simulate_allocation",
    "stratum_label",
]
