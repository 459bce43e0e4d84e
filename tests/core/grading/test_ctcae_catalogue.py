"""The shipped CTCAE v5.0 term catalogue (NCI CTCAE v5.0 term list, data/ctcae_v5.csv)."""

from __future__ import annotations

import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.catalogue import load_catalogue
from oncotrials.core.grading.ctcae import ANALYTES


def test_catalogue_has_every_v5_term():
    # CTCAE v5.0 lists 837 terms (reference-data README; NCI CTCAE v5.0 Excel)
    catalogue = load_catalogue()
    assert len(catalogue) == 837
    assert catalogue.version == "5.0"


@pytest.mark.parametrize(
    ("term", "code", "soc"),
    [
        # MedDRA codes as published in CTCAE v5.0 (reference-data README "Known facts")
        ("Neutrophil count decreased", 10029366, "Investigations"),
        ("Platelet count decreased", 10035528, "Investigations"),
        ("Alanine aminotransferase increased", 10001551, "Investigations"),
        ("Cytokine release syndrome", 10052015, "Immune system disorders"),
        ("Febrile neutropenia", 10016288, "Blood and lymphatic system disorders"),
    ],
)
def test_lookup_by_term_and_by_meddra_code(term, code, soc):
    catalogue = load_catalogue()
    by_term = catalogue.term(term)
    assert by_term.meddra_code == code
    assert by_term.soc == soc
    assert catalogue.by_meddra(code) is by_term
    assert catalogue.by_meddra(str(code)) is by_term


def test_term_lookup_ignores_case_and_spacing():
    assert load_catalogue().term("  febrile   NEUTROPENIA ").term == "Febrile neutropenia"


def test_grade_definitions_are_the_nci_text():
    fn = load_catalogue().term("Febrile neutropenia")
    # CTCAE v5.0 Febrile neutropenia grade 3
    assert fn.grade_definition(3).startswith("ANC <1000/mm3 with a single temperature of >38.3")
    assert fn.defined_grades == (3, 4, 5)


def test_grade_that_does_not_exist_is_a_clear_error():
    # CTCAE v5.0 Neutrophil count decreased: grade 5 is "-"
    neut = load_catalogue().term("Neutrophil count decreased")
    assert not neut.grade_exists(5)
    with pytest.raises(NotFoundError, match="Grade 5 does not exist") as info:
        neut.grade_definition(5)
    assert info.value.code == "grade_does_not_exist"
    with pytest.raises(ValidationError, match="from 1 to 5"):
        neut.grade_definition(6)


def test_unknown_term_suggests_close_names():
    with pytest.raises(NotFoundError, match="Did you mean 'Neutrophil count decreased'") as info:
        load_catalogue().term("Neutrophil count decrease")
    assert info.value.code == "unknown_term"


def test_unknown_meddra_code_and_bad_code():
    with pytest.raises(NotFoundError, match=r"No CTCAE v5\.0 term has MedDRA code 1"):
        load_catalogue().by_meddra(1)
    with pytest.raises(ValidationError, match="MedDRA code is a number"):
        load_catalogue().by_meddra("ANC")


def test_every_v5_lab_criterion_names_a_catalogue_term_and_only_existing_grades():
    # e.g. Hypermagnesemia grade 2 is "-" in CTCAE v5.0: no lab band may produce it
    catalogue = load_catalogue()
    for analyte in ANALYTES.values():
        for criteria in analyte.criteria["5.0"]:
            term = catalogue.term(criteria.term)
            for band in criteria.bands:
                assert term.grade_exists(band.grade), (criteria.term, band.grade)


def test_terms_by_system_organ_class():
    blood = load_catalogue().terms_in_soc("Blood and lymphatic system disorders")
    assert "Anemia" in {t.term for t in blood}
