"""Small helpers shared by the apps' page views."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render

from oncotrials.core.errors import NotFoundError, PermissionDeniedError

View = Callable[..., HttpResponseBase]


def visible_or_404(view: View) -> View:
    """Turn NotFoundError into 404 and PermissionDeniedError into 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFoundError:
            raise Http404("Not found.") from None
        except PermissionDeniedError as exc:
            return HttpResponseForbidden(exc.message)

    return wrapped


def int_or_none(value: str | None) -> int | None:
    """A query-string integer, or None when absent or not a number."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# ------------------------------------------------------------------------------ list pages

# Rows a list page shows; the rest are a page away (the CSV export has them all).
LIST_PAGE_SIZE = 50


def list_page(request: HttpRequest, rows: Any) -> tuple[Page[Any], str]:
    """The page of ``rows`` (an ordered queryset or a list) that ``?page=`` asks for (the first
    when absent or not a number, the last when beyond), and the query string without the page
    number, for ``lists/pager.html``'s links."""
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# ------------------------------------------------------------------------------ CSV export

# A cell a spreadsheet would read as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: HttpRequest) -> bool:
    """The list is asked for as CSV (``?format=csv``)."""
    return request.GET.get("format") == "csv"


def csv_cell(value: Any) -> str | int | float | Decimal:
    """One cell: dates in ISO form, booleans as yes/no, None empty; a text that a spreadsheet
    would take for a formula is prefixed with a quote. Numbers stay numbers (a negative number
    is no formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for a streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Stream ``rows`` (an iterable, consumed lazily) as a CSV attachment. The rows must come
    from the same selector, with the same filters, as the page that links to the export."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([csv_cell(h) for h in header])
        for row in rows:
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


def form_refused(form: Any, exc: Any) -> None:
    """Show a service's refusal on a Django form: each of its ``problems`` ([field, message])
    next to its field, else its message next to the field it names (or above the form)."""
    problems = exc.extra.get("problems") or []
    if problems:
        for name, message in problems:
            form.add_error(name if name in form.fields else None, message)
        return
    name = exc.extra.get("field")
    form.add_error(name if name in form.fields else None, exc.message)


def form_panel(
    request: HttpRequest,
    page: str,
    partial: str,
    context: dict[str, Any],
    *,
    refused: bool = False,
    conflict: bool = False,
) -> HttpResponse:
    """A panel with a form: the ``page`` template, or under htmx its ``partial``, answering 200,
    422 when the form is refused (what was typed kept, each error beside its field) or 409 when
    the record changed meanwhile. htmx swaps 422 and 409 into their target like a 200 (the
    ``htmx-config`` of base.html), so the refusal shows where the user typed, and a client or a
    log still tells a refused save from a saved one."""
    status = 409 if conflict else 422 if refused else 200
    template = partial if getattr(request, "htmx", False) else page
    return render(request, template, context, status=status)
