"""Adverse-event grading: CTCAE lab grading and term catalogue, ASTCT CRS/ICANS, DLT rules."""

from __future__ import annotations
