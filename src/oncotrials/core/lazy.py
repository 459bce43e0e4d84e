"""Modules imported on first use, so that a command starts without SciPy until it needs it.

``from oncotrials.core.lazy import stats`` gives an object that behaves like ``scipy.stats``
but imports it only when an attribute is first read: a design module can name SciPy at module
level while ``oncotrials design simulate boin`` (which needs only NumPy) never loads it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A stand-in for the module ``name``, imported on first attribute access."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


stats: Any = LazyModule("scipy.stats")
special: Any = LazyModule("scipy.special")
integrate: Any = LazyModule("scipy.integrate")
optimize: Any = LazyModule("scipy.optimize")
