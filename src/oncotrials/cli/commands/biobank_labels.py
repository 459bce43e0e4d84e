"""``oncotrials labels print``: a specimen label (Code128, DataMatrix or standard QR).

The symbol is encoded by python-barcode (Code128), zxing-cpp (DataMatrix) or segno (QR, always
a standard QR symbol, never Micro QR) and laid out with the code and up to four lines of text;
the file type follows the ``--out`` suffix (.svg or .png).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncotrials.cli.output import command_errors, fail, stderr
from oncotrials.core.labels.symbols import Symbology

app = typer.Typer(
    help="Printable specimen labels: Code128, DataMatrix or standard QR, as SVG or PNG.",
    no_args_is_help=True,
)


@app.callback()
def _labels() -> None:
    """Printable specimen labels: Code128, DataMatrix or standard QR, as SVG or PNG."""


@app.command("print")
@command_errors
def print_label(
    code: Annotated[str, typer.Argument(help="The content of the label (a specimen code).")],
    symbology: Annotated[
        Symbology,
        typer.Option("--format", "-f", help="code128, datamatrix or qr (standard QR)."),
    ] = Symbology.datamatrix,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The file to write: .svg or .png.", dir_okay=False)
    ] = Path("label.svg"),
    line: Annotated[
        list[str] | None,
        typer.Option("--line", "-l", help="A line of text under the code (up to 4)."),
    ] = None,
    module_mm: Annotated[
        float, typer.Option("--module-mm", help="SVG: width of one module in mm.")
    ] = 0.3,
    scale: Annotated[int, typer.Option("--scale", help="PNG: pixels per module.")] = 4,
) -> None:
    """Write the label of CODE as SVG or PNG (the --out suffix decides)."""
    from oncotrials.core.labels import label_png, label_svg

    suffix = out.suffix.lower()
    lines = tuple(line or ())
    if suffix == ".svg":
        out.write_text(label_svg(code, symbology, lines=lines, module_mm=module_mm), "utf-8")
    elif suffix == ".png":
        out.write_bytes(label_png(code, symbology, lines=lines, scale=scale))
    else:
        fail(f"Cannot write a label as {out.name}.", remedy="Name a .svg or .png file.")
    stderr.print(f"Wrote the {symbology.value} label of {code} to {out}.")
