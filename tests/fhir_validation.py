"""FHIR.js (npm ``fhir`` 4.12.0, ISC), the offline base-R4 validator that checks cardinality, types
and required bindings, run with node over JSON files.

``make fhir-validator-deps`` installs it into ``.tools/fhir``. Under CI (CI=true) a missing
validator fails the tests that need it; elsewhere they skip and say how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / ".tools" / "fhir"
SCRIPT = Path(__file__).resolve().parent / "fhir_validate.js"
MISSING = (
    "FHIR.js is not installed: `make fhir-validator-deps` installs npm fhir@4.12.0 into .tools/fhir"
)


def require_validator() -> None:
    if (TOOL / "node_modules" / "fhir" / "package.json").exists() and shutil.which("node"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{MISSING}; CI=true, so the FHIR validation tests may not be skipped")
    pytest.skip(MISSING)


def validate(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """File name -> FHIR.js messages (each with ``severity``: error, warning or info)."""
    require_validator()
    done = subprocess.run(
        ["node", str(SCRIPT), str(TOOL), *map(str, paths)],
        capture_output=True,
        check=True,
        text=True,
        timeout=300,
    )
    return {Path(r["file"]).name: r["messages"] for r in json.loads(done.stdout)}


def errors(messages: list[dict[str, Any]]) -> list[str]:
    """The errors, and the properties R4 does not know (FHIR.js reports those as warnings)."""
    return [
        f"{m.get('location')}: {m['message']}"
        for m in messages
        if m.get("severity") == "error" or m.get("message") == "Unexpected property"
    ]
