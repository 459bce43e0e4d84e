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

Findings and declaration problems carry English text and, in ``params``, a ``reason`` (which
check or rule) with the values the text names; ``oncotrials.apps.crfs.core_messages`` words them
in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
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
    """One problem of a declaration: stable ``code``, English ``message``; ``params`` holds the
    ``reason`` (which rule is broken) and the values the message names, so that an app can word
    it in the user's language."""

    code: str
    message: str
    params: Mapping[str, str] = dc_field(default_factory=dict, compare=False)


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
    #: the ``reason`` (which check, or which type fault) and the values the message names
    params: Mapping[str, str] = dc_field(default_factory=dict, compare=False)

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


def _problem(code: str, message: str, *, reason: str, **params: str) -> Problem:
    """A declaration problem carrying its reason and values (worded by the app)."""
    return Problem(code, message, {"reason": reason, **params})


def _issue(
    field_name: str, code: str, message: str, *, reason: str, severity: str = "error", **params: str
) -> Issue:
    """An edit-check finding carrying its reason and values (worded by the app)."""
    return Issue(field_name, code, message, severity, {"reason": reason, **params})


def _values(spec: FieldSpec, **params: str) -> dict[str, str]:
    """The values a type or choice fault names: the field's title and what was received."""
    return {"title": spec.title, **params}


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
        kind = type(doc).__name__
        message = f"A form declaration must be an object; got {kind}."
        return [_problem("E103", message, reason="crf_declaration_object", kind=kind)]
    name = doc.get("name")
    where = f"Form {name!r}"
    form = repr(name)
    out: list[Problem] = []
    if not isinstance(name, str) or not NAME_RE.match(name):
        out.append(
            _problem(
                "E103",
                f"{where}: the name must be lower-case letters, digits and '_'.",
                reason="crf_form_name",
                form=form,
            )
        )
    if name in RECORD_FORMS:
        out.append(
            _problem(
                "E103",
                f"{where}: the name is reserved for record forms.",
                reason="crf_form_name_reserved",
                form=form,
            )
        )
    fields = doc.get("fields")
    if not isinstance(fields, list) or not fields:
        message = f"{where}: 'fields' must be a non-empty list."
        return [*out, _problem("E103", message, reason="crf_fields_list", form=form)]
    types: dict[str, str] = {}
    for i, f in enumerate(fields):
        if not isinstance(f, Mapping):
            message = f"{where}: fields[{i}] must be an object."
            out.append(
                _problem("E103", message, reason="crf_field_object", form=form, index=str(i))
            )
            continue
        fname = f.get("name")
        if not isinstance(fname, str) or not NAME_RE.match(fname):
            out.append(
                _problem(
                    "E103",
                    f"{where}: fields[{i}] has an invalid name {fname!r}.",
                    reason="crf_field_name",
                    form=form,
                    index=str(i),
                    name=repr(fname),
                )
            )
            continue
        if fname in types:
            out.append(
                _problem(
                    "E103",
                    f"{where}: field {fname!r} is declared twice.",
                    reason="crf_field_twice",
                    form=form,
                    name=repr(fname),
                )
            )
        ftype = f.get("type")
        if ftype not in FIELD_TYPES:
            out.append(
                _problem(
                    "E101",
                    f"{where}: field {fname!r} has an unknown type {ftype!r}; "
                    f"use one of {', '.join(FIELD_TYPES)}.",
                    reason="crf_field_type",
                    form=form,
                    name=repr(fname),
                    type=repr(ftype),
                    allowed=", ".join(FIELD_TYPES),
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
                _problem(
                    "E103",
                    f"{where}: field {fname!r} has unknown keys {sorted(unknown_keys)}.",
                    reason="crf_field_keys",
                    form=form,
                    name=repr(fname),
                    keys=str(sorted(unknown_keys)),
                )
            )
        bounds = {}
        for key in ("min", "max", "expected_min", "expected_max"):
            if f.get(key) is not None:
                num = _number(f[key])
                if num is None or ftype not in ("integer", "decimal"):
                    out.append(
                        _problem(
                            "E103",
                            f"{where}: field {fname!r}: {key} needs a number on an integer or "
                            f"decimal field; got {f[key]!r}.",
                            reason="crf_field_bound",
                            form=form,
                            name=repr(fname),
                            key=key,
                            value=repr(f[key]),
                        )
                    )
                bounds[key] = num
        for lo, hi in (("min", "max"), ("expected_min", "expected_max")):
            low, high = bounds.get(lo), bounds.get(hi)
            if low is not None and high is not None and low > high:
                out.append(
                    _problem(
                        "E103",
                        f"{where}: field {fname!r}: {lo} is above {hi}.",
                        reason="crf_field_bounds_order",
                        form=form,
                        name=repr(fname),
                        low=lo,
                        high=hi,
                    )
                )
        if ftype == "choice":
            choices = f.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str | int) for c in choices)
            ):
                out.append(
                    _problem(
                        "E103",
                        f"{where}: choice field {fname!r} needs a list of choices.",
                        reason="crf_field_choices",
                        form=form,
                        name=repr(fname),
                    )
                )
    for f in fields:
        if not isinstance(f, Mapping) or f.get("required_if") is None:
            continue
        rule = f["required_if"]
        if not isinstance(rule, Mapping) or set(rule) != {"field", "equals"}:
            out.append(
                _problem(
                    "E103",
                    f"{where}: field {f.get('name')!r}: required_if must be "
                    '{"field": ..., "equals": ...}.',
                    reason="crf_required_if_shape",
                    form=form,
                    name=repr(f.get("name")),
                )
            )
        elif rule["field"] not in types:
            out.append(
                _problem(
                    "E103",
                    f"{where}: field {f.get('name')!r}: required_if names an unknown field "
                    f"{rule['field']!r}.",
                    reason="crf_required_if_field",
                    form=form,
                    name=repr(f.get("name")),
                    other=repr(rule["field"]),
                )
            )
    checks = doc.get("date_checks", [])
    if not isinstance(checks, list):
        message = f"{where}: 'date_checks' must be a list."
        out.append(_problem("E103", message, reason="crf_date_checks_list", form=form))
        checks = []
    for i, c in enumerate(checks):
        if not isinstance(c, Mapping) or not {"earlier", "later"} <= set(c):
            out.append(
                _problem(
                    "E103",
                    f"{where}: date_checks[{i}] needs 'earlier' and 'later'.",
                    reason="crf_date_check_sides",
                    form=form,
                    index=str(i),
                )
            )
            continue
        for side in ("earlier", "later"):
            if types.get(c[side]) != "date":
                out.append(
                    _problem(
                        "E103",
                        f"{where}: date_checks[{i}].{side} names {c[side]!r}, which is not a "
                        "date field of the form.",
                        reason="crf_date_check_field",
                        form=form,
                        index=str(i),
                        side=side,
                        name=repr(c[side]),
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
            out.append(
                _problem(
                    "E103",
                    f"Form {doc.get('name')!r} is declared twice.",
                    reason="crf_form_twice",
                    form=repr(doc.get("name")),
                )
            )
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


def _parse(spec: FieldSpec, value: Any) -> tuple[Any, str, dict[str, str]]:
    """(normalised value, error text, the error's reason and values); the value is JSON-ready
    (decimals as strings)."""
    ok: dict[str, str] = {}
    if spec.type == "text":
        text = str(value).strip() if not isinstance(value, dict | list) else None
        if text is None:
            return value, "expected text", {"reason": "crf_type_text"}
        if len(text) > spec.max_length:
            limit = str(spec.max_length)
            error = f"at most {limit} characters"
            return text, error, {"reason": "crf_type_too_long", "max_length": limit}
        return text, "", ok
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value, "", ok
        low = str(value).strip().lower()
        if low in _TRUE:
            return True, "", ok
        if low in _FALSE:
            return False, "", ok
        return value, "expected yes or no", {"reason": "crf_type_boolean"}
    if spec.type in ("integer", "decimal"):
        if isinstance(value, bool | dict | list):
            return value, "expected a number", {"reason": "crf_type_number"}
        num = _number(str(value).strip().replace(",", "."))
        if num is None:
            return value, "expected a number", {"reason": "crf_type_number"}
        if spec.type == "integer":
            if num != num.to_integral_value():
                return value, "expected a whole number", {"reason": "crf_type_integer"}
            return int(num), "", ok
        # A whole number is stored without its trailing zeros, in plain notation ("500.0" and
        # "5E+2" are "500"; ``normalize()`` alone would give "5E+2"); other decimals as written.
        whole = num == num.to_integral_value()
        return format(num.normalize(), "f") if whole else str(num), "", ok
    if spec.type == "date":
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat(), "", ok
        except ValueError:
            return value, "expected a date as YYYY-MM-DD", {"reason": "crf_type_date"}
    if spec.type == "choice":
        text = str(value).strip()
        if text not in spec.choices:
            allowed = ", ".join(spec.choices)
            return text, f"expected one of {allowed}", {"reason": "crf_choice", "allowed": allowed}
        return text, "", ok
    # unreachable for validated declarations
    return value, f"unknown type {spec.type}", {"reason": "crf_type_unknown", "type": spec.type}


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
        value, error, params = _parse(f, raw)
        clean[f.name] = value
        if error:
            code = "choice" if f.type == "choice" else "type"
            message = f"{f.title}: {error}; got {raw!r}."
            issues.append(
                Issue(f.name, code, message, "error", _values(f, value=repr(raw), **params))
            )
            continue
        valid[f.name] = value
    for f in spec.fields:
        if f.name in clean:
            continue
        if f.required:
            message = f"{f.title} is required."
            issues.append(_issue(f.name, "required", message, reason="crf_required", title=f.title))
        elif f.required_if is not None:
            other, expected = f.required_if
            if other in valid and _same(valid[other], expected):
                other_title = spec.field(other).title  # type: ignore[union-attr]
                shown = {True: "yes", False: "no"}.get(expected, expected)
                issues.append(
                    _issue(
                        f.name,
                        "required_if",
                        f"{f.title} is required when {other_title} is {shown}.",
                        reason={True: "crf_required_if_yes", False: "crf_required_if_no"}.get(
                            expected, "crf_required_if"
                        ),
                        title=f.title,
                        other=other_title,
                        expected=str(shown),
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
                low = str(f.min) if f.min is not None else "−∞"
                high = str(f.max) if f.max is not None else "∞"
                issues.append(
                    _issue(
                        f.name,
                        "range",
                        f"{f.title} must lie between {low} and {high}{unit}; got {value}{unit}.",
                        reason="crf_range",
                        title=f.title,
                        low=low,
                        high=high,
                        unit=unit,
                        value=str(value),
                    )
                )
            elif (f.expected_min is not None and num < f.expected_min) or (
                f.expected_max is not None and num > f.expected_max
            ):
                low = str(f.expected_min) if f.expected_min is not None else "−∞"
                high = str(f.expected_max) if f.expected_max is not None else "∞"
                issues.append(
                    _issue(
                        f.name,
                        "expected_range",
                        f"{f.title} {value}{unit} is outside the expected range "
                        f"{low}–{high}{unit}; please confirm it against the source.",
                        reason="crf_expected_range",
                        severity="warning",
                        title=f.title,
                        low=low,
                        high=high,
                        unit=unit,
                        value=str(value),
                    )
                )
        if f.type == "date" and dt.date.fromisoformat(value) > today:
            issues.append(
                _issue(
                    f.name,
                    "future_date",
                    f"{f.title} cannot be in the future; got {value} (today is "
                    f"{today.isoformat()}).",
                    reason="crf_future_date",
                    title=f.title,
                    value=str(value),
                    today=today.isoformat(),
                )
            )
    for c in spec.date_checks:
        if c.earlier in valid and c.later in valid and valid[c.earlier] > valid[c.later]:
            e, l_ = spec.field(c.earlier), spec.field(c.later)
            # a message of the declaration itself is the trial's own wording, left as written
            issues.append(
                _issue(
                    c.later,
                    "date_order",
                    c.message
                    or f"{l_.title} ({valid[c.later]}) cannot be before "  # type: ignore[union-attr]
                    f"{e.title} ({valid[c.earlier]}).",
                    reason="crf_date_order_declared" if c.message else "crf_date_order",
                    title=l_.title,  # type: ignore[union-attr]
                    value=str(valid[c.later]),
                    earlier=e.title,  # type: ignore[union-attr]
                    earlier_value=str(valid[c.earlier]),
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
