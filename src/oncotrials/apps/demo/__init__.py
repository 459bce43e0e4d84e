"""The deterministic demo unit (``oncotrials demo``): portfolio, people and patient journeys."""

from __future__ import annotations

from .portfolio import DEMO_PASSWORD, DemoLogin, demo_load

__all__ = ["DEMO_PASSWORD", "DemoLogin", "demo_load"]
