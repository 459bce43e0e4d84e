"""SDTM BE (Biospecimen Events) in and out: specimen lineage as plain structures.

An SDTM BE dataset (SDTMIG v3.3+, SDTMIG-PGx) records what happened to each specimen of a
subject, one row per event, with the specimen's identifier in BEREFID: a collection
(BECAT "COLLECTION"), aliquoting ("PREPARATION"), culturing ("CULTURE"), shipping... The
parent-child links between specimens belong to the RELSPEC dataset (REFID, PARENT, LEVEL). When
it is not supplied they are read from the identifiers, by the convention the pharmaversesdtm BE
example follows and many labs use:

* ``X-C`` (a suffix after a hyphen) is derived from ``X`` (the culture of aliquot X);
* ``ALIQ1.1.2`` (a dotted number) comes from the specimen whose number drops the last part
  (``SPEC1.1``), whatever its prefix.

:func:`read_be` builds a :class:`BeLineage` (specimens keyed by subject and BEREFID, each with its
events and its parent); :func:`write_be` writes it back as the same CSV, cell for cell, in
(STUDYID, USUBJID, BESEQ) order, quoting as R's ``write.csv`` does (character cells quoted,
numbers and NA bare), so a dataset read and written again is identical.

References
----------
CDISC SDTMIG v3.4, section 6.3.5.x "Biospecimen Events (BE)" and "Related Specimens (RELSPEC)".
pharmaversesdtm (pharmaverse), ``be`` example dataset, Apache-2.0.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oncotrials.core.errors import ValidationError

#: Columns every BE dataset needs.
REQUIRED = ("STUDYID", "DOMAIN", "USUBJID", "BESEQ", "BEREFID", "BETERM")
#: Numeric SDTM variables of BE (written bare, as R writes numbers).
NUMERIC = frozenset({"BESEQ", "VISITNUM", "VISITDY", "BEDY", "BESTDY", "BEENDY", "TAETORD"})
NA = "NA"

#: BECAT values and the lineage kind they make (our specimen lineage: new, aliquot, derived).
KIND_OF_CATEGORY: Mapping[str, str] = {
    "COLLECTION": "new",
    "PREPARATION": "aliquot",
    "CULTURE": "derived",
}

_DOTTED = re.compile(r"^(?P<prefix>[A-Za-z_]*)(?P<number>\d+(?:\.\d+)+)$")


@dataclass(frozen=True, slots=True)
class BeEvent:
    """One BE row. ``values`` holds every column as read (None for NA), in the header order."""

    line: int
    seq: int
    term: str
    category: str | None
    values: tuple[tuple[str, str | None], ...]

    def get(self, column: str) -> str | None:
        return dict(self.values).get(column)


@dataclass(frozen=True, slots=True)
class BeSpecimen:
    """A specimen of one subject (BEREFID), with its events in BESEQ order and its parent."""

    study_id: str
    usubjid: str
    ref_id: str
    parent_ref_id: str | None
    events: tuple[BeEvent, ...]

    @property
    def kind(self) -> str:
        """``new`` for a collected specimen, ``aliquot`` or ``derived`` from its first event."""
        for event in self.events:
            kind = KIND_OF_CATEGORY.get(event.category or "")
            if kind:
                return kind
        return "derived" if self.parent_ref_id else "new"

    @property
    def started(self) -> str | None:
        """The earliest BESTDTC of the specimen's events (ISO 8601 text)."""
        starts = sorted(s for e in self.events if (s := e.get("BESTDTC")))
        return starts[0] if starts else None


