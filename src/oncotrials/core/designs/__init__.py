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
    EscalationSettings,
    Param,
    check_doses,
    parse_dose_data,
)
from oncotrials.core.designs.boin import BOIN, BOINBoundaries, boin_lambdas
from oncotrials.core.designs.boin12 import (
    BOIN12,
    BOIN12Boundaries,
    BOIN12Simulation,
    EffToxData,
    OBDSelection,
    RDSRow,
    as_efftox_data,
    parse_efftox_outcomes,
)
from oncotrials.core.designs.boin_comb import BOINComb, CombDecision, CombSimulationResult

# The fitting function ``crm`` stays in its module: a package attribute of that name would hide
# the module ``oncotrials.core.designs.crm`` itself.
from oncotrials.core.designs.crm import (
    CRM,
    CRMFit,
    CRMPathway,
    CRMSimulation,
    crm_pathways,
    getprior,
    simulate_crm,
)
from oncotrials.core.designs.ewoc import EWOC, EWOCPosterior
from oncotrials.core.designs.i3plus3 import I3Plus3
from oncotrials.core.designs.interval import DecisionTable, IntervalDesign, MTDSelection
from oncotrials.core.designs.keyboard import MTPI2, Keyboard
from oncotrials.core.designs.phase2 import (
    BasketCohortStatus,
    BasketOperatingCharacteristics,
    PPBoundaries,
    PPDesign,
    PPOperatingCharacteristics,
    SimonDesign,
    SimonResult,
    SingleStageDesign,
    basket_monitoring,
    basket_operating_characteristics,
    oc_two_stage,
    pp_boundaries,
    pp_design_search,
    pp_operating_characteristics,
    predictive_probability,
    simon_two_stage,
    single_stage,
)
from oncotrials.core.designs.registry import (
    DESIGNS,
    LiveDesign,
    design_for_escalation,
    design_names,
    get_design,
    live_designs,
)
from oncotrials.core.designs.simulate import (
    Scenario,
    ScenarioFile,
    SimulationResult,
    load_scenarios,
    simulate,
)
from oncotrials.core.designs.threeplusthree import ExactOC, ThreePlusThree, escalation_probability
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.designs.tite_crm import (
    TITECRM,
    TITECRMFit,
    simulate_tite_crm,
    tite_weights,
    titecrm,
)

__all__ = [
    "BOIN",
    "BOIN12",
    "CRM",
    "DESIGNS",
    "EWOC",
    "MTPI2",
    "TITEBOIN",
    "TITECRM",
    "Action",
    "BOIN12Boundaries",
    "BOIN12Simulation",
    "BOINBoundaries",
    "BOINComb",
    "BasketCohortStatus",
    "BasketOperatingCharacteristics",
    "CRMFit",
    "CRMPathway",
    "CRMSimulation",
    "CombDecision",
    "CombSimulationResult",
    "Decision",
    "DecisionTable",
    "DoseData",
    "EWOCPosterior",
    "EffToxData",
    "EscalationSettings",
    "ExactOC",
    "I3Plus3",
    "IntervalDesign",
    "Keyboard",
    "LiveDesign",
    "MTDSelection",
    "OBDSelection",
    "PPBoundaries",
    "PPDesign",
    "PPOperatingCharacteristics",
    "Param",
    "RDSRow",
    "Scenario",
    "ScenarioFile",
    "SimonDesign",
    "SimonResult",
    "SimulationResult",
    "SingleStageDesign",
    "TITECRMFit",
    "ThreePlusThree",
    "as_efftox_data",
    "basket_monitoring",
    "basket_operating_characteristics",
    "boin_lambdas",
    "check_doses",
    "crm_pathways",
    "design_for_escalation",
    "design_names",
    "escalation_probability",
    "get_design",
    "getprior",
    "live_designs",
    "load_scenarios",
    "oc_two_stage",
    "parse_dose_data",
    "parse_efftox_outcomes",
    "pp_boundaries",
    "pp_design_search",
    "pp_operating_characteristics",
    "predictive_probability",
    "simon_two_stage",
    "simulate",
    "simulate_crm",
    "simulate_tite_crm",
    "single_stage",
    "tite_weights",
    "titecrm",
]
