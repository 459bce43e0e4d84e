"""Lay a symbol out on a label (quiet zone, human-readable lines) and write SVG or PNG.

The SVG is sized in millimetres for label printers (``module_mm`` per module) and draws each run
of dark modules as one ``<rect>``; the PNG (Pillow) draws the same layout at ``scale`` pixels per
module. Under the symbol come the code itself and up to four further lines of text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from oncotrials.core.errors import ValidationError
from oncotrials.core.labels.symbols import Symbol, Symbology, encode

#: Height of Code128 bars, in modules (about 12 mm at 0.3 mm per module).
BAR_HEIGHT = 40
#: Height of one text line, in modules.
LINE_HEIGHT = 7
MAX_LINES = 4


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in ``row``."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for x, dark in enumerate([*row, False]):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def _layout(symbol: Symbol, lines: Sequence[str]) -> tuple[int, int, int, list[str]]:
    """Label width, symbol height and total height in modules, and the text lines."""
    if len(lines) > MAX_LINES:
        raise ValidationError(
            f"A label has room for {MAX_LINES} lines under the code; got {len(lines)}.",
            field="lines",
            code="labels_label_room_lines_under",
            max_lines=str(MAX_LINES),
            n_lines=str(len(lines)),
        )
    text = [symbol.data, *(str(line) for line in lines)]
    q = symbol.quiet_zone
    symbol_height = BAR_HEIGHT if symbol.linear else symbol.height
    width = symbol.width + 2 * q
    top = q if not symbol.linear else 2
    height = top + symbol_height + 2 + LINE_HEIGHT * len(text) + 1
    return width, symbol_height, height, text


def _resolve(data: str | Symbol, symbology: Symbology | str | None) -> Symbol:
    if isinstance(data, Symbol):
        return data
    if symbology is None:
        raise ValidationError(
            "Name the label format: code128, datamatrix or qr.",
            field="format",
            code="labels_name_label_format_code128",
        )
    return encode(data, symbology)


def label_svg(
    data: str | Symbol,
    symbology: Symbology | str | None = None,
    *,
    lines: Sequence[str] = (),
    module_mm: float = 0.3,
) -> str:
    """The label as an SVG document, ``module_mm`` millimetres per module."""
    if not 0.1 <= module_mm <= 2.0:
        raise ValidationError(
            f"A module must be 0.1 to 2 mm wide; got {module_mm}.",
            field="module_mm",
            code="labels_module_mm_wide",
            module_mm=str(module_mm),
        )
    symbol = _resolve(data, symbology)
    width, symbol_height, height, text = _layout(symbol, lines)
    q = symbol.quiet_zone
    top = q if not symbol.linear else 2
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{width * module_mm:.2f}mm" height="{height * module_mm:.2f}mm" '
        f'viewBox="0 0 {width} {height}" shape-rendering="crispEdges" role="img" '
        f'aria-label="{escape(symbol.description)}: {escape(symbol.data, {chr(34): "&quot;"})}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        '<g fill="#000">',
    ]
    for y, row in enumerate(symbol.rows):
        bar_y, bar_h = (top, symbol_height) if symbol.linear else (top + y, 1)
        parts.extend(
            f'<rect x="{q + x}" y="{bar_y}" width="{n}" height="{bar_h}"/>' for x, n in _runs(row)
        )
    parts.append("</g>")
    baseline = top + symbol_height + 2
    for i, line in enumerate(text):
        y = baseline + LINE_HEIGHT * (i + 1) - 1
        weight = ' font-weight="bold"' if i == 0 else ""
        parts.append(
            f'<text x="{width / 2:g}" y="{y}" font-family="DejaVu Sans Mono, monospace" '
            f'font-size="{LINE_HEIGHT - 1}" text-anchor="middle"{weight}>{escape(line)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def label_png(
    data: str | Symbol,
    symbology: Symbology | str | None = None,
    *,
    lines: Sequence[str] = (),
    scale: int = 4,
) -> bytes:
    """The label as a PNG image, ``scale`` pixels per module (Pillow)."""
    from PIL import Image, ImageDraw, ImageFont

    if not 1 <= scale <= 20:
        raise ValidationError(
            f"The scale is 1 to 20 pixels per module; got {scale}.",
            code="labels_scale_pixels_per_module",
            scale=str(scale),
        )
    symbol = _resolve(data, symbology)
    width, symbol_height, height, text = _layout(symbol, lines)
    q = symbol.quiet_zone
    top = q if not symbol.linear else 2
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(symbol.rows):
        bar_y, bar_h = (top, symbol_height) if symbol.linear else (top + y, 1)
        for x, n in _runs(row):
            draw.rectangle(
                (
                    (q + x) * scale,
                    bar_y * scale,
                    (q + x + n) * scale - 1,
                    (bar_y + bar_h) * scale - 1,
                ),
                fill=0,
            )
    font = ImageFont.load_default(size=(LINE_HEIGHT - 1) * scale)
    baseline = top + symbol_height + 2
    for i, line in enumerate(text):
        y = (baseline + LINE_HEIGHT * i) * scale
        draw.text((width * scale / 2, y), line, fill=0, font=font, anchor="ma")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
