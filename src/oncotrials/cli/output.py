"""Shared pieces of every command: output format, JSON/Rich rendering, one-line errors.

Results go to stdout, messages and progress to stderr. Human output uses Rich; ``--format json``
prints one JSON document for machines. Errors print one line on stderr with the remedy and exit 1;
tracebacks appear only with ``ONCOTRIALS_DEBUG=1`` (locals never, they may hold patient data).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console, ConsoleDimensions

from oncotrials.core.errors import OncotrialsError


class OutputFormat(str, enum.Enum):
    human = "human"
    json = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="human (Rich tables) or json (one document on stdout)."),
]


class _Console(Console):
    """A console that honours ``COLUMNS`` when printing, not only when created."""

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return ConsoleDimensions(int(columns), dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


stdout = _Console(highlight=False, soft_wrap=True)
stderr = _Console(stderr=True, highlight=False, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, enums, decimals, dates and NumPy values into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # NumPy arrays and scalars
        return to_jsonable(tolist())
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # lazy translations and other printable objects


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def fail(message: str, *, remedy: str = "") -> NoReturn:
    """Print one line on stderr and exit 1."""
    text = message if not remedy else f"{message} {remedy}"
    stderr.print(f"[bold red]error:[/] {text}", markup=True)
    raise typer.Exit(code=1)


@contextmanager
def errors_as_one_line() -> Iterator[None]:
    """Turn platform errors (and unreadable files) into one line on stderr and exit code 1."""
    try:
        yield
    except OncotrialsError as exc:
        if os.environ.get("ONCOTRIALS_DEBUG") == "1":
            raise
        fail(exc.message)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        if os.environ.get("ONCOTRIALS_DEBUG") == "1":
            raise
        fail(f"Cannot read {exc.filename}: {exc.strerror}.", remedy="Check the path.")


F = TypeVar("F", bound=Callable[..., Any])


def command_errors(func: F) -> F:
    """Decorator form of :func:`errors_as_one_line` for Typer commands."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with errors_as_one_line():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
