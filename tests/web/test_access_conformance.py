"""Access conformance: every endpoint, every persona, every object out of the persona's scope.

Like scikit-learn's estimator checks, the cases are generated, not written: the endpoints are
collected from the Django URL conf and from the django-ninja OpenAPI schema, so a new page or API
operation is covered the day it is added. Each path parameter names a kind of object through
``PARAMS`` below; an endpoint with a parameter missing from that table fails
``test_every_path_parameter_is_known`` until the table says what it names.

For each persona (see ``conformance_fixtures.PERSONAS``) and each object of the world:

- out of scope: a read answers 4xx (never 2xx, 3xx or 5xx); a write answers 4xx and changes
  nothing (audit events and the rows of the clinical tables are counted before and after);
- in scope or partly in scope: a read that succeeds shows none of the markers of the objects
  out of scope (another trial's protocol code, another registration's lesions, another site's
  patient, the arm of a blinded randomisation...);
- a read-only persona (sponsor monitor) cannot write even in scope.

List pages, downloads, search and dashboards (endpoints without an object parameter) are read by
every persona and checked for markers the same way; API list filters that name an object
(``?trial_id=``) are tried with every object.

The world is built once per module (``conformance_fixtures.build_world``) in a transaction
rolled back at the end; each case runs in its own savepoint, so a write that wrongly succeeds
cannot leak into the next case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from conformance_fixtures import (
    IN,
    KIND_LABELS,
    OUT,
    PART,
    PERSONAS,
    READ_ONLY,
    REGISTRATIONS,
    TODAY,
    World,
    build_world,
    scope,
)

# --- One table: what each URL parameter names -----------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A parameter that names no object: the fixed value to put in the URL."""

    value: str


# parameter name -> kind of object, or a constant Value, or {path fragment: kind or Value} where
# the same name means different things in different places (first fragment found in the path).
PARAMS: dict[str, str | Value | dict[str, str | Value]] = {
    "trial_id": "trial",
    "cohort_id": "cohort",
    "dose_level_id": "dose_level",
    "patient_id": "patient",
    "report_id": "report",
    "registration_id": "registration",
    "consent_id": "consent",
    "screening_id": "screening",
    "assessment_id": "assessment",
    "ae_id": "ae",
    "lab_id": "lab",
    "administration_id": "administration",
    "query_id": "query",
    "record_id": "ae",  # with record_type below
    "record_type": Value("safety.adverseevent"),
    "case_id": {"/mtb/": "mtb_case", "/toxicity-board/": "board_case", "/dlt": "dlt_case"},
    "meeting_id": {"/mtb/": "mtb_meeting", "/toxicity-board/": "board_meeting"},
    "recommendation_id": "recommendation",
    "referral_id": "referral",
    "token_id": "token",
    "cut_id": "data_cut",
    "fmt": Value("sdtm"),
    "filename": Value("dm.xpt"),
    "specimen_id": "specimen",
    "box_id": "box",
    "shipment_id": "shipment",
    "visit_code": Value("C1D1"),
    "form_name": Value("vital_signs"),
    "plot": {"/operations/": Value("gantt"), "/efficacy/": Value("waterfall")},
    "run_id": "plan_run",
    "booking_id": "booking",
    "action": {"/journey/": Value("register"), "/crfs/queries/": Value("answer")},
    "pdx_model_id": "pdx_model",
    "passage_id": "pdx_passage",
    "arm_id": "pdx_arm",
    "sample": "sample",  # a genomic sample (the segments' filter, the copy-number plot's)
    "site_id": "site",
    "site": "site",  # by its code, see PARAM_ATTRIBUTE
}
# Parameters that name an object by another attribute than its primary key.
PARAM_ATTRIBUTE = {"site": "code"}

