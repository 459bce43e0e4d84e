"""Encode data as a module matrix with a kept library (python-barcode, segno, zxing-cpp)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from oncotrials.core.errors import ValidationError

#: Longest label content we accept; a cryovial label has no room for more.
MAX_LENGTH = 80


class Symbology(enum.StrEnum):
    code128 = "code128"
    datamatrix = "datamatrix"
    qr = "qr"


@dataclass(frozen=True, slots=True)
class Symbol:
    """A symbol as rows of dark (True) and light modules, without its quiet zone.

    A linear symbol (Code128) has one row, drawn as bars of ``bar_height`` modules.
    ``quiet_zone`` is the light margin its standard asks for, in modules.
    """

    symbology: Symbology
    data: str
    rows: tuple[tuple[bool, ...], ...]
    quiet_zone: int
    description: str

    @property
    def linear(self) -> bool:
        return self.symbology is Symbology.code128

    @property
    def width(self) -> int:
        return len(self.rows[0])

    @property
    def height(self) -> int:
        return len(self.rows)


def _check(data: str, symbology: Symbology) -> None:
    if not data:
        raise ValidationError(
            "A label needs content; got an empty code.",
            field="code",
            code="labels_label_needs_content_empty",
        )
    if len(data) > MAX_LENGTH:
        raise ValidationError(
            f"A label holds at most {MAX_LENGTH} characters; got {len(data)}.",
            field="code",
            code="labels_label_holds_most_characters",
            max_length=str(MAX_LENGTH),
            n_data=str(len(data)),
        )
    if symbology is Symbology.code128 and not all(32 <= ord(c) < 127 for c in data):
        bad = next(c for c in data if not 32 <= ord(c) < 127)
        raise ValidationError(
            f"Code128 labels take printable ASCII only; {bad!r} is not. Use a DataMatrix or "
            "QR label for other characters.",
            field="code",
            code="labels_code128_labels_take_printable",
            bad=repr(bad),
        )


def encode(data: str, symbology: Symbology | str, *, qr_error: str = "M") -> Symbol:
    """Encode ``data`` as ``symbology`` (``code128``, ``datamatrix`` or ``qr``).

    QR symbols are always standard QR (never Micro QR), error-correction level ``qr_error``
    (L, M, Q or H; segno may raise it when the symbol has room to spare).
    """
    try:
        kind = Symbology(symbology)
    except ValueError:
        raise ValidationError(
            f"Unknown label format {symbology!r}; use code128, datamatrix or qr.",
            field="format",
            code="labels_unknown_label_format_use",
            symbology=repr(symbology),
        ) from None
    _check(data, kind)
    if kind is Symbology.code128:
        import barcode

        code = barcode.get("code128", data)
        bits = code.build()[0]
        return Symbol(kind, data, (tuple(b == "1" for b in bits),), 10, "Code128")
    if kind is Symbology.qr:
        import segno

        if qr_error.upper() not in {"L", "M", "Q", "H"}:
            raise ValidationError(
                f"QR error correction is L, M, Q or H; got {qr_error!r}.",
                field="qr_error",
                code="labels_qr_error_correction_l",
                qr_error=repr(qr_error),
            )
        qr = segno.make_qr(data, error=qr_error.lower())
        if qr.is_micro:  # pragma: no cover - make_qr never returns Micro QR
            raise ValidationError(
                "segno returned a Micro QR symbol; refusing it.",
                code="labels_segno_returned_micro_qr",
            )
        rows = tuple(tuple(bool(m) for m in row) for row in qr.matrix)
        return Symbol(kind, data, rows, 4, f"QR {qr.designator}")
    import numpy as np
    import zxingcpp

    dm = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.DataMatrix)
    image = np.asarray(zxingcpp.write_barcode_to_image(dm, scale=1, add_quiet_zones=False))
    rows = tuple(tuple(bool(px < 128) for px in row) for row in image)
    return Symbol(kind, data, rows, 2, f"DataMatrix {image.shape[1]}x{image.shape[0]}")
