"""Specimen labels: every symbol decodes back to its content with zxing-cpp.

The PNG is read as written; the SVG is rasterised here from its ``<rect>`` elements (no SVG
library needed: the label draws nothing else in black) and read the same way.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from oncotrials.core.errors import ValidationError
from oncotrials.core.labels import Symbology, encode, label_png, label_svg

FORMATS = {
    Symbology.code128: zxingcpp.BarcodeFormat.Code128,
    Symbology.datamatrix: zxingcpp.BarcodeFormat.DataMatrix,
    Symbology.qr: zxingcpp.BarcodeFormat.QRCode,
}
RECT = re.compile(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/>')


def _read_png(png: bytes):
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


def _read_svg(svg: str, scale: int = 4):
    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert view is not None
    width, height = int(view[1]), int(view[2])
    pixels = np.full((height * scale, width * scale), 255, dtype=np.uint8)
    for x, y, w, h in (tuple(map(int, m)) for m in RECT.findall(svg)):
        pixels[y * scale : (y + h) * scale, x * scale : (x + w) * scale] = 0
    return zxingcpp.read_barcodes(pixels)


@pytest.mark.parametrize("symbology", list(Symbology))
@pytest.mark.parametrize("code", ["SPEC-000123", "ALIQ1.1.2-C", "P0042/C1D15/CT-DNA"])
def test_png_and_svg_labels_decode_to_their_content(symbology, code):
    png = label_png(code, symbology, lines=("P-0042", "C1D15 plasma"))
    assert png.startswith(b"\x89PNG")
    svg = label_svg(code, symbology, lines=("P-0042", "C1D15 plasma"))
    for results in (_read_png(png), _read_svg(svg)):
        assert [(r.text, r.format) for r in results] == [(code, FORMATS[symbology])]


def test_a_short_qr_code_is_still_a_standard_qr_symbol_never_micro_qr():
    # "42" fits a Micro QR M1 symbol: segno.make() would choose it; labels must not.
    symbol = encode("42", "qr")
    assert symbol.description.startswith("QR 1-")
    assert symbol.width == 21  # version 1 is 21 x 21 modules; Micro QR M1 is 11 x 11
    results = _read_png(label_png(symbol))
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    assert results[0].format != zxingcpp.BarcodeFormat.MicroQRCode
    assert results[0].symbology_identifier.startswith("]Q")  # ISO/IEC 18004 QR, not Micro


def test_datamatrix_and_qr_take_utf8_text():
    for symbology in (Symbology.datamatrix, Symbology.qr):
        results = _read_png(label_png("Prélèvement-7", symbology))
        assert [r.text for r in results] == ["Prélèvement-7"]


def test_the_svg_is_sized_in_millimetres_and_escapes_text():
    svg = label_svg("A<1>&B", "datamatrix", lines=('"quoted"',), module_mm=0.25)
    assert re.search(r'width="\d+\.\d\dmm"', svg)
    assert "A&lt;1&gt;&amp;B" in svg
    assert "<1>" not in svg


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30
    ),
    symbology=st.sampled_from(list(Symbology)),
)
def test_any_printable_code_round_trips(code, symbology):
    results = _read_png(label_png(code, symbology))
    assert [r.text for r in results] == [code]


@pytest.mark.parametrize(
    ("code", "symbology", "message"),
    [
        ("", "qr", "empty code"),
        ("x" * 81, "qr", "at most 80"),
        ("Prélèvement", "code128", "printable ASCII"),
        ("SPEC-1", "ean13", "Unknown label format"),
    ],
)
def test_bad_labels_are_refused(code, symbology, message):
    with pytest.raises(ValidationError, match=message):
        label_svg(code, symbology)


def test_too_many_lines_and_bad_sizes_are_refused():
    with pytest.raises(ValidationError, match="room for 4 lines"):
        label_svg("SPEC-1", "qr", lines=("a", "b", "c", "d", "e"))
    with pytest.raises(ValidationError, match=r"0\.1 to 2 mm"):
        label_svg("SPEC-1", "qr", module_mm=5)
