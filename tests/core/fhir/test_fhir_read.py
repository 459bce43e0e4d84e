"""Reading FHIR resources back: the 179 mCODE examples (every resource read or skipped with its
reason, never a crash), our own bundle round trip, and bad files refused as a whole."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from fhir_study_factory import make_study
from typer.testing import CliRunner

from oncotrials.cli.main import app
from oncotrials.core.errors import ValidationError
from oncotrials.core.fhir import bundle_json
from oncotrials.core.fhir.read import read_resources

MCODE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "exports" / "fhir" / "mcode-4.0.0-examples"
)
runner = CliRunner()


def _mcode() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(MCODE.glob("*.json"))]


def test_the_mcode_examples_are_read_or_skipped_with_a_reason() -> None:
    result = read_resources(_mcode())
    counts = result.counts()
    # 177 single resources, and the two Bundles hold 25 and 40 more
    assert sum(r["read"] + r["skipped"] for r in counts.values()) == 177 + 25 + 40
    assert counts["Patient"] == {"read": 9, "skipped": 0}
    assert counts["Condition"] == {"read": 14, "skipped": 0}
    assert counts["Specimen"] == {"read": 9, "skipped": 0}
    assert counts["Observation"]["read"] == 33
    assert Counter(o.kind for o in result.observations) == {
        "variant": 26,
        "stage_group": 4,
        "ecog": 3,
    }
    assert all(o.reason for o in result.outcomes if o.status == "skipped")
    reasons = {o.reason for o in result.outcomes if o.status == "skipped"}
    assert "oncotrials does not import Procedure resources" in reasons
    bap1 = next(o for o in result.observations if o.values.get("gene") == "BAP1")
    assert bap1.values["hgvsc"] == "NM_004656.4:c.1768C>T"
    assert bap1.values["hgvsp"] == "NP_004647.1:p.(Gln590Ter)"
    assert bap1.values["vaf"] == "0.574"  # 57.4 %
    ecog = next(o for o in result.observations if o.kind == "ecog")
    assert ecog.values == {"ecog": 0}
    primary = [x for x in result.conditions if x.primary_cancer]
    assert primary
    assert all(x.code.code for x in primary)


def test_an_invalid_resource_is_skipped_not_fatal() -> None:
    spec = json.loads((MCODE / "Specimen-human-specimen-lung.json").read_text())
    spec["collection"] = "yesterday"  # not an object
    obs = json.loads((MCODE / "Observation-ecog-performance-status-jenny-m.json").read_text())
    obs["valueInteger"] = 9
    result = read_resources(
        [("spec.json", json.dumps(spec).encode()), ("obs.json", json.dumps(obs).encode())]
    )
    assert [(o.file, o.status) for o in result.outcomes] == [
        ("spec.json", "skipped"),
        ("obs.json", "skipped"),
    ]
    assert result.outcomes[0].reason.startswith("not valid FHIR R4: collection")
    assert result.outcomes[1].reason == "an ECOG performance status needs valueInteger 0 to 5"
    assert result.specimens == []
    assert result.observations == []


def test_our_bundle_reads_back() -> None:
    data = bundle_json(make_study(), created=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    result = read_resources([("bundle.json", data)])
    assert [(p.key, p.sex, p.birth_year) for p in result.patients] == [
        ("ONC-000001", "F", 1961),
        ("ONC-000002", "M", None),
    ]
    (condition,) = result.conditions
    assert (condition.patient, condition.code.code, condition.onset) == (
        "ONC-000001",
        "LUAD",
        "2024-05-03",
    )
    assert [(s.key, s.type.code or s.type.display) for s in result.specimens] == [
        ("BB-1", "TISS"),
        ("BB-1-D1", "DNA"),
    ]
    kinds = {o.kind: o.values for o in result.observations}
    assert kinds["ecog"] == {"ecog": 1}
    assert kinds["stage_group"] == {"stage_group": "Stage IV"}
    assert kinds["variant"] == {
        "gene": "KRAS",
        "hgvsc": "NM_004985.5:c.34G>T",
        "hgvsp": "p.Gly12Cys",
        "source_class": "Somatic",
        "vaf": "0.231",
    }


def test_a_file_that_is_not_fhir_json_refuses_the_whole_import(tmp_path: Path) -> None:
    good = _mcode()[:3]
    with pytest.raises(ValidationError, match=r"broken.json, line 1, column 2: not JSON"):
        read_resources([*good, ("broken.json", b"{oops")])
    with pytest.raises(ValidationError, match="no resourceType"):
        read_resources([("list.json", b"[1, 2]")])
    (tmp_path / "a.json").write_bytes(good[0][1])
    (tmp_path / "b.json").write_bytes(b"{oops")
    out = tmp_path / "records.json"
    refused = runner.invoke(app, ["import", "fhir", str(tmp_path), "--out", str(out)])
    assert refused.exit_code == 1
    assert "b.json, line 1" in refused.stderr
    assert not out.exists()  # nothing written


def test_cli_reports_what_was_read_and_skipped() -> None:
    done = runner.invoke(app, ["import", "fhir", str(MCODE), "--format", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["read"] == {"patients": 9, "conditions": 14, "specimens": 9, "observations": 33}
    assert report["counts"]["Practitioner"] == {"read": 0, "skipped": 10}
    assert all(s["reason"] for s in report["skipped"])
    human = runner.invoke(app, ["import", "fhir", str(MCODE)])
    assert human.exit_code == 0
    assert "nothing was written to the database" in human.stderr


def test_malformed_resources_inside_a_bundle_are_skipped_not_fatal() -> None:
    patient = json.loads(next(p for p in MCODE.glob("Patient-*.json")).read_text())
    patient["identifier"] = "MRN-1"  # a string where R4 has a list of Identifier
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [[1], {"resource": patient}, {"resource": {"resourceType": "Nothing"}}],
    }
    result = read_resources([("b.json", json.dumps(bundle).encode())])
    assert [(o.resource.split("/")[0], o.status) for o in result.outcomes] == [
        ("Patient", "skipped"),
        ("Nothing", "skipped"),
    ]
    assert result.outcomes[0].reason.startswith("not valid FHIR R4: identifier")
    assert result.outcomes[1].reason == "oncotrials does not import Nothing resources"
    assert result.patients == []
