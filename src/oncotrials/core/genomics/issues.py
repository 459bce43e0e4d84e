"""Where a genomic file went wrong: file, line and field, for errors and for notices.

Readers collect every problem they meet (up to a limit) and then raise one
:class:`GenomicFileError` whose message names the first problem and how many more there are;
``extra["issues"]`` carries all of them. Problems that do not stop a read (a non-standard column,
an alias resolved to its official gene symbol) are returned as ``Issue`` objects of severity
``"warning"`` or ``"info"`` beside the data.

An issue the app may word in the user's language carries a stable ``code`` and the values its
message names (``params``); the English ``message`` is its template filled with them, as the
app's catalogue does for its own language (``oncotrials.apps.genomics.file_messages``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncotrials.core.errors import ValidationError

__all__ = ["GenomicFileError", "Issue", "IssueLog", "Severity"]

MAX_ERRORS = 50


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located: ``line`` is 1-based in the file as a text editor shows it."""

    file: str
    line: int | None
    field: str | None
    message: str
    severity: Severity = Severity.ERROR
    #: what the problem is, for the app to word it; "" when only the English message exists
    code: str = ""
    #: the values the message names, as (name, value) pairs
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


class GenomicFileError(ValidationError):
    """A genomic file that cannot be read as it is; ``extra['issues']`` lists every problem."""

    code = "genomic_file_invalid"

    def __init__(self, issues: Iterable[Issue]) -> None:
        # In file order (errors without a line, about the whole file, last).
        found = sorted(
            (i for i in issues if i.severity is Severity.ERROR),
            key=lambda i: (i.line is None, i.line or 0),
        )
        if not found:
            raise ValueError("GenomicFileError needs at least one error")
        first = found[0]
        more = len(found) - 1
        suffix = f" ({more} more error{'s' if more != 1 else ''} in the file)" if more else ""
        super().__init__(
            f"{first}{suffix}",
            file=first.file,
            line=first.line,
            field=first.field,
            issues=[str(i) for i in found],
        )
        self.issues: tuple[Issue, ...] = tuple(found)


@dataclass
class IssueLog:
    """Collects issues for one file; ``raise_if_errors`` ends a read that met errors."""

    file: str
    issues: list[Issue] = field(default_factory=list)
    max_errors: int = MAX_ERRORS

    @classmethod
    def for_path(cls, path: Path | str) -> IssueLog:
        return cls(file=Path(path).name if isinstance(path, Path) else str(path))

    @property
    def n_errors(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.ERROR)

    def _issue(
        self,
        line: int | None,
        field: str | None,
        message: str,
        severity: Severity,
        code: str,
        params: Mapping[str, Any],
    ) -> Issue:
        """With a ``code``, ``message`` is a template with ``%(name)s`` placeholders."""
        if code:
            return Issue(
                self.file, line, field, message % params, severity, code, tuple(params.items())
            )
        return Issue(self.file, line, field, message, severity)

    def error(
        self, line: int | None, field: str | None, message: str, *, code: str = "", **params: Any
    ) -> None:
        if self.n_errors >= self.max_errors:
            return
        self.issues.append(self._issue(line, field, message, Severity.ERROR, code, params))

    def warning(
        self, line: int | None, field: str | None, message: str, *, code: str = "", **params: Any
    ) -> None:
        self.issues.append(self._issue(line, field, message, Severity.WARNING, code, params))

    def info(
        self, line: int | None, field: str | None, message: str, *, code: str = "", **params: Any
    ) -> None:
        self.issues.append(self._issue(line, field, message, Severity.INFO, code, params))

    def fatal(
        self, line: int | None, field: str | None, message: str, *, code: str = "", **params: Any
    ) -> GenomicFileError:
        """Record an error and return the exception to raise at once."""
        self.issues.append(self._issue(line, field, message, Severity.ERROR, code, params))
        return GenomicFileError(self.issues)

    def raise_if_errors(self) -> None:
        if self.n_errors:
            raise GenomicFileError(self.issues)

    def notices(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is not Severity.ERROR)
