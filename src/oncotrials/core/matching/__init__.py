"""Patient-to-trial matching: a criteria language, CTML import and a compiled engine.

>>> from oncotrials.core.matching import Matcher, parse_criteria, load_trials  # doctest: +SKIP

See ``docs/formats/criteria.md`` for the criteria language, the trial and patient file formats,
the exact semantics (three-valued logic, exclusions, patients without a report) and the CTML
import rules.
"""

from __future__ import annotations

from oncotrials.core.matching.criteria import (
    And,
    Category,
    Genomic,
    Leaf,
    Node,
    Not,
    Numeric,
    Or,
    Range,
    Truth,
    describe,
    parse_criteria,
    to_dict,
)
from oncotrials.core.matching.ctml import trial_from_ctml, trials_from_ctml
from oncotrials.core.matching.engine import LevelMatches, Matcher, Plan
from oncotrials.core.matching.index import PatientIndex
from oncotrials.core.matching.oncotree import LIQUID, SOLID, OncoTreeLike, OncoTreeMap
from oncotrials.core.matching.records import (
    Alteration,
    GenomicReport,
    Patient,
    patient_from_dict,
    patients_from_data,
)
from oncotrials.core.matching.reference import Explanation, evaluate, explain, first_failure
from oncotrials.core.matching.trials import (
    Level,
    Trial,
    load_trial,
    load_trials,
    trial_from_dict,
)

__all__ = [
    "LIQUID",
    "SOLID",
    "Alteration",
    "And",
    "Category",
    "Explanation",
    "Genomic",
    "GenomicReport",
    "Leaf",
    "Level",
    "LevelMatches",
    "Matcher",
    "Node",
    "Not",
    "Numeric",
    "OncoTreeLike",
    "OncoTreeMap",
    "Or",
    "Patient",
    "PatientIndex",
    "Plan",
    "Range",
    "Trial",
    "Truth",
    "describe",
    "evaluate",
    "explain",
    "first_failure",
    "load_trial",
    "load_trials",
    "parse_criteria",
    "patient_from_dict",
    "patients_from_data",
    "to_dict",
    "trial_from_ctml",
    "trial_from_dict",
    "trials_from_ctml",
]