@dataclass(frozen=True, slots=True)
class BeLineage:
    """Specimens of a BE dataset keyed by (USUBJID, BEREFID), and the dataset's columns."""

    columns: tuple[str, ...]
    specimens: Mapping[tuple[str, str], BeSpecimen] = field(default_factory=dict)

    def children(self, usubjid: str, ref_id: str) -> list[BeSpecimen]:
        return [
            s
            for (subject, _), s in self.specimens.items()
            if subject == usubjid and s.parent_ref_id == ref_id
        ]

    def roots(self) -> list[BeSpecimen]:
        return [s for s in self.specimens.values() if s.parent_ref_id is None]

    def level(self, usubjid: str, ref_id: str) -> int:
        """RELSPEC LEVEL: 1 for a collected specimen, its parent's level + 1 otherwise."""
        specimen = self.specimens[(usubjid, ref_id)]
        depth = 1
        while specimen.parent_ref_id is not None:
            specimen = self.specimens[(usubjid, specimen.parent_ref_id)]
            depth += 1
        return depth

    def relspec(self) -> list[dict[str, str]]:
        """RELSPEC rows (STUDYID, USUBJID, REFID, PARENT, LEVEL) of the lineage.

        SPEC, the specimen material, is not in BE (it comes from the BS domain), so it is left
        out.
        """
        rows = []
        for (usubjid, ref_id), s in sorted(self.specimens.items()):
            rows.append(
                {
                    "STUDYID": s.study_id,
                    "USUBJID": usubjid,
                    "REFID": ref_id,
                    "PARENT": s.parent_ref_id or "",
                    "LEVEL": str(self.level(usubjid, ref_id)),
                }
            )
        return rows

    def events(self) -> list[BeEvent]:
        return [e for s in self.specimens.values() for e in s.events]


def _parent_by_name(ref_id: str, known: set[str]) -> str | None:
    if "-" in ref_id:
        base = ref_id.rsplit("-", 1)[0]
        if base in known:
            return base
    match = _DOTTED.match(ref_id)
    if match:
        parts = match["number"].split(".")
        wanted = ".".join(parts[:-1])
        candidates = sorted(
            other
            for other in known
            if other != ref_id and (m := _DOTTED.match(other)) is not None and m["number"] == wanted
        )
        if len(candidates) == 1:
            return candidates[0]
    return None


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None  # partial ISO 8601 dates (2025-06) carry no order we can check


