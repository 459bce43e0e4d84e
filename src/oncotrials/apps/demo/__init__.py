"""The deterministic demo unit (``oncotrials demo``): portfolio, people and patient journeys."""

from __future__ import annotations

from .journeys import DEMO_PASSWORD
from .portfolio import DemoLogin, demo_load

__all__ = ["DEMO_PASSWORD", "DemoLogin", "demo_load"]
