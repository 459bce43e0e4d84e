"""Baseline rules: measurability (Eisenhauer 2009 section 3.1) and target selection (3.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import (
    BaselineLesion,
    LesionKind,
    LesionRole,
    Method,
    evaluate_recist,
    measurability,
    select_targets,
)


def lesion(mm, **kwargs):
    kwargs.setdefault("organ", "liver")
    return BaselineLesion(kwargs.pop("lesion_id", "L1"), diameter_mm=mm, **kwargs)


@pytest.mark.parametrize(
    ("mm", "kwargs", "measurable"),
    [
        # Section 3.1.1: ≥ 10 mm by CT with slice thickness ≤ 5 mm.
        (10, {}, True),
        (Decimal("9.9"), {}, False),
        # "... 2 x the slice thickness" when slices are thicker than 5 mm: 8 mm slices → 16 mm.
        (15, {"slice_thickness_mm": 8}, False),
        (16, {"slice_thickness_mm": 8}, True),
        (10, {"slice_thickness_mm": 5}, True),
        # 10 mm by caliper; 20 mm on chest X-ray.
        (10, {"method": Method.CALIPER}, True),
        (19, {"method": Method.CHEST_XRAY}, False),
        (20, {"method": Method.CHEST_XRAY}, True),
        # Lymph nodes: short axis ≥ 15 mm is measurable, 10 to < 15 mm pathological only.
        (15, {"nodal": True}, True),
        (Decimal("14.9"), {"nodal": True}, False),
        # Section 3.1.2: truly non-measurable kinds, whatever their size.
        (50, {"kind": LesionKind.BLASTIC_BONE}, False),
        (50, {"kind": LesionKind.PLEURAL_EFFUSION}, False),
        (50, {"kind": LesionKind.LYTIC_BONE}, True),
        (50, {"kind": LesionKind.CYSTIC}, True),
        # Section 3.1.3: previously irradiated lesions only after progression there.
        (30, {"kind": LesionKind.PREVIOUSLY_IRRADIATED}, False),
        (
            30,
            {"kind": LesionKind.PREVIOUSLY_IRRADIATED, "progressed_after_local_therapy": True},
            True,
        ),
    ],
)
def test_measurability(mm, kwargs, measurable):
    assert measurability(lesion(mm, **kwargs)).measurable is measurable


def test_paper_example_node_20_by_30_mm_is_measurable_by_its_short_axis():
    # Section 3.1.1 / 4.2: "an abdominal node which is reported as being 20 mm x 30 mm has a short
    # axis of 20 mm and qualifies as a malignant, measurable node".
    assert measurability(lesion(20, nodal=True, organ="abdomen")).measurable


def test_a_node_under_10_mm_at_baseline_is_refused():
    with pytest.raises(ValidationError, match=r"short axis 9\.00 mm .* is normal"):
        measurability(lesion(9, nodal=True))


def test_explicit_selection_caps_targets_at_five(b):
    lesions = [b.target(f"T{i}", 20) for i in range(6)]
    with pytest.raises(ValidationError, match=r"6 target lesions; RECIST 1\.1 allows at most 5"):
        select_targets(tuple(lesions), patient_id="P9")


def test_explicit_selection_caps_two_per_organ_and_nodes_are_one_organ(b):
    nodes = [b.target(f"N{i}", 20, organ=f"station {i}", nodal=True) for i in range(3)]
    with pytest.raises(ValidationError, match=r"3 target lesions in lymph nodes \(N0, N1, N2\)"):
        select_targets(tuple(nodes))


def test_explicit_target_must_be_measurable(b):
    bad = BaselineLesion("N1", "neck", 12, nodal=True, role=LesionRole.TARGET)
    with pytest.raises(ValidationError, match="lesion N1, field role: a target must be measurable"):
        select_targets((bad,), patient_id="P2")


def test_automatic_selection_takes_the_largest_within_the_caps():
    lesions = tuple(
        BaselineLesion(lesion_id, organ, mm, nodal=nodal)
        for lesion_id, organ, mm, nodal in [
            ("L1", "liver", 40, False),
            ("L2", "liver", 35, False),
            ("L3", "liver", 50, False),  # third liver lesion: only the 2 largest are targets
            ("P1", "lung", 12, False),
            ("N1", "mediastinum", 22, True),
            ("N2", "axilla", 18, True),
            ("N3", "groin", 30, True),  # nodes are one organ: N3 and N1 are chosen
            ("S1", "skin", 8, False),  # non-measurable
            ("E1", "pleura", None, False),
        ]
    )
    selection = select_targets(lesions)
    assert [lesion.lesion_id for lesion in selection.targets] == ["L1", "L3", "P1", "N1", "N3"]
    assert {lesion.lesion_id for lesion in selection.non_targets} == {"L2", "N2", "S1", "E1"}
    assert any("L2" in note for note in selection.notes)


def test_mixing_explicit_and_automatic_roles_is_refused(b):
    lesions = (b.target("T1", 20), BaselineLesion("T2", "lung", 20))
    with pytest.raises(ValidationError, match="lesion T2, field role: missing"):
        select_targets(lesions)


def test_automatic_selection_is_used_by_evaluation(b):
    record = b.patient(
        [BaselineLesion("L1", "liver", 40), BaselineLesion("E1", "pleura", None)],
        [b.visit(42, {"L1": 20, "E1": "present"})],
    )
    result = evaluate_recist(record)
    assert result.target_ids == ("L1",)
    assert result.non_target_ids == ("E1",)
    assert result.baseline_sum_mm == Decimal("40.00")