# API query parameters that name no object (filters, paging, options). Every query parameter
# of the API is either here or in PARAMS (test_every_query_parameter_is_known): a new one that
# names an object is then tried with every object out of the persona's scope.
QUERY_FILTERS = frozenset(
    {
        "page",
        "page_size",
        "q",
        "status",
        "phase",
        "modality",
        "tumour_type",
        "target",
        "purpose",
        "immune_related",
        "report",  # which ICSR of the adverse event in the path: its SAE report's sequence
        "specimen_type",
        "barcode",  # searched like q: a scan among the specimens one may see
        "origin",
        "loh",
        "kind",
        "gene",
        "alteration",
        "variant_class",
        "tumour",
        "tier",
        "timepoint",
        "include_silent",
        "limit",
        "drug",
        "all_levels",
        "state",
        "date_from",
        "date_to",
        "week",
        "year",
        "denominator",
        "treated_total",
    }
)
# Pages read query parameters that no schema declares: those that name an object, per page.
# Each is given the object that goes with the case (an in-scope read answers 200 with it) and
# is tried with every object out of the persona's scope.
PAGE_QUERIES: dict[str, dict[str, str]] = {
    "/genomics/patients/{patient_id}/segments.svg": {"sample": "sample"},
}
# Required query parameters of the API that name no object: without them every request is
# refused by validation before any access check, which would prove nothing.
API_QUERIES: dict[str, str] = {
    "/api/v1/patients/{patient_id}/identity": "purpose=conformance+check",
    "/api/v1/biobank/specimens/by-barcode": "barcode=BBZ-SA",
    "/api/v1/operations/activity": "year=2027",
    "/api/v1/operations/week-instance": "week=2027-03-01",
}
# GET endpoints that answer no 2xx even to the administrator, and why: any other such endpoint
# fails test_every_read_answers_the_administrator, since its refusals would prove nothing. A
# page that only takes a form post (405 to a read) shows nothing and needs no entry.
NO_READ: dict[str, str] = {}

# URL conf entries that are not the platform's own endpoints (or are covered another way).
EXCLUDED_PREFIXES = (
    "/admin/",  # Django admin: its own permission system (staff flag), tested by Django
    "/api/v1/",  # the API: collected from its OpenAPI schema, with methods (below)
    "/login/",  # authentication pages: no object, no data
    "/logout/",
    "/i18n/",  # language switch
    "/healthz",  # liveness probe: no data
)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Search boxes: the API declares its query parameters; pages do not, so their search
# parameter is listed here. Each is tried with the markers of every out-of-scope patient and trial.
SEARCH_PARAMS = ("q",)
PAGE_SEARCHES = {"/patients/": "q", "/trials/": "q"}
# Writes a sponsor monitor makes although its role is read-only: its own API token, and
# monitoring in its trial (data queries and source-data verification), not data entry.
MONITOR_WRITES = {
    ("POST", "/api/v1/tokens"),  # a personal access token to read through the API
    ("POST", "/api/v1/crfs/queries"),
    ("POST", "/api/v1/crfs/queries/{query_id}/close"),
    ("POST", "/api/v1/crfs/verifications"),
    ("POST", "/crfs/records/{record_type}/{record_id}/queries/"),
    ("POST", "/crfs/records/{record_type}/{record_id}/verify/"),
    ("POST", "/account/session/"),  # "stay signed in"
    ("POST", "/account/tokens/"),  # one's own token, as through the API
    ("POST", "/account/tokens/{token_id}/revoke/"),
    # a data cut of its own trial, to export it (the cut is the audited record of the export)
    ("POST", "/api/v1/exports/cuts"),
    ("POST", "/exports/"),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # template with {name} placeholders
    params: tuple[str, ...]  # path parameters
    query_params: tuple[str, ...] = ()
    api: bool = False
    body: str = ""  # a JSON body valid for the operation's schema (API writes), see example()
    body_params: tuple[str, ...] = ()  # top-level body fields

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _django_endpoints() -> list[Endpoint]:
    from django.urls import URLPattern, URLResolver, get_resolver

    out: list[Endpoint] = []

    def walk(resolver: Any, prefix: str) -> None:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p, route)
                continue
            assert isinstance(p, URLPattern)
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            if path.startswith(EXCLUDED_PREFIXES):
                continue
            names = tuple(re.findall(r"\{(\w+)\}", path))
            # A page's methods are not declared: try a read and a form post on every one.
            out.append(Endpoint("GET", path, names))
            out.append(Endpoint("POST", path, names))

    walk(get_resolver(), "")
    return out


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A minimal value valid for an OpenAPI schema: required fields only, plausible values.

    With a valid body the request reaches the view and its access check (an empty body is
    refused by validation first, which would prove nothing)."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return example(options[0], components) if options else None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example(part, components)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: example(props.get(k, {}), components) for k in schema.get("required", [])}
    if kind == "array":
        n = schema.get("minItems", 0)
        return [example(schema.get("items", {}), components) for _ in range(n)]
    if kind == "string":
        fmt = schema.get("format", "")
        if fmt == "date":
            return "2027-01-15"
        if fmt == "date-time":
            return "2027-01-15T09:00:00Z"
        if fmt == "binary":
            return ""
        choices = re.fullmatch(r"\^\(([\w|-]+)\)\$", schema.get("pattern", ""))
        if choices:  # an enumeration written as a pattern: ^(a|b|c)$
            return choices.group(1).split("|")[0]
        text = "conformance check"
        return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 1), "x")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def _api_endpoints() -> list[Endpoint]:
    import json

    from oncotrials.web.api import api

    out: list[Endpoint] = []
    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            body, body_params = "", ()
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body_schema = content["application/json"]["schema"]
                value = example(body_schema, components)
                body = json.dumps(value)
                resolved = body_schema
                if "$ref" in resolved:
                    resolved = components[resolved["$ref"].rsplit("/", 1)[-1]]
                body_params = tuple(resolved.get("properties", {}))
            out.append(
                Endpoint(
                    method.upper(),
                    path,
                    tuple(p["name"] for p in params if p["in"] == "path"),
                    tuple(p["name"] for p in params if p["in"] == "query"),
                    api=True,
                    body=body,
                    body_params=body_params,
                )
            )
    return out


