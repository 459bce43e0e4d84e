"""oncotrials: early-phase and precision oncology clinical research platform."""

from __future__ import annotations

__version__ = "0.1.0"
