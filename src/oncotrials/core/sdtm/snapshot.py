"""A study's plain data to JSON and back, exactly: the frozen content of a data cut.

Dates are ISO strings, decimals are strings (never binary floats), enumerations their values;
reading rebuilds the same dataclasses from their type hints, so ``study_from_json(study_to_json(s))
== s``. The text is canonical (sorted keys, no spaces), so its SHA-256 identifies the content.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import types
import typing
from decimal import Decimal
from functools import cache
from typing import Any

from oncotrials.core.errors import ValidationError

from .model import Study


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float | Decimal):
        return str(Decimal(str(value)) if isinstance(value, float) else value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    raise TypeError(f"Cannot store a {type(value).__name__} in a data cut.")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(tp: Any, data: Any, where: str = "$") -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        if any(o is Decimal for o in real) and isinstance(data, str):
            return Decimal(data)
        for option in real:
            try:
                return from_plain(option, data, where)
            except (TypeError, ValueError, ValidationError):
                continue
        raise ValidationError(
            f"{where}: {data!r} fits none of {tp}.",
            code="sdtm_fits_none",
            where=str(where),
            data=repr(data),
            tp=str(tp),
        )
    if origin is tuple:
        (item, *_rest) = typing.get_args(tp)
        return tuple(from_plain(item, v, f"{where}[{i}]") for i, v in enumerate(data))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, dict):
            raise ValidationError(
                f"{where}: expected an object for {tp.__name__}.",
                code="sdtm_expected_object",
                where=str(where),
                name=str(tp.__name__),
            )
        hints = _hints(tp)
        kwargs = {
            f.name: from_plain(hints[f.name], data[f.name], f"{where}.{f.name}")
            for f in dataclasses.fields(tp)
            if f.name in data
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is Decimal:
        if not isinstance(data, str | int):
            raise TypeError(where)
        return Decimal(data)
    if tp is dt.date:
        if not isinstance(data, str):
            raise TypeError(where)
        return dt.date.fromisoformat(data)
    if tp is float:
        return Decimal(str(data))
    if tp in (str, int, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise TypeError(f"{where}: expected {tp.__name__}, got {data!r}")
        return data
    if tp is Any:
        return data
    raise TypeError(f"{where}: cannot read {tp}")


def study_to_json(study: Study) -> str:
    """The canonical JSON text of a study's data."""
    return json.dumps(to_plain(study), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def study_from_json(text: str) -> Study:
    """The study stored by :func:`study_to_json`."""
    result = from_plain(Study, json.loads(text))
    assert isinstance(result, Study)
    return result
