"""The CTCAE v5.0 term catalogue: terms, system organ classes, grade texts, MedDRA codes.

The data file ``data/ctcae_v5.csv`` is the NCI CTCAE v5.0 term list (public domain); see
``data/README.md`` for its source. Lookups are by term (case- and space-insensitive) or by MedDRA
code. A grade that CTCAE does not define for a term (``-`` in the NCI document) is reported as
such, never as an empty string.

References
----------
National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) v5.0, 2017.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from oncotrials.core.errors import NotFoundError, ValidationError

CATALOGUE_VERSION = "5.0"
_DATA_FILE = "ctcae_v5.csv"


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def _key(term: str) -> str:
    return _clean(term).casefold()


@dataclass(frozen=True, slots=True)
class CtcaeTerm:
    """One CTCAE term with its grade definitions.

    ``grades`` maps grade 1–5 to the NCI text, or to ``None`` when the grade does not exist
    for this term.
    """

    term: str
    meddra_code: int
    soc: str
    grades: dict[int, str | None]
    definition: str
    navigational_note: str
    version: str = CATALOGUE_VERSION

    @property
    def defined_grades(self) -> tuple[int, ...]:
        return tuple(g for g, text in sorted(self.grades.items()) if text is not None)

    def grade_exists(self, grade: int) -> bool:
        return self.grades.get(grade) is not None

    def grade_definition(self, grade: int) -> str:
        """NCI text of ``grade`` for this term; a clear error when the grade does not exist."""
        if grade not in (1, 2, 3, 4, 5):
            raise ValidationError(f"CTCAE grades run from 1 to 5; got {grade!r} for {self.term!r}.")
        text = self.grades[grade]
        if text is None:
            allowed = ", ".join(str(g) for g in self.defined_grades)
            raise NotFoundError(
                f"Grade {grade} does not exist for CTCAE v{self.version} term {self.term!r}; "
                f"its defined grades are {allowed}.",
                code="grade_does_not_exist",
            )
        return text


class CtcaeCatalogue:
    """Read-only index of the CTCAE term list (by term and by MedDRA code)."""

    def __init__(self, terms: list[CtcaeTerm]) -> None:
        self._by_key = {_key(t.term): t for t in terms}
        self._by_code = {t.meddra_code: t for t in terms}
        self._terms = terms

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[CtcaeTerm]:
        return iter(self._terms)

    @property
    def version(self) -> str:
        return CATALOGUE_VERSION

    def term(self, name: str) -> CtcaeTerm:
        """Look a term up by its CTCAE name (case and spacing ignored)."""
        found = self._by_key.get(_key(name))
        if found is None:
            close = difflib.get_close_matches(_key(name), list(self._by_key), n=3, cutoff=0.6)
            hint = (
                " Did you mean " + " or ".join(repr(self._by_key[c].term) for c in close) + "?"
                if close
                else " Check the spelling against the CTCAE v5.0 term list."
            )
            raise NotFoundError(
                f"Unknown CTCAE v{CATALOGUE_VERSION} term {name!r}.{hint}", code="unknown_term"
            )
        return found

    def by_meddra(self, code: int | str) -> CtcaeTerm:
        """Look a term up by its MedDRA code (as published in CTCAE v5.0)."""
        try:
            number = int(str(code).strip())
        except ValueError:
            raise ValidationError(
                f"A MedDRA code is a number such as 10029366; got {code!r}."
            ) from None
        found = self._by_code.get(number)
        if found is None:
            raise NotFoundError(
                f"No CTCAE v{CATALOGUE_VERSION} term has MedDRA code {number}.",
                code="unknown_term",
            )
        return found

    def has_term(self, name: str) -> bool:
        return _key(name) in self._by_key

    def terms_in_soc(self, soc: str) -> tuple[CtcaeTerm, ...]:
        wanted = _key(soc)
        return tuple(t for t in self._terms if _key(t.soc) == wanted)


def _parse(text: str) -> list[CtcaeTerm]:
    terms: list[CtcaeTerm] = []
    for row in csv.DictReader(io.StringIO(text)):
        grades: dict[int, str | None] = {}
        for g in range(1, 6):
            raw = _clean(row[f"grade_{g}"])
            grades[g] = None if raw in ("", "-") else raw
        definition = _clean(row["definition"])
        terms.append(
            CtcaeTerm(
                term=_clean(row["term"]),
                meddra_code=int(row["meddra_code"]),
                soc=_clean(row["soc"]),
                grades=grades,
                definition="" if definition == "-" else definition,
                navigational_note=_clean(row["navigational_note"]),
            )
        )
    return terms


@functools.cache
def load_catalogue() -> CtcaeCatalogue:
    """The shipped CTCAE v5.0 catalogue (parsed once, then cached)."""
    text = (
        resources.files("oncotrials.core.grading")
        .joinpath("data")
        .joinpath(_DATA_FILE)
        .read_text(encoding="utf-8")
    )
    return CtcaeCatalogue(_parse(text))
