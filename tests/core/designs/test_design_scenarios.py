"""Scenario files and the simulation result contract."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from oncotrials.core.designs import BOIN, load_scenarios, simulate
from oncotrials.core.designs.simulate import parse_scenarios
from oncotrials.core.errors import ValidationError

DOCS = Path(__file__).parents[3] / "docs" / "formats"
SCHEMA = json.loads((DOCS / "design-scenarios.schema.json").read_text())
EXAMPLE = DOCS / "design-scenarios.example.yaml"


def test_example_conforms_to_schema_and_loads() -> None:
    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text()), SCHEMA)
    sf = load_scenarios(EXAMPLE)
    assert sf.target == 0.3
    assert sf.seed == 6
    assert sf.scenarios[0].name == "MTD at dose 4 (standard)"
    assert sf.scenarios[0].truth == (0.05, 0.10, 0.20, 0.30, 0.45, 0.60)


def test_json_file_loads(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"scenarios": [{"truth": [0.1, 0.2]}]}))
    sf = load_scenarios(p)
    assert sf.scenarios[0].name == "scenario 1"


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"scenarios": []}, "non-empty list"),
        ({"scenarios": [{"name": "a"}]}, "scenarios[0] must be a mapping with a 'truth'"),
        ({"scenarios": [{"truth": [0.3, 0.1]}]}, "scenarios[0]: truth must be non-decreasing"),
        ({"scenarios": [{"truth": [0.1, 1.5]}]}, "got 1.5"),
        (
            {"scenarios": [{"truth": [0.1, 0.2]}, {"truth": [0.1]}]},
            "scenarios[1]: truth has 1 doses",
        ),
        ({"target": 1.3, "scenarios": [{"truth": [0.1]}]}, "target must lie in (0, 1); got 1.3"),
        ({"seed": -1, "scenarios": [{"truth": [0.1]}]}, "seed"),
        ([1, 2], "top level must be a mapping"),
    ],
)
def test_bad_scenarios_name_the_field(doc: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_scenarios(doc, source="s.yaml")
    assert fragment in exc.value.message
    assert exc.value.message.startswith("s.yaml")


def test_progress_callback_reaches_the_total() -> None:
    calls: list[tuple[int, int]] = []
    simulate(
        BOIN(0.3), [0.1, 0.2, 0.3], n_trials=100, rng=1, progress=lambda d, t: calls.append((d, t))
    )
    assert calls
    assert calls[-1][0] == calls[-1][1]


def test_selection_se_is_binomial() -> None:
    res = BOIN(0.3).simulate([0.05, 0.1, 0.2, 0.3, 0.45, 0.6], n_trials=1000, rng=3)
    p = res.selection
    np.testing.assert_allclose(res.selection_se(), np.sqrt(p * (1 - p) / 1000))


def test_start_dose_is_respected() -> None:
    res = BOIN(0.3).simulate([0.05, 0.1, 0.2, 0.3], n_trials=300, rng=3, start_dose=2)
    assert res.patients[2] >= 3
    assert res.settings["start_dose"] == 2
