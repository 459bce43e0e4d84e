"""Loading tab-separated genomic files fast and safely (shared by the MAF and cBioPortal readers).

The file is read as bytes (gzip detected by its magic number), checked for UTF-8 (the error names
the line), given Unix line endings (``\\r\\n`` and old Mac ``\\r``-only files both occur in real
data), split into leading ``#`` comment lines, the header and the body, and checked for rows with
the wrong number of fields (a truncated file, a wrong delimiter) before polars parses the body.
Every cell is read as a string; callers convert and validate with polars expressions, so a million
rows cost a few tenths of a second.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from oncotrials.core.genomics.issues import IssueLog

__all__ = ["TextTable", "load_table", "read_text_lines"]


@dataclass(frozen=True)
class TextTable:
    frame: pl.DataFrame  # all columns as strings; empty cells are null
    header: tuple[str, ...]
    header_line: int  # 1-based line number of the header row
    comments: tuple[str, ...]  # leading '#' lines, without the newline

    def line_of(self, row: int) -> int:
        """1-based file line of 0-based data row ``row``."""
        return self.header_line + 1 + row


def _read_bytes(path: Path, log: IssueLog) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        got = bytearray()  # what can be read before the damage, to name the line
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
            try:
                while chunk := fh.read(4096):
                    got += chunk
            except (EOFError, OSError, zlib.error):
                pass
        line = got.count(b"\n") + 1
        raise log.fatal(
            line,
            None,
            "the gzip data is cut short or damaged (%(exc)s); the file is truncated at this line.",
            code="genomic_gzip_data_cut_short_damaged",
            exc=exc,
        ) from None


def _decode_check(data: bytes, log: IssueLog, *, ascii_only: bool | None = None) -> None:
    if data.isascii() if ascii_only is None else ascii_only:
        return  # most genomic files: no need to decode them to know they are UTF-8
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise log.fatal(
            line,
            None,
            "byte 0x%(byte)s is not valid UTF-8; save the file as UTF-8.",
            code="genomic_byte_not_utf8",
            byte=format(data[exc.start], "02x"),
        ) from None


def _unix_newlines(data: bytes) -> bytes:
    if b"\r" not in data:
        return data
    if b"\r\n" in data:
        return data.replace(b"\r\n", b"\n")
    if b"\n" not in data:
        return data.replace(b"\r", b"\n")
    return data


def read_text_lines(path: Path, log: IssueLog) -> list[str]:
    """All lines of a small text file (meta files, panels), UTF-8 checked, newline-agnostic."""
    data = _unix_newlines(_read_bytes(path, log))
    _decode_check(data, log)
    return data.decode("utf-8").split("\n")


def load_table(
    path: Path,
    log: IssueLog,
    *,
    comment_prefix: str = "#",
    kind: str = "file",
    columns: Callable[[tuple[str, ...]], Sequence[str]] | None = None,
    null_values: Sequence[str] = (),
) -> TextTable:
    """Read a TSV with optional leading comment lines; raise with line and field on bad shape.

    ``columns``, given the header, names the columns to parse (all by default); the shape of
    every line is still checked against the full header.
    """
    data = _unix_newlines(_read_bytes(path, log))
    ascii_only = data.isascii()
    _decode_check(data, log, ascii_only=ascii_only)
    if not data or data.isspace():
        raise log.fatal(
            1,
            None,
            "the %(kind)s is empty; expected a tab-separated header row.",
            code="genomic_empty_expected_tab_separated_header",
            kind=kind,
        )

    comments: list[str] = []
    pos = 0
    prefix = comment_prefix.encode()
    while data.startswith(prefix, pos):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        comments.append(data[pos:end].decode("utf-8"))
        pos = end + 1
        if nl < 0:
            break
    header_line = len(comments) + 1
    nl = data.find(b"\n", pos)
    header_bytes = data[pos:] if nl < 0 else data[pos:nl]
    header = tuple(h.strip() for h in header_bytes.decode("utf-8").split("\t"))
    if len(header) == 1 or not header[0]:
        sep = next((s for s in (",", ";", "|", " ") if s in header[0]), None)
        if sep:
            raise log.fatal(
                header_line,
                None,
                "the header has a single column (%(header)s); it looks %(separator)s-separated; "
                "the %(kind)s must be tab-separated.",
                code="genomic_header_one_column_separator",
                header=repr(header[0][:60]),
                separator=repr(sep),
                kind=kind,
            )
        raise log.fatal(
            header_line,
            None,
            "the header has a single column (%(header)s); the %(kind)s must be tab-separated.",
            code="genomic_header_one_column",
            header=repr(header[0][:60]),
            kind=kind,
        )
    seen: set[str] = set()
    for h in header:
        if not h:
            raise log.fatal(
                header_line,
                None,
                "the header has an empty column name.",
                code="genomic_header_has_empty_column_name",
            )
        if h in seen:
            raise log.fatal(
                header_line,
                h,
                "column %(h)s appears twice in the header.",
                code="genomic_column_appears_twice_header",
                h=repr(h),
            )
        seen.add(h)

    body = b"" if nl < 0 else data[nl + 1 :]
    wanted = list(columns(header)) if columns is not None else list(header)
    end = len(body)
    while end and body[end - 1] == 10:  # trailing newlines
        end -= 1
    if not end or body.isspace():
        _check_shape(body, len(header), header_line, log)
        frame = pl.DataFrame({h: pl.Series(h, [], dtype=pl.String) for h in wanted})
        return TextTable(frame, header, header_line, tuple(comments))
    if end < len(body) - 1:
        body = body[: end + 1]
    idx = sorted(header.index(c) for c in wanted)
    try:
        frame = pl.read_csv(
            body,
            separator="\t",
            has_header=False,
            columns=idx,
            infer_schema=False,
            quote_char=None,
            null_values=["", *null_values],
        )
    except pl.exceptions.ComputeError:  # a line with more fields than the first one
        _check_shape(body, len(header), header_line, log, scan=True)
        raise
    # The shape of every line, from the parse itself: polars gives one row per line (a blank
    # line is a row of nulls), so the file is rectangular when the tabs add up and no row is
    # wholly empty. Only a file that fails this is scanned line by line to name the lines.
    expected_tabs = (len(header) - 1) * frame.height
    blank_row = frame.select(pl.all_horizontal(pl.all().is_null()).any()).item()
    if _count_tabs(body) != expected_tabs or blank_row:
        _check_shape(body, len(header), header_line, log, scan=True)
    frame.columns = [header[i] for i in idx]  # polars keeps the requested (sorted) order
    frame = frame.select(wanted)
    frame = _strip_blanks(frame, ascii_only=ascii_only, data=data)
    return TextTable(frame, header, header_line, tuple(comments))


def _count_tabs(data: bytes, chunk: int = 1 << 20) -> int:
    """Number of tab bytes; by cache-sized chunks with NumPy, about 5x faster than bytes.count."""
    arr = np.frombuffer(data, dtype=np.uint8)
    return sum(int(np.count_nonzero(arr[i : i + chunk] == 9)) for i in range(0, arr.size, chunk))


def _strip_blanks(frame: pl.DataFrame, *, ascii_only: bool, data: bytes) -> pl.DataFrame:
    """Blanks around values are removed; a cell of blanks is null like an empty one.

    Stripping every cell costs as much as parsing it, and almost no file has such blanks: in an
    ASCII file the only blanks a cell can start or end with are spaces, vertical tabs and form
    feeds (tabs and newlines separate cells), so a column needs stripping only when one of its
    values starts or ends with a space, or the file holds a vertical tab or form feed anywhere.
    """
    if not ascii_only or b"\x0b" in data or b"\x0c" in data:
        dirty = list(frame.columns)
    else:
        probe = frame.select(
            (pl.all().str.starts_with(" ") | pl.all().str.ends_with(" ")).any()
        ).row(0)
        dirty = [c for c, d in zip(frame.columns, probe, strict=True) if d]
    if not dirty:
        return frame
    stripped = [pl.col(c).str.strip_chars() for c in dirty]
    return frame.with_columns(
        [
            pl.when(s.str.len_bytes() == 0).then(None).otherwise(s).alias(c)
            for c, s in zip(dirty, stripped, strict=True)
        ]
    )


def _check_shape(
    body: bytes, n_fields: int, header_line: int, log: IssueLog, *, scan: bool = False
) -> None:
    """Raise naming every empty line and every line with the wrong number of fields.

    Without ``scan``, a file whose tabs add up and that has no blank line returns at once;
    with it (the parse already showed something wrong), every line is looked at.
    """
    end = len(body)
    while end and body[end - 1] == 10:  # trailing newlines
        end -= 1
    if not end:
        return
    n_lines = body.count(b"\n", 0, end) + 1
    if (
        not scan
        and body.count(b"\t", 0, end) == (n_fields - 1) * n_lines
        and body.find(b"\n\n", 0, end) < 0
    ):
        return
    trimmed = body[:end]
    # Slow path only for files that are wrong: find the offending lines.
    for i, raw in enumerate(trimmed.split(b"\n")):
        line = header_line + 1 + i
        if not raw.strip():
            log.error(
                line,
                None,
                "the line is empty; remove blank lines inside the table.",
                code="genomic_line_empty_remove_blank_lines",
            )
            continue
        k = raw.count(b"\t") + 1
        if k != n_fields:
            log.error(
                line,
                None,
                (
                    "the line has %(k)s tab-separated fields but the header has %(n_fields)s "
                    "(truncated line or missing fields)."
                    if k < n_fields
                    else "the line has %(k)s tab-separated fields but the header has %(n_fields)s "
                    "(extra fields)."
                ),
                code="genomic_line_missing_fields" if k < n_fields else "genomic_line_extra_fields",
                k=k,
                n_fields=n_fields,
            )
    log.raise_if_errors()
