"""Trial matching on the database: records built from our tables, levels from our trials,
open status and slots, explanations, incremental updates equal to a full re-match."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from matching_helpers import TODAY, import_report, make_patient, precision_unit

from oncotrials.core.errors import ConflictError, NotFoundError, PermissionDeniedError


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


@pytest.fixture
def unit_p(unit: Any, tmp_path: Any) -> Any:
    return precision_unit(unit, tmp_path)


def _paths(matches: list[Any]) -> set[str]:
    return {m.level_path for m in matches}


def test_kras_g12c_nsclc_matches_the_g12c_cohort_not_the_braf_one(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient

    inv = unit_p.unit.users["investigator"]
    found = matches_for_patient(user=inv, patient=unit_p.kras_patient, today=TODAY)
    assert "G12C" in _paths(found)
    assert "BRAF" not in _paths(found)
    g12c = next(m for m in found if m.level_path == "G12C")
    assert g12c.cohort == unit_p.g12c
    assert g12c.trial == unit_p.trial
    assert g12c.open is True
    assert g12c.slots_available == 1
    rows = {r["criterion"]: r for r in g12c.explanation}
    assert rows["alteration KRAS p.G12C"]["value"] == "met"
    assert rows["alteration KRAS p.G12C"]["evidence"] == ["KRAS p.G12C"]
    # LUAD lies in the NSCLC subtree of the OncoTree
    assert rows["diagnosis Non-Small Cell Lung Cancer (NSCLC)"] == {
        "criterion": "diagnosis Non-Small Cell Lung Cancer (NSCLC)",
        "value": "met",
        "reason": "diagnosis Lung Adenocarcinoma (LUAD)",
        "evidence": [],
        "depth": 1,
    }


def test_braf_v600_wildcard_matches_v600e_in_any_tumour(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient

    inv = unit_p.unit.users["investigator"]
    found = matches_for_patient(user=inv, patient=unit_p.braf_patient, today=TODAY)
    assert _paths(found) == {"BRAF"}


def test_closed_cohort_is_listed_and_flagged_closed(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient

    inv = unit_p.unit.users["investigator"]
    found = {m.level_path: m for m in matches_for_patient(user=inv, patient=unit_p.kras_patient)}
    assert found["HER2"].open is False  # ERBB2 amplification matches, the cohort is closed
    assert found["HER2"].slots_available is None  # no allocation: slots not managed


def test_no_slot_left_is_flagged(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient
    from oncotrials.apps.subjects.services import slot_book

    inv = unit_p.unit.users["investigator"]
    slot_book(patient=unit_p.kras_patient, cohort=unit_p.g12c, by=inv, on=TODAY)
    found = {
        m.level_path: m
        for m in matches_for_patient(user=inv, patient=unit_p.kras_patient, today=TODAY)
    }
    assert found["G12C"].slots_available == 0
    assert found["G12C"].open is True


def test_partner_site_not_participating_is_not_open(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import SYSTEM, matches_for_patient

    found = {
        m.level_path: m for m in matches_for_patient(user=SYSTEM, patient=unit_p.partner_patient)
    }
    assert "G12C" in found
    assert found["G12C"].open is False  # T-MAIN runs at the main site only
    assert found["G12C"].slots_available == 0  # the only allocation is the main site's


def test_untested_patient_is_unknown_not_excluded(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient

    inv = unit_p.unit.users["investigator"]
    assert matches_for_patient(user=inv, patient=unit_p.untested) == []
    every = matches_for_patient(user=inv, patient=unit_p.untested, include_non_matches=True)
    g12c = next(m for m in every if m.level_path == "G12C")
    assert g12c.matched is False
    rows = {r["criterion"]: r for r in g12c.explanation}
    assert rows["alteration KRAS p.G12C"]["value"] == "unknown"
    assert rows["alteration KRAS p.G12C"]["reason"] == "no genomic report"


def test_matches_for_trial_lists_patients_per_level(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_trial

    inv = unit_p.unit.users["investigator"]
    found = matches_for_trial(user=inv, trial=unit_p.trial)
    pairs = {(m.level_path, m.patient.research_id) for m in found}
    assert ("G12C", unit_p.kras_patient.research_id) in pairs
    assert ("BRAF", unit_p.braf_patient.research_id) in pairs
    # the partner patient is not visible to a main-site investigator
    assert all(m.patient.pk != unit_p.partner_patient.pk for m in found)


def test_match_all_counts(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import SYSTEM, match_all

    summary = match_all(user=SYSTEM)
    assert summary.trials == 1
    assert summary.levels == 3
    pairs = {(m.level_path, m.patient.research_id) for m in summary.matches}
    assert pairs == {
        ("G12C", unit_p.kras_patient.research_id),
        ("G12C", unit_p.partner_patient.research_id),
        ("HER2", unit_p.kras_patient.research_id),
        ("BRAF", unit_p.braf_patient.research_id),
    }


# --------------------------------------------------------------------------- access control
def test_outsider_and_monitor_see_no_matching(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import match_all, matches_for_patient, matches_for_trial

    for name in ("outsider", "monitor", "monitor_other"):
        user = unit_p.unit.users[name]
        with pytest.raises(PermissionDeniedError):
            match_all(user=user)
        with pytest.raises(PermissionDeniedError):
            matches_for_trial(user=user, trial=unit_p.trial)
        with pytest.raises(PermissionDeniedError):
            matches_for_patient(user=user, patient=unit_p.kras_patient)


def test_partner_staff_see_their_patients_only(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import match_all, matches_for_patient, matches_for_trial

    partner = unit_p.unit.users["partner_investigator"]
    with pytest.raises(NotFoundError):
        matches_for_patient(user=partner, patient=unit_p.kras_patient)
    # T-MAIN is not run at the partner site: the partner investigator does not see it
    with pytest.raises(NotFoundError):
        matches_for_trial(user=partner, trial=unit_p.trial)
    assert matches_for_patient(user=partner, patient=unit_p.partner_patient) == []
    assert match_all(user=partner).matches == ()


# ----------------------------------------------------------------------- incremental == full
def test_incremental_updates_equal_a_full_rematch(unit_p: Any, tmp_path: Any) -> None:
    from oncotrials.apps.matching.criteria import match_criteria_set
    from oncotrials.apps.matching.engine import build_full_state, matching_state

    first = matching_state(today=TODAY)
    assert not first.incremental
    admin = unit_p.unit.users["admin"]
    # a new report for the untested patient, a new patient, an amended cohort
    import_report(
        tmp_path, unit_p.untested, variants=[{"gene": "KRAS", "protein_change": "p.G12C"}]
    )
    newcomer = make_patient(unit_p.unit.main, unit_p.unit.users["nurse"], diagnosis="COAD")
    import_report(
        tmp_path,
        newcomer,
        variants=[{"gene": "BRAF", "protein_change": "p.V600K"}],
        oncotree="COAD",
    )
    trial = unit_p.trial
    trial.refresh_from_db()
    match_criteria_set(
        trial=trial,
        cohort_id=unit_p.braf.pk,
        criteria={
            "and": [
                {"genomic": {"gene": "BRAF", "wildcard_protein_change": "V600"}},
                {"diagnosis": "COAD"},
            ]
        },
        by=admin,
        reason="amendment 2",
        expected_version=trial.version,
    )
    later = matching_state(today=TODAY)
    assert later.incremental
    assert later.changed_patients == 2
    assert later.changed_trials == 1
    full = build_full_state(today=TODAY)
    assert later.matcher.match_sets() == full.matcher.match_sets()
    sets = later.matcher.match_sets()
    tid = str(trial.pk)
    assert str(newcomer.pk) in sets[(tid, "BRAF")]
    assert str(unit_p.untested.pk) in sets[(tid, "G12C")]


def test_unchanged_data_reuses_the_engine(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matching_state

    first = matching_state(today=TODAY)
    assert matching_state(today=TODAY) is first


def test_inputs_unchanged_reads_the_data_version_once_and_answers_the_same(
    unit_p: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.matching.engine import matches_for_patient, matching_inputs_unchanged

    inv = unit_p.unit.users["investigator"]
    patients = [unit_p.kras_patient, unit_p.braf_patient, unit_p.untested]

    def answers() -> list[Any]:
        return [
            [(m.level_path, m.matched, m.open, m.slots_available) for m in found]
            for found in (matches_for_patient(user=inv, patient=p, today=TODAY) for p in patients)
        ]

    def version_reads(ctx: Any) -> int:  # one of the data version's aggregates
        return sum('FROM "subjects_priortherapyline"' in q["sql"] for q in ctx.captured_queries)

    expected = answers()
    assert expected[0]  # the KRAS patient matches
    assert expected[1]  # the BRAF patient matches
    with CaptureQueriesContext(connection) as each:
        assert answers() == expected
    with CaptureQueriesContext(connection) as pinned, matching_inputs_unchanged():
        assert answers() == expected
    assert version_reads(each) == 3
    assert version_reads(pinned) == 1
    assert len(pinned.captured_queries) < len(each.captured_queries)


def test_matches_of_several_patients_are_each_patients_matches_in_as_many_queries(
    unit_p: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.matching.engine import (
        SYSTEM,
        matches_for_patient,
        matches_for_patients,
        reset_matching_cache,
    )

    users = unit_p.unit.users
    mains = [unit_p.kras_patient, unit_p.braf_patient, unit_p.untested]
    for user, patients in (
        (users["investigator"], mains),
        (SYSTEM, [*mains, unit_p.partner_patient]),
        (users["partner_investigator"], [unit_p.partner_patient]),
    ):
        for every in (False, True):
            found = matches_for_patients(
                user=user, patients=patients, include_non_matches=every, today=TODAY
            )
            assert list(found) == [p.pk for p in patients]
            for p in patients:
                assert found[p.pk] == matches_for_patient(
                    user=user, patient=p, include_non_matches=every, today=TODAY
                )
    assert _paths(found[unit_p.partner_patient.pk]) == set()
    inv = users["investigator"]
    assert _paths(matches_for_patients(user=inv, patients=mains, today=TODAY)[mains[0].pk])
    with pytest.raises(NotFoundError):
        matches_for_patients(
            user=users["partner_investigator"], patients=[unit_p.partner_patient, mains[0]]
        )
    counts = []
    for patients in (mains[:1], mains):
        reset_matching_cache()
        matches_for_patients(user=inv, patients=patients, today=TODAY)  # the engine, built
        with CaptureQueriesContext(connection) as ctx:
            matches_for_patients(user=inv, patients=patients, today=TODAY)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_inputs_unchanged_rebuilds_a_forgotten_engine_and_ends_with_the_block(
    unit_p: Any, tmp_path: Any
) -> None:
    from oncotrials.apps.matching.engine import (
        matching_inputs_unchanged,
        matching_state,
        reset_matching_cache,
    )

    with matching_inputs_unchanged():
        first = matching_state(today=TODAY)
        assert matching_state(today=TODAY) is first
        reset_matching_cache()  # the cached engine is gone: the next call reads and builds
        import_report(
            tmp_path, unit_p.untested, variants=[{"gene": "BRAF", "protein_change": "p.V600E"}]
        )
        again = matching_state(today=TODAY)
        assert again is not first
        assert again.version != first.version
    # Outside the block every call checks the data version again.
    import_report(
        tmp_path,
        unit_p.braf_patient,
        variants=[{"gene": "KRAS", "protein_change": "p.G12C"}],
        oncotree="COAD",
    )
    assert matching_state(today=TODAY).version != again.version


def test_stale_criteria_edit_is_a_conflict_and_saves_nothing(unit_p: Any) -> None:
    from oncotrials.apps.matching.criteria import match_criteria_set

    trial = unit_p.trial
    trial.refresh_from_db()
    with pytest.raises(ConflictError):
        match_criteria_set(
            trial=trial,
            cohort_id=unit_p.g12c.pk,
            criteria={"genomic": {"gene": "KRAS"}},
            by=unit_p.unit.users["admin"],
            reason="late edit",
            expected_version=trial.version - 1,
        )
    unit_p.g12c.refresh_from_db()
    assert unit_p.g12c.match_criteria["and"][1] == {
        "genomic": {"gene": "KRAS", "protein_change": "p.G12C"}
    }


def test_bulk_index_equals_the_index_built_from_records(unit_p: Any, tmp_path: Any) -> None:
    """The full build reads rows in bulk into the engine's columns; the same patients given as
    core records (as incremental updates give them) must match the same levels."""
    from oncotrials.apps.matching.criteria import shipped_oncotree
    from oncotrials.apps.matching.engine import build_full_state
    from oncotrials.core.matching import Matcher

    # more shapes of rows: a fusion, a deletion, biomarkers, a superseded report
    import_report(
        tmp_path,
        unit_p.braf_patient,
        svs=[{"gene1": "EML4", "gene2": "ALK", "exon1": 13, "exon2": 20, "event_info": "Fusion"}],
        cnas=[{"gene": "CDKN2A", "call": "deep_deletion"}],
        biomarkers=[{"kind": "MSI", "status": "MSI-H"}, {"kind": "TMB", "value": 22.0}],
        oncotree="COAD",
    )
    # prior lines recorded at referral: two advanced lines, and an adjuvant-only history
    from oncotrials.apps.subjects.services import prior_line_record

    nurse = unit_p.unit.users["nurse"]
    for line, setting, agents in (
        (1, "adjuvant", "FOLFOX"),
        (2, "metastatic", "FOLFIRI + bevacizumab"),
        (3, "locally_advanced", "panitumumab"),
    ):
        prior_line_record(
            patient=unit_p.braf_patient,
            line=line,
            agents=agents,
            setting=setting,
            started_on=datetime.date(2024 + line // 2, 1 + line, 1),
            by=nurse,
        )
    prior_line_record(
        patient=unit_p.untested,
        line=1,
        agents="cisplatin; vinorelbine",
        setting="adjuvant",
        started_on=datetime.date(2024, 2, 1),
        by=nurse,
    )
    state = build_full_state(today=TODAY)
    trial = unit_p.trial
    trial.refresh_from_db()
    records = state.records_for(list(state.clinical))
    by_records = Matcher(list(state.trials.values()), list(records.values()), shipped_oncotree())
    probe = _probe_trial()
    state.matcher.upsert_trial(probe)
    by_records.upsert_trial(probe)
    assert state.matcher.match_sets() == by_records.match_sets()
    probe_sets = {k[1]: v for k, v in by_records.match_sets().items() if k[0] == "probe"}
    assert probe_sets["alk"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["msi"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["sex"] == {str(unit_p.braf_patient.pk)}
    # ESCAT (Mosele F et al. Ann Oncol 2020;31:1491-1505): BRAF V600E in colorectal cancer is
    # tier I-A, KRAS G12C in NSCLC tier II-B (the tiers the genomics import attaches)
    # fusion exons: the exon of the gene the criterion names, in either orientation
    assert probe_sets["alk_exon20"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["eml4_exon13"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["alk_exon13"] == set()
    assert probe_sets["escat_i"] == {str(unit_p.braf_patient.pk)}
    assert str(unit_p.kras_patient.pk) in probe_sets["escat_iib"]
    braf = records[unit_p.braf_patient.pk]
    assert braf.report is not None
    assert braf.report.msi == "high"
    assert braf.report.tmb == 22.0
    labels = {a.label() for a in braf.report.alterations}
    assert {
        "EML4 (exon 13)-ALK (exon 20) fusion",
        "CDKN2A homozygous_deletion",
        "BRAF p.V600E",
    } <= labels
    assert records[unit_p.untested.pk].report is None
    assert records[unit_p.braf_patient.pk].prior_lines == 2
    assert records[unit_p.untested.pk].prior_lines == 0
    assert records[unit_p.kras_patient.pk].prior_lines is None
    assert probe_sets["two_lines"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["no_advanced_line"] == {str(unit_p.untested.pk)}
    assert probe_sets["bevacizumab"] == {str(unit_p.braf_patient.pk)}
    assert probe_sets["vinorelbine"] == {str(unit_p.untested.pk)}


def _probe_trial() -> Any:
    """A core trial with one level per kind of criterion the database feeds."""
    from oncotrials.core.matching import Level, Trial, parse_criteria

    kinds = {
        "alk": {"genomic": {"gene": "ALK", "category": "sv", "fusion_partner": "EML4"}},
        "alk_exon20": {"genomic": {"gene": "ALK", "category": "sv", "exon": 20}},
        "eml4_exon13": {"genomic": {"gene": "EML4", "fusion_partner": "ALK", "exon": 13}},
        "alk_exon13": {"genomic": {"gene": "ALK", "category": "sv", "exon": 13}},
        "cdkn2a": {"genomic": {"gene": "CDKN2A", "cn_call": "homozygous_deletion"}},
        "msi": {"msi": "high"},
        "tmb": {"tmb": {"gte": 10}},
        "escat_i": {"genomic": {"kb_class": "escat:i"}},
        "escat_iib": {"genomic": {"kb_class": "escat:iib"}},
        "wild": {"genomic": {"gene": "KRAS", "wildcard_protein_change": "G12"}},
        "age": {"age": {"gte": 60}},
        "sex": {"sex": "male"},
        "luad": {"diagnosis": "LUAD"},
        "solid": {"diagnosis": "_SOLID_"},
        "not_kras": {"not": {"genomic": {"gene": "KRAS"}}},
        "two_lines": {"prior_lines": {"gte": 2}},
        "no_advanced_line": {"prior_lines": {"lte": 0}},
        "bevacizumab": {"prior_therapy": "bevacizumab"},
        "vinorelbine": {"prior_therapy": "vinorelbine"},
    }
    levels = tuple(
        Level("probe", "cohort", k, k, True, None, parse_criteria(v)) for k, v in kinds.items()
    )
    return Trial("probe", "probe", True, levels)


def test_open_status_is_read_fresh_not_from_the_cache(unit_p: Any) -> None:
    from oncotrials.apps.matching.engine import matches_for_patient, matching_state
    from oncotrials.apps.trials.models import Cohort

    inv = unit_p.unit.users["investigator"]
    matching_state(today=TODAY)
    # closing one cohort and opening another leaves the count of open cohorts unchanged
    Cohort.objects.filter(pk=unit_p.g12c.pk).update(is_open=False)
    Cohort.objects.filter(pk=unit_p.her2.pk).update(is_open=True)
    found = {m.level_path: m for m in matches_for_patient(user=inv, patient=unit_p.kras_patient)}
    assert found["G12C"].open is False
    assert found["HER2"].open is True


def test_a_rolled_back_report_seen_by_the_cache_does_not_linger(unit_p: Any, tmp_path: Any) -> None:
    """The cache may see a report inside a transaction that is then rolled back; a later report
    can take the same id (SQLite reuses them). Reports are named by content too."""
    from django.db import transaction

    from oncotrials.apps.matching.engine import build_full_state, matching_state

    class Rollback(Exception):
        pass

    def seen_then_rolled_back() -> None:
        with transaction.atomic():
            import_report(
                tmp_path, unit_p.untested, variants=[{"gene": "KRAS", "protein_change": "p.G12C"}]
            )
            sets = matching_state(today=TODAY).matcher.match_sets()
            assert str(unit_p.untested.pk) in sets[(str(unit_p.trial.pk), "G12C")]
            raise Rollback

    with pytest.raises(Rollback):
        seen_then_rolled_back()
    import_report(
        tmp_path, unit_p.untested, variants=[{"gene": "TP53", "protein_change": "p.R175H"}]
    )
    later = matching_state(today=TODAY)
    assert later.matcher.match_sets() == build_full_state(today=TODAY).matcher.match_sets()
    assert str(unit_p.untested.pk) not in later.matcher.match_sets()[(str(unit_p.trial.pk), "G12C")]


def test_germline_variants_match_only_criteria_that_name_germline(
    unit_p: Any, tmp_path: Any
) -> None:
    """A genomic criterion matches somatic and unstated rows; a germline BRCA2 variant only a
    criterion naming germline. Bulk index and records agree; oncogenicity is a class."""
    from oncotrials.apps.matching.criteria import shipped_oncotree
    from oncotrials.apps.matching.engine import build_full_state
    from oncotrials.core.matching import Level, Matcher, Trial, parse_criteria

    carrier = make_patient(unit_p.unit.main, unit_p.unit.users["nurse"], diagnosis="LUAD")
    import_report(
        tmp_path,
        carrier,
        variants=[
            {
                "gene": "BRCA2",
                "variant_class": "Frame_Shift_Del",
                "protein_change": "p.S1982fs",
                "mutation_status": "Germline",
                "oncogenicity": "Oncogenic",
            },
            {"gene": "ATM", "protein_change": "p.R337C", "mutation_status": "Somatic"},
        ],
    )
    kinds = {
        "brca2": {"genomic": {"gene": "BRCA2"}},
        "brca2_germline": {"genomic": {"gene": "BRCA2", "origin": "germline"}},
        "brca2_any": {"genomic": {"gene": "BRCA2", "origin": "any"}},
        "no_brca2": {"not": {"genomic": {"gene": "BRCA2"}}},
        "atm_somatic": {"genomic": {"gene": "ATM", "origin": "somatic"}},
        "atm_germline": {"genomic": {"gene": "ATM", "origin": ["germline"]}},
        "oncogenic": {"genomic": {"kb_class": "oncogenic", "origin": "any"}},
    }
    probe = Trial(
        "probe",
        "probe",
        True,
        tuple(
            Level("probe", "cohort", k, k, True, None, parse_criteria(v)) for k, v in kinds.items()
        ),
    )
    state = build_full_state(today=TODAY)
    records = state.records_for(list(state.clinical))
    by_records = Matcher(list(state.trials.values()), list(records.values()), shipped_oncotree())
    state.matcher.upsert_trial(probe)
    by_records.upsert_trial(probe)
    assert state.matcher.match_sets() == by_records.match_sets()
    sets = {k[1]: v for k, v in by_records.match_sets().items() if k[0] == "probe"}
    me = str(carrier.pk)
    assert me not in sets["brca2"]
    assert me in sets["brca2_germline"]
    assert me in sets["brca2_any"]
    assert me in sets["no_brca2"]
    assert me in sets["atm_somatic"]
    assert me not in sets["atm_germline"]
    assert sets["oncogenic"] == {me}
