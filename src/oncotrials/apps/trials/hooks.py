"""What the apps above the portfolio hold at a trial's site.

A participating site cannot leave a trial while records of an app above (registrations, ...)
hang off it there. The trials app does not import those apps: each one registers a counter
once from its own ``wiring.py`` (``register_site_usage(...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (trial, site) -> (what is counted, how many), e.g. ("registrations", 3)
SiteUsage = Callable[[Any, Any], tuple[str, int]]

_USAGES: list[SiteUsage] = []


def register_site_usage(usage: SiteUsage) -> None:
    """Count the records an app holds for a trial at a site (registering twice has no effect)."""
    if usage not in _USAGES:
        _USAGES.append(usage)


def site_usage(trial: Any, site: Any) -> list[tuple[str, int]]:
    """What the registered apps hold for ``trial`` at ``site`` (only non-zero counts)."""
    found = [usage(trial, site) for usage in _USAGES]
    return [(what, n) for what, n in found if n]
