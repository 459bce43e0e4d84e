"""Framework-free clinical genomics."""

from __future__ import annotations