ENDPOINTS = _django_endpoints() + _api_endpoints()


def meaning(name: str, path: str) -> str | Value | None:
    m = PARAMS.get(name)
    if isinstance(m, dict):
        for fragment, what in m.items():
            if fragment in path:
                return what
        return None
    return m


def object_params(ep: Endpoint) -> list[tuple[str, str]]:
    """(parameter, kind) of the parameters that name objects."""
    out = []
    for name in ep.params:
        m = meaning(name, ep.path)
        if isinstance(m, str):
            out.append((name, m))
    return out


# --- Cases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    persona: str
    kind: str = ""  # the object put in the URL (or in a query filter), "" for none
    label: str = ""
    where: str = "path"  # or "query:<name>", "search:<name>" or "body:<name>"
    expect: str = "body"  # "refused" (4xx, nothing changes) or "body" (no foreign markers)
    path_label: str = ""  # with a query case: the label of the object in the path

    @property
    def id(self) -> str:
        obj = f"-{self.kind}:{self.label}" if self.kind else ""
        via = ""
        if self.where.startswith("query:"):
            via = f"?{self.where[6:]}"
        elif self.where.startswith("search:"):
            via = f"?{self.where[7:]}=..."
        elif self.where.startswith("body:"):
            via = f" {{{self.where[5:]}}}"
        if self.path_label:
            via += f" (path object {self.path_label})"
        return f"{self.endpoint}{via}-{self.persona}{obj}"


def _cases() -> Iterator[Case]:
    for ep in ENDPOINTS:
        if any(meaning(n, ep.path) is None for n in ep.params):
            continue  # reported by test_every_path_parameter_is_known
        objs = object_params(ep)
        write = ep.method in WRITE_METHODS
        for persona in PERSONAS:
            if not objs:
                if not write:
                    yield Case(ep, persona)
                    searches = [q for q in ep.query_params if q in SEARCH_PARAMS]
                    if not ep.api and ep.path in PAGE_SEARCHES:
                        searches.append(PAGE_SEARCHES[ep.path])
                    for q in searches:
                        for kind in ("patient", "trial"):
                            for label in KIND_LABELS[kind]:
                                if scope(persona, kind, label) == OUT:
                                    yield Case(ep, persona, kind, label, f"search:{q}")
                    for q in ep.query_params:
                        kind = meaning(q, ep.path)
                        if isinstance(kind, str):
                            for label in KIND_LABELS[kind]:
                                if scope(persona, kind, label) == OUT:
                                    yield Case(ep, persona, kind, label, f"query:{q}")
                    continue
                body_objs = [
                    (b, k) for b in ep.body_params if isinstance(k := meaning(b, ep.path), str)
                ]
                if body_objs:
                    # A write that names its object in the body (``{"registration_id": ...}``)
                    name, kind = body_objs[0]
                    for label in KIND_LABELS[kind]:
                        s = scope(persona, kind, label)
                        if s == OUT or (
                            persona in READ_ONLY and (ep.method, ep.path) not in MONITOR_WRITES
                        ):
                            yield Case(ep, persona, kind, label, f"body:{name}", "refused")
                elif persona in READ_ONLY and (ep.method, ep.path) not in MONITOR_WRITES:
                    yield Case(ep, persona, expect="refused")
                continue
            _name, kind = objs[0]
            for label in KIND_LABELS[kind]:
                s = scope(persona, kind, label)
                if s == OUT:
                    yield Case(ep, persona, kind, label, expect="refused")
                elif not write:
                    yield Case(ep, persona, kind, label)
                elif persona in READ_ONLY and (ep.method, ep.path) not in MONITOR_WRITES:
                    yield Case(ep, persona, kind, label, expect="refused")
            if write:
                continue
            # A filter that names another object, on an object the persona may see: the
            # answer must not reach the filter's object when it is out of scope.
            seen = [lb for lb in KIND_LABELS[kind] if scope(persona, kind, lb) != OUT]
            filters = list(ep.query_params) + list(
                PAGE_QUERIES.get(ep.path, {}) if not ep.api else ()
            )
            for q in filters:
                q_kind = meaning(q, ep.path) if ep.api else PAGE_QUERIES[ep.path][q]
                if not seen or not isinstance(q_kind, str):
                    continue
                for label in KIND_LABELS[q_kind]:
                    if scope(persona, q_kind, label) == OUT:
                        yield Case(ep, persona, q_kind, label, f"query:{q}", path_label=seen[0])


