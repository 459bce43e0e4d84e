"""Dose-finding designs: rule-based and model-assisted, with live decisions and fast simulation.

>>> from oncotrials.core.designs import BOIN
>>> BOIN(target=0.3).decide([(3, 0), (3, 1), (0, 0)], current=1).action.value
'stay'
"""

from __future__ import annotations

from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    check_doses,
    parse_dose_data,
)
from oncotrials.core.designs.boin import BOIN, BOINBoundaries, boin_lambdas
from oncotrials.core.designs.boin_comb import BOINComb, CombDecision, CombSimulationResult
from oncotrials.core.designs.i3plus3 import I3Plus3
from oncotrials.core.designs.interval import DecisionTable, IntervalDesign, MTDSelection
from oncotrials.core.designs.keyboard import MTPI2, Keyboard
from oncotrials.core.designs.simulate import (
    Scenario,
    ScenarioFile,
    SimulationResult,
    load_scenarios,
    simulate,
)
from oncotrials.core.designs.threeplusthree import ExactOC, ThreePlusThree, escalation_probability
from oncotrials.core.designs.tite_boin import TITEBOIN

__all__ = [
    "BOIN",
    "MTPI2",
    "TITEBOIN",
    "Action",
    "BOINBoundaries",
    "BOINComb",
    "CombDecision",
    "CombSimulationResult",
    "Decision",
    "DecisionTable",
    "DoseData",
    "ExactOC",
    "I3Plus3",
    "IntervalDesign",
    "Keyboard",
    "MTDSelection",
    "Scenario",
    "ScenarioFile",
    "SimulationResult",
    "ThreePlusThree",
    "boin_lambdas",
    "check_doses",
    "escalation_probability",
    "load_scenarios",
    "parse_dose_data",
    "simulate",
]
