"""Reads whose SQL the ORM compiles once per database connection, then re-runs with new values.

A save on the hot write path (an adverse event through the API) runs a handful of reads of a
fixed shape; building their SQL (joins, annotations, subqueries) cost more CPU than the database
spent running them. A ``PreparedRead`` is declared once, at import, with a function that builds
the queryset from placeholder values; on first use on a connection it is compiled with
sentinels in place of the values, and each later call substitutes the values into the
compiled parameters. What comes back is what the queryset would give: model instances (with
their ``select_related`` objects and annotations) or ``values_list`` tuples, through the
fields' own converters.

Only values that reach the SQL as parameters can vary (ids, times); anything that changes the
shape of the query (a list of ids, a condition present or not) must be fixed in ``build``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError
from django.utils import timezone

M = TypeVar("M", bound=Model)

# Placeholders that cannot be real values: negative ids within a 32-bit integer column's range
# (an id lookup outside it compiles to "no rows"), instants of 1901 and texts with a NUL.
_ID_SENTINEL = -2_000_000_000
_AT_SENTINEL = dt.datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
_TEXT_SENTINEL = "\x00prepared read value "


@dataclass(slots=True)
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[tuple[int, str]]  # (position in params, name of the value)
    converters: list[tuple[int, list[Any], Any]]
    # model instances: the model, its columns, where they are, the related objects, annotations
    model: type[Model] | None
    init_list: list[str]
    span: tuple[int, int]
    populators: list[Any]
    annotations: dict[str, int]
    locks: bool


class PreparedRead(Generic[M]):
    """A read of fixed shape: ``build(**placeholders)`` returns the queryset (model instances
    or ``values_list`` of plain fields, no ``.extra``); ``params`` names its integer values,
    ``at=`` its date-time values, ``text=`` its text values."""

    def __init__(
        self,
        build: Callable[..., QuerySet[M, Any]],
        *params: str,
        at: Sequence[str] = (),
        text: Sequence[str] = (),
        alias: str = "default",
    ) -> None:
        self._build = build
        self._ids = tuple(params)
        self._ats = tuple(at)
        self._texts = tuple(text)
        self._alias = alias
        self._key = f"_oncotrials_prepared_{id(self)}"

    # -- compiling

    def _sentinels(self) -> dict[str, Any]:
        out: dict[str, Any] = {n: _ID_SENTINEL - i for i, n in enumerate(self._ids)}
        for i, n in enumerate(self._ats):
            out[n] = _AT_SENTINEL + dt.timedelta(seconds=i)
        for i, n in enumerate(self._texts):
            out[n] = f"{_TEXT_SENTINEL}{i}"
        return out

    def _compile(self, connection: Any) -> _Compiled:
        sentinels = self._sentinels()
        qs = self._build(**sentinels)
        if qs.query.extra_select or getattr(qs, "_known_related_objects", None):
            raise TypeError("A prepared read takes no .extra() and no related-object caches.")
        compiler = qs.query.get_compiler(using=self._alias)
        sql, params = compiler.as_sql()
        params = list(params)
        wanted = {self._adapt(connection, n, v): n for n, v in sentinels.items()}
        slots = [(i, wanted[p]) for i, p in enumerate(params) if _hashable(p) and p in wanted]
        if sorted({n for _, n in slots}) != sorted(sentinels):
            missing = sorted(set(sentinels) - {n for _, n in slots})
            raise TypeError(f"The prepared read does not use the value(s) {missing} as parameters.")
        select = compiler.select[: compiler.col_count]
        converters = [
            (pos, convs, expr)
            for pos, (convs, expr) in compiler.get_converters([s[0] for s in select]).items()
        ]
        model, init_list, span, populators, annotations = None, [], (0, 0), [], {}
        if qs._iterable_class is ModelIterable:
            klass_info = compiler.klass_info
            model = klass_info["model"]
            fields = klass_info["select_fields"]
            span = (fields[0], fields[-1] + 1)
            init_list = [f[0].target.attname for f in compiler.select[span[0] : span[1]]]
            populators = get_related_populators(klass_info, compiler.select, self._alias)
            annotations = dict(compiler.annotation_col_map or {})
        elif qs._iterable_class is not ValuesListIterable or qs.query.annotation_select:
            raise TypeError("A prepared read gives model instances or values_list tuples.")
        return _Compiled(
            sql=sql,
            params=params,
            slots=slots,
            converters=converters,
            model=model,
            init_list=init_list,
            span=span,
            populators=populators,
            annotations=annotations,
            locks=bool(qs.query.select_for_update) and connection.features.has_select_for_update,
        )

    def _adapt(self, connection: Any, name: str, value: Any) -> Any:
        if name in self._ats:
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def _compiled(self, connection: Any) -> _Compiled:
        # Per connection object (one per thread): converters are bound to its backend.
        compiled: _Compiled | None = connection.__dict__.get(self._key)
        if compiled is None:
            compiled = self._compile(connection)
            connection.__dict__[self._key] = compiled
        return compiled

    # -- running

    def _bind(self, compiled: _Compiled, values: dict[str, Any], connection: Any) -> list[Any]:
        params = list(compiled.params)
        for pos, name in compiled.slots:
            value = values[name]
            if name in self._ats:
                if timezone.is_naive(value):
                    raise ValueError(f"{name} must be an aware date-time.")
                value = connection.ops.adapt_datetimefield_value(value)
            params[pos] = value
        return params

    def _execute(self, values: dict[str, Any]) -> tuple[_Compiled, list[tuple[Any, ...]], Any]:
        connection = connections[self._alias]
        compiled = self._compiled(connection)
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = self._bind(compiled, values, connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, [tuple(r) for r in cursor.fetchall()], connection

    def bound(
        self, *, locking: bool = False, **values: Any
    ) -> tuple[str, list[Any], Callable[[tuple[Any, ...]], tuple[Any, ...]]]:
        """The ``values_list`` read's SQL and parameters for these values, to run inside a
        larger statement, and the function that converts one of its rows as the database driver
        gives it into what ``rows()`` gives. A locking read only with ``locking=True``, for a
        caller that runs it where its lock holds (a ``WITH`` query of its own, inside a
        transaction); otherwise a locking read runs on its own."""
        connection = connections[self._alias]
        compiled = self._compiled(connection)
        if compiled.model is not None or compiled.locks != locking:
            raise TypeError(
                "Only a values_list read runs inside another, a locking one with locking=True."
            )
        if locking and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )

        def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(self._convert(compiled, row, connection))

        return compiled.sql, self._bind(compiled, values, connection), convert

    @staticmethod
    def _convert(compiled: _Compiled, row: Sequence[Any], connection: Any) -> list[Any]:
        out = list(row)
        for pos, convs, expr in compiled.converters:
            value = out[pos]
            for convert in convs:
                value = convert(value, expr, connection)
            out[pos] = value
        return out

    def _run(self, values: dict[str, Any]) -> tuple[_Compiled, list[list[Any]], Any]:
        compiled, raw, connection = self._execute(values)
        return compiled, [self._convert(compiled, r, connection) for r in raw], connection

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The ``values_list`` rows for these values."""
        _, rows, _ = self._run(values)
        return [tuple(r) for r in rows]

    def raw_rows(
        self, **values: Any
    ) -> tuple[list[tuple[Any, ...]], Callable[[tuple[Any, ...]], tuple[Any, ...]]]:
        """The ``values_list`` rows as the database driver gives them, before the fields'
        converters (a JSON field still as its text), and the function that converts one into
        what ``rows()`` gives. For a caller that remembers what it derives from a row: equal
        raw rows convert to equal values."""
        compiled, raw, connection = self._execute(values)
        if compiled.model is not None:
            raise TypeError("This prepared read gives model instances: call objects().")

        def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(self._convert(compiled, row, connection))

        return raw, convert

    def objects(self, **values: Any) -> list[M]:
        """The model instances for these values, as the queryset would give them."""
        compiled, rows, _ = self._run(values)
        model = compiled.model
        if model is None:
            raise TypeError("This prepared read gives values_list rows: call rows().")
        start, end = compiled.span
        out = []
        for row in rows:
            obj = model.from_db(self._alias, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, pos in compiled.annotations.items():
                setattr(obj, name, row[pos])
            out.append(obj)
        return out  # type: ignore[return-value]

    def first(self, **values: Any) -> M | None:
        found = self.objects(**values)
        return found[0] if found else None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