CASES = list(_cases())


# --- The world, built once -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    mp = pytest.MonkeyPatch()
    mp.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    with django_db_blocker.unblock(), transaction.atomic():
        w = build_world()
        # Sessions are created here, outside the savepoint of each case.
        for persona in [*PERSONAS, "admin"]:
            c = Client()
            c.force_login(w.users[persona], backend="django.contrib.auth.backends.ModelBackend")
            w.clients[persona] = c
        yield w
        transaction.set_rollback(True)
    mp.undo()


def forbidden_markers(w: World, persona: str) -> list[tuple[str, str]]:
    """(marker, whose) of every object out of the persona's scope."""
    out = []
    for (kind, label), texts in w.markers.items():
        if scope(persona, kind, label) == OUT:
            out += [(t, f"{kind}:{label}") for t in texts]
    return out


def leaks(w: World, persona: str, body: str) -> list[str]:
    found = [f"{m!r} ({whose})" for m, whose in forbidden_markers(w, persona) if m in body]
    # A blinded allocation: the assigned arm shown without the other (a list of the trial's
    # arms names both, which tells nothing).
    if w.arm_assigned in body and w.arm_other not in body:
        found.append(f"{w.arm_assigned!r} (blinded arm of registration:RC)")
    return found


STATE_APPS = (
    "accounts",
    "audit",
    "trials",
    "subjects",
    "crfs",
    "safety",
    "tumours",
    "dosing",
    "genomics",
    "mtb",
    "exports",
    "operations",
)


