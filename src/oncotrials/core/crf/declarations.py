"""Form declarations: what a CRF form contains and which edit checks guard it.

A form is declared as plain data (a Python dict here, or a JSON document stored per trial in
``TrialFormDeclaration``) and parsed into a frozen ``FormSpec``. Declarations are checked at
start-up (``checks.py``) with stable problem codes:

========  =================================================================================
E101      a field has an unknown type (known: text, integer, decimal, date, choice, boolean)
E102      the trial's visit schedule lists a form that is not declared for the trial
E103      a declaration is malformed: bad or duplicate names, a rule naming an unknown field,
          a date check on a field that is not a date, min above max, a choice without choices
========  =================================================================================

A declaration::

    {"name": "vital_signs", "title": "Vital signs",
     "fields": [
        {"name": "assessed_on", "type": "date", "required": true},
        {"name": "systolic_bp", "type": "integer", "unit": "mmHg", "min": 40, "max": 300,
         "expected_min": 80, "expected_max": 200},
        {"name": "metastatic_on", "type": "date", "required_if": {"field": "metastatic",
         "equals": true}}],
     "date_checks": [{"earlier": "diagnosed_on", "later": "metastatic_on"}]}

Edit checks (``run_checks``), each with a stable code:

- ``type``: the value does not parse as the field's type;
- ``choice``: not one of the declared choices;
- ``required``: a required field is empty;
- ``required_if``: empty although another field has the given value;
- ``range``: outside ``min``..``max`` (impossible values);
- ``expected_range``: outside ``expected_min``..``expected_max`` — a *warning*: the form may
  be completed, and an automatic query asks the site to confirm the value;
- ``future_date``: a date after today;
- ``date_order``: the ``earlier`` date falls after the ``later`` one (cross-field).

Errors block completion (a draft may be saved with them shown); warnings raise queries.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

FIELD_TYPES = ("text", "integer", "decimal", "date", "choice", "boolean")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# Forms whose data live in dedicated record tables rather than a FormInstance.
RECORD_FORMS: dict[str, tuple[str, str]] = {
    # name: (title, owning app label)
    "labs": ("Laboratory results", "crfs"),
    "exposure": ("Study drug administration", "crfs"),
    "adverse_events": ("Adverse events", "safety"),
    "recist": ("Tumour assessment (RECIST)", "tumours"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: str = ""
    unit: str = ""
    required: bool = False
    required_if: tuple[str, Any] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    expected_min: Decimal | None = None
    expected_max: Decimal | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 2000
    help: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class DateCheck:
    earlier: str
    later: str
    message: str = ""


@dataclass(frozen=True)
class FormSpec:
    name: str
    title: str
    fields: tuple[FieldSpec, ...] = ()
    date_checks: tuple[DateCheck, ...] = ()
    kind: str = "fields"  # "fields" (a FormInstance) or "records" (labs, exposure, AEs, RECIST)
    owner: str = "crfs"

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Issue:
    """One edit-check finding on one field."""

    field: str
    code: str
    message: str
    severity: str = "error"  # "error" blocks completion; "warning" raises a query

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


class DeclarationError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.code} {p.message}" for p in problems))
        self.problems = problems


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    # Finite and of a sane size: a 10^999999 "integer" must not be expanded.
    if not d.is_finite():
        return None
    return d if d.is_zero() or -30 < d.adjusted() < 15 else None


def declaration_problems(doc: Any) -> list[Problem]:
    """Every problem of one form declaration (empty when it is sound)."""
    if not isinstance(doc, Mapping):
        return [Problem("E103", f"A form declaration must be an object; got {type(doc).__name__}.")]
    name = doc.get("name")
    where = f"Form {name!r}"
    out: list[Problem] = []
    if not isinstance(name, str) or not NAME_RE.match(name):
        out.append(
            Problem("E103", f"{where}: the name must be lower-case letters, digits and '_'.")
        )
    if name in RECORD_FORMS:
        out.append(Problem("E103", f"{where}: the name is reserved for record forms."))
    fields = doc.get("fields")
    if not isinstance(fields, list) or not fields:
        return [*out, Problem("E103", f"{where}: 'fields' must be a non-empty list.")]
    types: dict[str, str] = {}
    for i, f in enumerate(fields):
        if not isinstance(f, Mapping):
            out.append(Problem("E103", f"{where}: fields[{i}] must be an object."))
            continue
        fname = f.get("name")
        if not isinstance(fname, str) or not NAME_RE.match(fname):
            out.append(Problem("E103", f"{where}: fields[{i}] has an invalid name {fname!r}."))
            continue
        if fname in types:
            out.append(Problem("E103", f"{where}: field {fname!r} is declared twice."))
        ftype = f.get("type")
        if ftype not in FIELD_TYPES:
            out.append(
                Problem(
                    "E101",
                    f"{where}: field {fname!r} has an unknown type {ftype!r}; "
                    f"use one of {', '.join(FIELD_TYPES)}.",
                )
            )
        types[fname] = str(ftype)
        unknown_keys = set(f) - {
            "name",
            "type",
            "label",
            "unit",
            "required",
            "required_if",
            "min",
            "max",
            "expected_min",
            "expected_max",
            "choices",
            "max_length",
            "help",
        }
        if unknown_keys:
            out.append(
                Problem(
                    "E103", f"{where}: field {fname!r} has unknown keys {sorted(unknown_keys)}."
                )
            )
        bounds = {}
        for key in ("min", "max", "expected_min", "expected_max"):
            if f.get(key) is not None:
                num = _number(f[key])
                if num is None or ftype not in ("integer", "decimal"):
                    out.append(
                        Problem(
                            "E103",
                            f"{where}: field {fname!r}: {key} needs a number on an integer or "
                            f"decimal field; got {f[key]!r}.",
                        )
                    )
                bounds[key] = num
        for lo, hi in (("min", "max"), ("expected_min", "expected_max")):
            low, high = bounds.get(lo), bounds.get(hi)
            if low is not None and high is not None and low > high:
                out.append(Problem("E103", f"{where}: field {fname!r}: {lo} is above {hi}."))
        if ftype == "choice":
            choices = f.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str | int) for c in choices)
            ):
                out.append(
                    Problem("E103", f"{where}: choice field {fname!r} needs a list of choices.")
                )
    for f in fields:
        if not isinstance(f, Mapping) or f.get("required_if") is None:
            continue
        rule = f["required_if"]
        if not isinstance(rule, Mapping) or set(rule) != {"field", "equals"}:
            out.append(
                Problem(
                    "E103",
                    f"{where}: field {f.get('name')!r}: required_if must be "
                    '{"field": ..., "equals": ...}.',
                )
            )
        elif rule["field"] not in types:
            out.append(
                Problem(
                    "E103",
                    f"{where}: field {f.get('name')!r}: required_if names an unknown field "
                    f"{rule['field']!r}.",
                )
            )
    checks = doc.get("date_checks", [])
    if not isinstance(checks, list):
        out.append(Problem("E103", f"{where}: 'date_checks' must be a list."))
        checks = []
    for i, c in enumerate(checks):
        if not isinstance(c, Mapping) or not {"earlier", "later"} <= set(c):
            out.append(Problem("E103", f"{where}: date_checks[{i}] needs 'earlier' and 'later'."))
            continue
        for side in ("earlier", "later"):
            if types.get(c[side]) != "date":
                out.append(
                    Problem(
                        "E103",
                        f"{where}: date_checks[{i}].{side} names {c[side]!r}, which is not a "
                        "date field of the form.",
                    )
                )
    return out


def form_spec_from_dict(doc: Mapping[str, Any]) -> FormSpec:
    """Parse a declaration; DeclarationError lists every problem."""
    problems = declaration_problems(doc)
    if problems:
        raise DeclarationError(problems)
    fields = []
    for f in doc["fields"]:
        rule = f.get("required_if")
        fields.append(
            FieldSpec(
                name=f["name"],
                type=f["type"],
                label=str(f.get("label", "")),
                unit=str(f.get("unit", "")),
                required=bool(f.get("required", False)),
                required_if=(rule["field"], rule["equals"]) if rule else None,
                min=_number(f.get("min")),
                max=_number(f.get("max")),
                expected_min=_number(f.get("expected_min")),
                expected_max=_number(f.get("expected_max")),
                choices=tuple(str(c) for c in f.get("choices", ())),
                max_length=int(f.get("max_length", 2000)),
                help=str(f.get("help", "")),
            )
        )
    return FormSpec(
        name=doc["name"],
        title=str(doc.get("title") or doc["name"].replace("_", " ").capitalize()),
        fields=tuple(fields),
        date_checks=tuple(
            DateCheck(c["earlier"], c["later"], str(c.get("message", "")))
            for c in doc.get("date_checks", [])
        ),
    )


# ----------------------------------------------------------------------------- the library

STANDARD_DECLARATIONS: list[dict[str, Any]] = [
    {
        "name": "demographics",
        "title": "Demographics",
        "fields": [
            {"name": "assessed_on", "type": "date", "required": True},
            {
                "name": "ethnicity",
                "type": "choice",
                "choices": ["hispanic_or_latino", "not_hispanic_or_latino", "not_reported"],
                "required": True,
            },
            {"name": "weight_kg", "type": "decimal", "unit": "kg", "min": 20, "max": 300},
            {"name": "height_cm", "type": "decimal", "unit": "cm", "min": 100, "max": 230},
        ],
    },
    {
        "name": "medical_history",
        "title": "Medical history and disease",
        "fields": [
            {"name": "diagnosed_on", "type": "date", "required": True},
            {"name": "stage", "type": "choice", "choices": ["I", "II", "III", "IV"]},
            {"name": "prior_lines", "type": "integer", "min": 0, "max": 20, "expected_max": 8},
            {"name": "metastatic", "type": "boolean", "required": True},
            {
                "name": "metastatic_on",
                "type": "date",
                "required_if": {"field": "metastatic", "equals": True},
            },
        ],
        "date_checks": [
            {
                "earlier": "diagnosed_on",
                "later": "metastatic_on",
                "message": "Metastatic disease cannot predate the diagnosis.",
            }
        ],
    },
    {
        "name": "eligibility",
        "title": "Eligibility",
        "fields": [
            {"name": "assessed_on", "type": "date", "required": True},
            {"name": "all_criteria_met", "type": "boolean", "required": True},
            {
                "name": "exception_detail",
                "type": "text",
                "required_if": {"field": "all_criteria_met", "equals": False},
            },
        ],
    },
    {
        "name": "vital_signs",
        "title": "Vital signs",
        "fields": [
            {"name": "assessed_on", "type": "date", "required": True},
            {"name": "weight_kg", "type": "decimal", "unit": "kg", "min": 20, "max": 300},
            {
                "name": "systolic_bp",
                "type": "integer",
                "unit": "mmHg",
                "min": 40,
                "max": 300,
                "expected_min": 80,
                "expected_max": 200,
            },
            {
                "name": "diastolic_bp",
                "type": "integer",
                "unit": "mmHg",
                "min": 20,
                "max": 200,
                "expected_min": 40,
                "expected_max": 120,
            },
            {
                "name": "heart_rate",
                "type": "integer",
                "unit": "beats/min",
                "min": 20,
                "max": 250,
                "expected_min": 40,
                "expected_max": 140,
            },
            {
                "name": "temperature",
                "type": "decimal",
                "unit": "°C",
                "min": 30,
                "max": 44,
                "expected_max": 39,
            },
        ],
    },
    {
        "name": "ecog",
        "title": "ECOG performance status",
        "fields": [
            {"name": "assessed_on", "type": "date", "required": True},
            {
                "name": "performance_status",
                "type": "choice",
                "choices": ["0", "1", "2", "3", "4"],
                "required": True,
            },
        ],
    },
    {
        "name": "end_of_treatment",
        "title": "End of treatment",
        "fields": [
            {"name": "last_dose_on", "type": "date", "required": True},
            {"name": "decided_on", "type": "date", "required": True},
            {
                "name": "reason",
                "type": "choice",
                "choices": [
                    "progression",
                    "toxicity",
                    "withdrawal",
                    "death",
                    "investigator",
                    "other",
                ],
                "required": True,
            },
            {
                "name": "reason_detail",
                "type": "text",
                "required_if": {"field": "reason", "equals": "other"},
            },
        ],
        "date_checks": [{"earlier": "last_dose_on", "later": "decided_on"}],
    },
    {
        "name": "survival_status",
        "title": "Survival status",
        "fields": [
            {"name": "contact_on", "type": "date", "required": True},
            {
                "name": "status",
                "type": "choice",
                "choices": ["alive", "dead", "lost"],
                "required": True,
            },
            {
                "name": "died_on",
                "type": "date",
                "required_if": {"field": "status", "equals": "dead"},
            },
        ],
        "date_checks": [{"earlier": "died_on", "later": "contact_on"}],
    },
    {
        "name": "subsequent_therapy",
        "title": "Subsequent anticancer therapy",
        "fields": [
            {"name": "any_therapy", "type": "boolean", "required": True},
            {
                "name": "regimen",
                "type": "text",
                "required_if": {"field": "any_therapy", "equals": True},
            },
            {
                "name": "started_on",
                "type": "date",
                "required_if": {"field": "any_therapy", "equals": True},
            },
        ],
    },
]


def standard_problems() -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for doc in STANDARD_DECLARATIONS:
        out.extend(declaration_problems(doc))
        if doc.get("name") in seen:
            out.append(Problem("E103", f"Form {doc.get('name')!r} is declared twice."))
        seen.add(str(doc.get("name")))
    return out


def _standard() -> dict[str, FormSpec]:
    specs = {}
    for doc in STANDARD_DECLARATIONS:
        if not declaration_problems(doc):  # broken ones are reported by the start-up check
            specs[doc["name"]] = form_spec_from_dict(doc)
    for name, (title, owner) in RECORD_FORMS.items():
        specs[name] = FormSpec(name=name, title=title, kind="records", owner=owner)
    return specs


STANDARD_FORMS: dict[str, FormSpec] = _standard()


# ----------------------------------------------------------------------------- edit checks

_TRUE = {"true", "yes", "1", "on", "y"}
_FALSE = {"false", "no", "0", "off", "n"}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(spec: FieldSpec, value: Any) -> tuple[Any, str]:
    """(normalised value, error text); the value is JSON-ready (decimals as strings)."""
    if spec.type == "text":
        text = str(value).strip() if not isinstance(value, dict | list) else None
        if text is None:
            return value, "expected text"
        if len(text) > spec.max_length:
            return text, f"at most {spec.max_length} characters"
        return text, ""
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value, ""
        low = str(value).strip().lower()
        if low in _TRUE:
            return True, ""
        if low in _FALSE:
            return False, ""
        return value, "expected yes or no"
    if spec.type in ("integer", "decimal"):
        if isinstance(value, bool | dict | list):
            return value, "expected a number"
        num = _number(str(value).strip().replace(",", "."))
        if num is None:
            return value, "expected a number"
        if spec.type == "integer":
            if num != num.to_integral_value():
                return value, "expected a whole number"
            return int(num), ""
        return str(num.normalize()) if num == num.to_integral_value() else str(num), ""
    if spec.type == "date":
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat(), ""
        except ValueError:
            return value, "expected a date as YYYY-MM-DD"
    if spec.type == "choice":
        text = str(value).strip()
        if text not in spec.choices:
            return text, f"expected one of {', '.join(spec.choices)}"
        return text, ""
    return value, f"unknown type {spec.type}"  # unreachable for validated declarations


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, bool):
        return a is b
    return str(a) == str(b)


def run_checks(
    spec: FormSpec, data: Mapping[str, Any], *, today: dt.date
) -> tuple[dict[str, Any], list[Issue]]:
    """Normalise ``data`` and run every edit check; unknown field names raise KeyError."""
    unknown = sorted(set(data) - set(spec.field_names))
    if unknown:
        raise KeyError(", ".join(unknown))
    clean: dict[str, Any] = {}
    issues: list[Issue] = []
    valid: dict[str, Any] = {}
    for f in spec.fields:
        raw = data.get(f.name)
        if _empty(raw):
            continue
        value, error = _parse(f, raw)
        clean[f.name] = value
        if error:
            code = "choice" if f.type == "choice" else "type"
            issues.append(Issue(f.name, code, f"{f.title}: {error}; got {raw!r}."))
            continue
        valid[f.name] = value
    for f in spec.fields:
        if f.name in clean:
            continue
        if f.required:
            issues.append(Issue(f.name, "required", f"{f.title} is required."))
        elif f.required_if is not None:
            other, expected = f.required_if
            if other in valid and _same(valid[other], expected):
                other_title = spec.field(other).title  # type: ignore[union-attr]
                shown = {True: "yes", False: "no"}.get(expected, expected)
                issues.append(
                    Issue(
                        f.name,
                        "required_if",
                        f"{f.title} is required when {other_title} is {shown}.",
                    )
                )
    for f in spec.fields:
        if f.name not in valid:
            continue
        value = valid[f.name]
        if f.type in ("integer", "decimal"):
            num = Decimal(str(value))
            unit = f" {f.unit}" if f.unit else ""
            if (f.min is not None and num < f.min) or (f.max is not None and num > f.max):
                issues.append(
                    Issue(
                        f.name,
                        "range",
                        f"{f.title} must lie between {f.min if f.min is not None else '−∞'} and "
                        f"{f.max if f.max is not None else '∞'}{unit}; got {value}{unit}.",
                    )
                )
            elif (f.expected_min is not None and num < f.expected_min) or (
                f.expected_max is not None and num > f.expected_max
            ):
                issues.append(
                    Issue(
                        f.name,
                        "expected_range",
                        f"{f.title} {value}{unit} is outside the expected range "
                        f"{f.expected_min if f.expected_min is not None else '−∞'}–"
                        f"{f.expected_max if f.expected_max is not None else '∞'}{unit}; "
                        "please confirm it against the source.",
                        severity="warning",
                    )
                )
        if f.type == "date" and dt.date.fromisoformat(value) > today:
            issues.append(
                Issue(
                    f.name,
                    "future_date",
                    f"{f.title} cannot be in the future; got {value} (today is "
                    f"{today.isoformat()}).",
                )
            )
    for c in spec.date_checks:
        if c.earlier in valid and c.later in valid and valid[c.earlier] > valid[c.later]:
            e, l_ = spec.field(c.earlier), spec.field(c.later)
            issues.append(
                Issue(
                    c.later,
                    "date_order",
                    c.message
                    or f"{l_.title} ({valid[c.later]}) cannot be before "  # type: ignore[union-attr]
                    f"{e.title} ({valid[c.earlier]}).",
                )
            )
    return clean, issues


def errors_of(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


__all__ = [
    "FIELD_TYPES",
    "RECORD_FORMS",
    "STANDARD_DECLARATIONS",
    "STANDARD_FORMS",
    "DateCheck",
    "DeclarationError",
    "FieldSpec",
    "FormSpec",
    "Issue",
    "Problem",
    "declaration_problems",
    "errors_of",
    "form_spec_from_dict",
    "run_checks",
    "standard_problems",
]
