"""Plain data of an ODM export: a study's form declarations and visit schedule (its metadata)
and, per pseudonymised subject, the completed forms with who changed what, when and why.

Times are ISO 8601 strings in UTC; values are the forms' normalised values as text. The data of
a data cut is this model as canonical JSON (:func:`study_to_json`), so the same cut always gives
the same document.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True)
class Audit:
    """The last change of an element: ``user`` (login name), ``at`` (ISO UTC) and the reason."""

    user: str
    at: str
    reason: str = ""


@dataclass(frozen=True)
class Query:
    """A data query on a form (``field`` empty) or on one of its fields."""

    ref: int
    field: str
    text: str
    status: str
    raised_at: str
    raised_by: str = ""


@dataclass(frozen=True)
class Signed:
    """A valid electronic signature of a form: who, when, and its meaning (reviewed...)."""

    ref: int
    user: str
    at: str
    meaning: str


@dataclass(frozen=True)
class Value:
    field: str
    value: str
    audit: Audit | None = None


@dataclass(frozen=True)
class FormRecord:
    """One completed form of one visit."""

    visit: str
    form: str
    values: tuple[Value, ...]
    audit: Audit | None = None
    signature: Signed | None = None
    queries: tuple[Query, ...] = ()


@dataclass(frozen=True)
class Subject:
    """A subject by research identifier only: never a name, a birth date or a hospital number."""

    key: str
    site: str
    forms: tuple[FormRecord, ...] = ()
    signature: Signed | None = None  # the casebook's signature, while it holds


@dataclass(frozen=True)
class Site:
    code: str
    name: str


@dataclass(frozen=True)
class OdmStudy:
    """``declarations`` are form declarations (``oncotrials.core.crf``), ``schedule`` a visit
    schedule document (``oncotrials.core.schedule``) or None; ``effective`` (ISO date) is when
    this metadata took effect at the sites."""

    study_id: str
    title: str
    declarations: tuple[Mapping[str, Any], ...]
    schedule: Mapping[str, Any] | None = None
    sites: tuple[Site, ...] = ()
    subjects: tuple[Subject, ...] = ()
    effective: str = ""
    sponsor: str = ""


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"Cannot store a {type(value).__name__} in an ODM data cut.")


def study_to_json(study: OdmStudy) -> str:
    """The canonical JSON text of the study (sorted keys, no spaces)."""
    return json.dumps(_plain(study), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _audit(d: Any) -> Audit | None:
    return None if d is None else Audit(**d)


def study_from_json(text: str) -> OdmStudy:
    """The study stored by :func:`study_to_json`."""
    try:
        d = json.loads(text)
        return OdmStudy(
            study_id=d["study_id"],
            title=d["title"],
            declarations=tuple(d["declarations"]),
            schedule=d["schedule"],
            sites=tuple(Site(**s) for s in d["sites"]),
            subjects=tuple(
                Subject(
                    key=s["key"],
                    site=s["site"],
                    signature=None if s.get("signature") is None else Signed(**s["signature"]),
                    forms=tuple(
                        FormRecord(
                            visit=f["visit"],
                            form=f["form"],
                            values=tuple(
                                Value(v["field"], v["value"], _audit(v["audit"]))
                                for v in f["values"]
                            ),
                            audit=_audit(f["audit"]),
                            signature=None if f["signature"] is None else Signed(**f["signature"]),
                            queries=tuple(Query(**q) for q in f["queries"]),
                        )
                        for f in s["forms"]
                    ),
                )
                for s in d["subjects"]
            ),
            effective=d["effective"],
            sponsor=d["sponsor"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"The ODM data of this cut cannot be read: {exc!r}.",
            code="odm_cut_unreadable",
            detail=repr(exc),
        ) from None
