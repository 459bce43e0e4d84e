"""Printable specimen labels: Code128, DataMatrix and standard QR, as SVG or PNG.

The symbols are encoded by kept libraries, never by our own code: Code128 by python-barcode
(character-set switching and the modulo-103 check), QR by segno (always a standard QR symbol,
``segno.make_qr``; ``segno.make`` would silently choose Micro QR for short data, which many
handheld scanners do not read), DataMatrix (ECC 200) by zxing-cpp. This package only lays the
module matrix out on a label with a quiet zone and human-readable lines, and writes it.

>>> from oncotrials.core.labels import label_svg
>>> svg = label_svg("SPEC-000123", "qr", lines=("P-0042  C1D15",))
"""

from __future__ import annotations

from oncotrials.core.labels.render import label_png, label_svg
from oncotrials.core.labels.symbols import Symbol, Symbology, encode

__all__ = ["Symbol", "Symbology", "encode", "label_png", "label_svg"]