def read_be(
    source: str | Path,
    *,
    parents: Mapping[tuple[str, str], str | None] | None = None,
    name: str | None = None,
) -> BeLineage:
    """Read a BE CSV into a lineage; ``parents`` ((USUBJID, REFID) → PARENT) from RELSPEC.

    Refused with the line and column: a missing required column, an empty USUBJID, BEREFID or
    BETERM, a BESEQ that is not an integer or repeats within a subject, a specimen whose parent
    cannot be found, a collected specimen given a parent, and a child that starts before its
    parent was collected.
    """
    if isinstance(source, Path):
        text = source.read_text(encoding="utf-8-sig")
        name = name or source.name
    else:
        text = source
    name = name or "the BE file"
    reader = csv.reader(io.StringIO(text))
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        raise ValidationError(f"{name} is empty; it needs a header line.") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(
            f"{name}: line 1 lacks the column(s) {', '.join(missing)} of an SDTM BE dataset.",
            line=1,
        )
    events: dict[tuple[str, str], list[BeEvent]] = {}
    studies: dict[str, str] = {}
    seqs: dict[tuple[str, int], int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ValidationError(
                f"{name}: line {line} has {len(cells)} cells, the header {len(header)}.",
                line=line,
            )
        values = tuple((c, None if v == NA else v) for c, v in zip(header, cells, strict=True))
        row = dict(values)
        for column in ("STUDYID", "USUBJID", "BEREFID", "BETERM"):
            if not row[column]:
                raise ValidationError(
                    f"{name}: line {line}, column {column} is empty; every event needs it.",
                    line=line,
                    field=column,
                )
        if row["DOMAIN"] != "BE":
            raise ValidationError(
                f"{name}: line {line}, DOMAIN is {row['DOMAIN']!r}; a BE dataset has DOMAIN BE.",
                line=line,
                field="DOMAIN",
            )
        try:
            seq = int(row["BESEQ"] or "")
        except ValueError:
            raise ValidationError(
                f"{name}: line {line}, BESEQ is {row['BESEQ']!r}, not an integer.",
                line=line,
                field="BESEQ",
            ) from None
        usubjid = row["USUBJID"] or ""
        first = seqs.setdefault((usubjid, seq), line)
        if first != line:
            raise ValidationError(
                f"{name}: line {line}, BESEQ {seq} of {usubjid} is already on line {first}; "
                "BESEQ is unique within a subject.",
                line=line,
                field="BESEQ",
            )
        ref_id = row["BEREFID"] or ""
        studies[usubjid] = row["STUDYID"] or ""
        events.setdefault((usubjid, ref_id), []).append(
            BeEvent(
                line=line,
                seq=seq,
                term=row["BETERM"] or "",
                category=row.get("BECAT"),
                values=values,
            )
        )
    if not events:
        raise ValidationError(f"{name} has a header but no event.")

    by_subject: dict[str, set[str]] = {}
    for usubjid, ref_id in events:
        by_subject.setdefault(usubjid, set()).add(ref_id)
    specimens: dict[tuple[str, str], BeSpecimen] = {}
    for key in sorted(events, key=lambda k: min(e.line for e in events[k])):
        usubjid, ref_id = key
        rows = sorted(events[key], key=lambda e: e.seq)
        collected = any(e.category == "COLLECTION" for e in rows)
        if parents is not None and key in parents:
            parent = parents[key]
        elif collected:
            parent = None
        else:
            parent = _parent_by_name(ref_id, by_subject[usubjid])
            if parent is None:
                raise ValidationError(
                    f"{name}: line {rows[0].line}, BEREFID {ref_id} of {usubjid} is not a "
                    "collection and no parent specimen can be found for it; give its PARENT "
                    "(RELSPEC).",
                    line=rows[0].line,
                    field="BEREFID",
                )
        if parent is not None and collected:
            raise ValidationError(
                f"{name}: line {rows[0].line}, {ref_id} of {usubjid} is collected "
                f"(BECAT COLLECTION) yet given the parent {parent}.",
                line=rows[0].line,
                field="BEREFID",
            )
        if parent is not None and parent not in by_subject[usubjid]:
            raise ValidationError(
                f"{name}: line {rows[0].line}, the parent {parent} of {ref_id} has no event "
                f"for {usubjid}.",
                line=rows[0].line,
                field="BEREFID",
            )
        specimens[key] = BeSpecimen(studies[usubjid], usubjid, ref_id, parent, tuple(rows))

    lineage = BeLineage(columns=header, specimens=specimens)
    for (usubjid, ref_id), specimen in specimens.items():
        if specimen.parent_ref_id is None:
            continue
        parent_specimen = specimens[(usubjid, specimen.parent_ref_id)]
        child_start = _parse_time(specimen.started)
        parent_start = _parse_time(parent_specimen.started)
        if child_start and parent_start and child_start < parent_start:
            line = specimen.events[0].line
            raise ValidationError(
                f"{name}: line {line}, {ref_id} starts {specimen.started}, before its parent "
                f"{parent_specimen.ref_id} ({parent_specimen.started}).",
                line=line,
                field="BESTDTC",
            )
        try:
            lineage.level(usubjid, ref_id)
        except (KeyError, RecursionError):  # pragma: no cover - parents checked above
            raise ValidationError(f"{name}: the lineage of {ref_id} is broken.") from None
    _check_cycles(lineage, name)
    return lineage


def _check_cycles(lineage: BeLineage, name: str) -> None:
    for (usubjid, ref_id), specimen in lineage.specimens.items():
        seen = {ref_id}
        current = specimen
        while current.parent_ref_id is not None:
            if current.parent_ref_id in seen:
                raise ValidationError(
                    f"{name}: the parents of {ref_id} ({usubjid}) loop back to {ref_id}.",
                    field="BEREFID",
                )
            seen.add(current.parent_ref_id)
            current = lineage.specimens[(usubjid, current.parent_ref_id)]


def _cell(column: str, value: str | None) -> str:
    if value is None:
        return NA
    if column in NUMERIC:
        return value
    return '"' + value.replace('"', '""') + '"'


def be_rows(lineage: BeLineage) -> list[tuple[tuple[str, str | None], ...]]:
    """Every event of the lineage as its row of (column, value), in (STUDYID, USUBJID, BESEQ)."""
    events = sorted(
        lineage.events(), key=lambda e: (e.get("STUDYID") or "", e.get("USUBJID") or "", e.seq)
    )
    return [e.values for e in events]


def write_be(lineage: BeLineage) -> str:
    """The BE dataset of ``lineage`` as CSV text, quoted as R's ``write.csv`` quotes."""
    lines = [",".join(f'"{c}"' for c in lineage.columns)]
    for values in be_rows(lineage):
        row = dict(values)
        lines.append(",".join(_cell(c, row.get(c)) for c in lineage.columns))
    return "\n".join(lines) + "\n"


def lineage_from_specimens(specimens: Iterable[BeSpecimen], columns: Sequence[str]) -> BeLineage:
    """A lineage from specimens built elsewhere (e.g. the biobank), for :func:`write_be`."""
    return BeLineage(
        columns=tuple(columns), specimens={(s.usubjid, s.ref_id): s for s in specimens}
    )
