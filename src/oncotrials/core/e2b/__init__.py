"""ICH E2B(R3) individual case safety reports (ICSR) over plain data: ``build_icsr`` writes the
HL7 v3 XML message, ``schema_errors`` checks it against the ICH ICSR schema set."""

from __future__ import annotations

from .builder import build_icsr, schema_errors
from .model import Drug, Icsr, Nullification, Patient, PrimarySource, Reaction, Sender, Study

__all__ = [
    "Drug",
    "Icsr",
    "Nullification",
    "Patient",
    "PrimarySource",
    "Reaction",
    "Sender",
    "Study",
    "build_icsr",
    "schema_errors",
]