def state() -> dict[str, int]:
    """What a write would change: the audit trail and the rows of every table of the platform
    (one query; updates are caught by the audit trail, which every clinical write extends)."""
    from django.apps import apps
    from django.db import connection

    tables = sorted(
        m._meta.db_table
        for m in apps.get_models()
        if m._meta.app_label in STATE_APPS and m._meta.managed
    )
    q = connection.ops.quote_name
    # Table names from the models' metadata, quoted: nothing comes from outside.
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {q(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


def _value(w: World, name: str, kind: str, label: str) -> str:
    """What goes in the URL for parameter ``name`` naming object (kind, label)."""
    attribute = PARAM_ATTRIBUTE.get(name)
    if attribute is not None:
        return str(getattr(w.objects[(kind, label)], attribute))
    return str(w.pk(kind, label))


def url_for(w: World, case: Case) -> str:
    ep = case.endpoint
    path = ep.path
    in_path = case.path_label or case.label
    for name in ep.params:
        m = meaning(name, path)
        if isinstance(m, Value):
            value = m.value
        else:
            assert m is not None
            kind = m
            if case.path_label:
                label = _any_label(kind, Case(ep, case.persona, kind, case.path_label))
            else:
                label = case.label if kind == case.kind else _any_label(kind, case)
            value = _value(w, name, kind, label)
        path = path.replace("{" + name + "}", value)
    query = [] if ep.api else list(PAGE_QUERIES.get(ep.path, {}).items())
    if ep.api and ep.path in API_QUERIES:
        path += f"?{API_QUERIES[ep.path]}"
    if case.where.startswith("query:"):
        wanted = case.where[6:]
        query = [(q, k) for q, k in query if q != wanted]
        path += f"{'&' if '?' in path else '?'}{wanted}={_value(w, wanted, case.kind, case.label)}"
    for q, kind in query:  # the page's own object parameters, with the case's object
        label = _any_label(kind, Case(ep, case.persona, kind, in_path))
        path += f"{'&' if '?' in path else '?'}{q}={_value(w, q, kind, label)}"
    if case.where.startswith("search:"):
        # A tail of the marker ("BRAVO-202" for "ZQB-BRAVO-202"): the search matches it, and
        # the page echoing the search term does not count as showing the whole marker.
        term = w.markers[(case.kind, case.label)][0][4:]
        path += f"{'&' if '?' in path else '?'}{case.where[7:]}={quote(term)}"
    return path


def _any_label(kind: str, case: Case) -> str:
    """A second object of the request: the one that goes with the case's object."""
    labels = KIND_LABELS[kind]
    if case.label in labels:
        return case.label
    if case.label in REGISTRATIONS:
        patient, trial = REGISTRATIONS[case.label]
        if trial in labels and kind in ("trial", "cohort"):
            return trial
        if patient in labels and kind in ("patient", "report", "sample"):
            return patient
    return labels[0]


def body_for(w: World, case: Case) -> str:
    """The operation's example body, with every field that names an object set to the case's
    object (or, for another kind, to an object of the same label)."""
    import json

    ep = case.endpoint
    if not ep.body:
        return "{}"
    body = json.loads(ep.body)
    if not isinstance(body, dict):
        return ep.body
    for name in ep.body_params:
        m = meaning(name, ep.path)
        if isinstance(m, Value):
            body[name] = m.value
        elif isinstance(m, str) and (name in body or case.where == f"body:{name}"):
            label = case.label if m == case.kind else _any_label(m, case)
            attribute = PARAM_ATTRIBUTE.get(name)
            body[name] = getattr(w.objects[(m, label)], attribute) if attribute else w.pk(m, label)
    return json.dumps(body)


def send(client: Any, case: Case, url: str, body: str) -> Any:
    method, api = case.endpoint.method, case.endpoint.api
    if method == "GET":
        return client.get(url)
    if api:
        return client.generic(method, url, data=body, content_type="application/json")
    if method == "POST":
        return client.post(url, {})
    return client.generic(method, url)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access_conformance(world: World, case: Case) -> None:
    client = world.clients[case.persona]
    url = url_for(world, case)
    ep = case.endpoint
    if case.expect == "refused":
        before = state()
        response = send(client, case, url, body_for(world, case))
        after = state()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        status = response.status_code
        where = scope(case.persona, case.kind, case.label) if case.kind else "no object"
        assert not changed, (
            f"{ep.method} {url} as {case.persona} ({case.kind or 'list'}:{case.label}, {where}) "
            f"answered {status} and changed the row counts {changed}"
        )
        if ep.api or where == OUT:
            refused = 400 <= status < 500 and status != 401  # logged in: 401 is a bug too
            assert refused, (
                f"{ep.method} {url} as {case.persona} answered {status} for "
                f"{case.kind}:{case.label} ({where}); expected 403/404/405"
            )
            if not ep.api and ep.method == "GET":  # the same page asked for by htmx
                partial = client.get(url, HTTP_HX_REQUEST="true").status_code
                assert 400 <= partial < 500, f"GET {url} (htmx) as {case.persona}: {partial}"
            return
        # A read-only persona posting to a page of its own scope: the page may re-render or
        # redirect with an error message, as long as nothing changed (checked above).
        assert status < 500, f"{ep.method} {url} as {case.persona} crashed ({status})"
        if 200 <= status < 300 and not getattr(response, "streaming", False):
            found = leaks(world, case.persona, response.content.decode("utf-8", "replace"))
            assert not found, f"{ep.method} {url} as {case.persona} shows {', '.join(found)}"
        return
    response = send(client, case, url, body_for(world, case))
    status = response.status_code
    assert status < 500, f"{ep.method} {url} as {case.persona} crashed ({status})"
    if 200 <= status < 300 and not getattr(response, "streaming", False):
        body = response.content.decode("utf-8", errors="replace")
        found = leaks(world, case.persona, body)
        assert not found, f"{ep.method} {url} as {case.persona} shows {', '.join(found)}"
    if not ep.api and not case.kind:  # a list page's htmx partial shows no more than the page
        partial = client.get(url, HTTP_HX_REQUEST="true")
        assert partial.status_code < 500, f"GET {url} (htmx) as {case.persona} crashed"
        if 200 <= partial.status_code < 300 and not getattr(partial, "streaming", False):
            found = leaks(world, case.persona, partial.content.decode("utf-8", "replace"))
            assert not found, f"GET {url} (htmx) as {case.persona} shows {', '.join(found)}"


# --- The table covers every endpoint -------------------------------------------------------------


def test_every_path_parameter_is_known() -> None:
    unknown = sorted(
        {
            f"{name!r} in {ep}"
            for ep in ENDPOINTS
            for name in ep.params
            if meaning(name, ep.path) is None
        }
    )
    assert not unknown, (
        "These path parameters are not in PARAMS of tests/web/test_access_conformance.py: "
        + "; ".join(unknown)
        + ". Add each one, mapped to the kind of object it names (and build such objects in "
        "conformance_fixtures.py), or to a Value if it names none."
    )


def test_every_query_parameter_is_known() -> None:
    """A query parameter of the API either names an object (PARAMS: then it is tried with
    every object out of the persona's scope) or is a declared filter that names none."""
    unknown = sorted(
        {
            f"{name!r} in {ep}"
            for ep in ENDPOINTS
            for name in ep.query_params
            if meaning(name, ep.path) is None and name not in QUERY_FILTERS
        }
    )
    assert not unknown, (
        "These query parameters are neither in PARAMS nor in QUERY_FILTERS of "
        "tests/web/test_access_conformance.py: " + "; ".join(unknown) + ". Map a parameter "
        "that names an object to its kind (and build such objects in conformance_fixtures.py); "
        "list one that names none in QUERY_FILTERS."
    )
    assert not QUERY_FILTERS & set(PARAMS), "a query parameter is both a filter and an object"


def test_endpoints_were_collected() -> None:
    paths = {ep.path for ep in ENDPOINTS}
    assert "/api/v1/registrations/{registration_id}/lesions" in paths
    assert "/patients/{patient_id}/" in paths
    assert not any(p.startswith("/admin/") for p in paths)


# --- Figures that no marker reveals --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_dashboard_counts_only_registrations_in_scope(world: World, persona: str) -> None:
    response = world.clients[persona].get("/")
    assert response.status_code == 200
    figures = response.context["inclusions"]
    counted = sum(sum(row) for _label, row in figures["rows"])
    expected = [r for r in REGISTRATIONS if scope(persona, "registration", r) == IN]
    assert counted == len(expected), (
        f"the home dashboard of {persona} counts {counted} inclusions; in scope: {expected}"
    )
    assert figures["on_treatment"] == len(expected)


@pytest.mark.django_db
def test_the_shared_patient_shows_trial_a_to_its_monitor(world: World) -> None:
    """The page the monitor of A may see in part shows A's data (and, by the cases above, not
    B's)."""
    client = world.clients["monitor_a"]
    page = client.get(f"/patients/{world.pk('patient', 'S')}/").content.decode()
    assert "ZQA-ALPHA-101" in page
    lesions = client.get(f"/api/v1/registrations/{world.pk('registration', 'SA')}/lesions")
    assert lesions.status_code == 200
    assert "LZSA1" in lesions.content.decode()


@pytest.mark.django_db
def test_every_marker_is_shown_to_the_administrator(world: World) -> None:
    """The markers are meaningful: each one appears on some page or API answer to a user who
    sees everything (otherwise a leak of that object could not be detected)."""
    client = world.clients["admin"]
    wanted = {m for texts in world.markers.values() for m in texts} | {world.arm_assigned}
    for ep in ENDPOINTS:
        if not wanted:
            break
        if ep.method != "GET" or any(meaning(n, ep.path) is None for n in ep.params):
            continue
        objs = object_params(ep)
        labels = KIND_LABELS[objs[0][1]] if objs else ("",)
        for label in labels:
            case = Case(ep, "admin", objs[0][1] if objs else "", label)
            response = client.get(url_for(world, case))
            if response.status_code == 200 and not getattr(response, "streaming", False):
                body = response.content.decode("utf-8", "replace")
                wanted -= {m for m in wanted if m in body}
    assert not wanted, f"markers shown nowhere, so their leaks would go unnoticed: {wanted}"


@pytest.mark.django_db
def test_every_read_answers_the_administrator(world: World) -> None:
    """A read that answers no 2xx even to the administrator proves nothing by refusing the
    others (a page that needs a query parameter the table does not give, an object the world
    lacks): each GET endpoint must answer 2xx for some object, or be listed in NO_READ."""
    client = world.clients["admin"]
    silent = []
    for ep in ENDPOINTS:
        if ep.method != "GET" or any(meaning(n, ep.path) is None for n in ep.params):
            continue
        if ep.path in NO_READ:
            continue
        objs = object_params(ep)
        labels = KIND_LABELS[objs[0][1]] if objs else ("",)
        statuses = []
        for label in labels:
            case = Case(ep, "admin", objs[0][1] if objs else "", label)
            statuses.append(client.get(url_for(world, case)).status_code)
            if 200 <= statuses[-1] < 300 or (statuses[-1] == 405 and not ep.api):
                break
        else:
            silent.append(f"{ep} answered {sorted(set(statuses))}")
    assert not silent, (
        "These reads answer no 2xx to the administrator, so their refusals are untested: "
        + "; ".join(silent)
        + ". Give their query parameters in PAGE_QUERIES, build the objects they need, or "
        "list them in NO_READ with the reason."
    )


# The patients each persona's atlas per drug evaluates (pairs classified under a therapy the
# persona may see): R's registration is in a blinded arm, so only who may unblind counts it.
ATLAS = {
    "outsider": (),
    "partner_investigator": ("Q",),
    "monitor_a": ("S",),
    "nurse_blinded": ("S",),
    "pv_b_partner": ("Q",),
    "admin": ("Q", "R", "S"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
def test_the_atlas_counts_only_patients_in_scope(world: World, persona: str) -> None:
    """The resistance atlas's figures (patients per mechanism and gene) and lists count the
    patients the persona may see only: no marker reveals a count."""
    atlas = world.clients[persona].get("/api/v1/genomics/resistance-atlas").json()
    expected = {world.objects[("patient", p)].research_id for p in ATLAS[persona]}
    assert atlas["patients_evaluated"] == len(expected), (persona, atlas)
    listed = {p for row in atlas["by_drug"] for p in row["patients"]}
    assert listed == expected, (persona, listed)
    for row in atlas["rows"]:
        named = {
            p
            for r in atlas["by_drug"]
            if (r["mechanism"], r["gene"]) == (row["mechanism"], row["gene"])
            for p in r["patients"]
        }
        assert row["patients"] == len(named), (persona, row)


@pytest.mark.django_db
def test_every_write_needs_the_csrf_token(world: World) -> None:
    """A signed-in session without the CSRF token writes nothing anywhere: every page form and
    every API write answers 403 to the administrator, and no row changes."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["admin"], "django.contrib.auth.backends.ModelBackend")
    before = state()
    accepted = []
    for ep in ENDPOINTS:
        if ep.method not in WRITE_METHODS or any(meaning(n, ep.path) is None for n in ep.params):
            continue
        objs = object_params(ep)
        case = Case(
            ep, "admin", objs[0][1] if objs else "", KIND_LABELS[objs[0][1]][0] if objs else ""
        )
        response = send(client, case, url_for(world, case), body_for(world, case))
        if response.status_code != 403:
            accepted.append(f"{ep} answered {response.status_code}")
    assert not accepted, "Writes without the CSRF token: " + "; ".join(accepted)
    assert state() == before


def test_scope_rules_are_sane() -> None:
    assert scope("monitor_a", "registration", "SA") == IN
    assert scope("monitor_a", "registration", "SB") == OUT
    assert scope("monitor_a", "patient", "S") == PART
    assert scope("monitor_a", "report", "S") == PART
    assert scope("monitor_a", "report", "SB") == OUT
    assert scope("monitor_a", "sample", "SB") == OUT
    assert scope("nurse_blinded", "report", "SB") == IN
    assert scope("partner_investigator", "registration", "QB") == IN
    assert scope("partner_investigator", "registration", "SB") == OUT
    assert scope("nurse_blinded", "registration", "QB") == OUT
    assert scope("outsider", "trial", "A") == OUT
