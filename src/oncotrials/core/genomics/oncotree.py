"""OncoTree: the shipped tumour-type tree, code validation, ancestry and subtree queries.

The tree is the CC BY 4.0 release ``oncotree_2025_10_03.json`` of cBioPortal/oncotree (see
``data/README.md``). Codes are case-insensitive on input and upper case on output; retired codes
listed in a node's ``history``/``precursors`` resolve to their current code.

References
----------
Kundra R, et al. OncoTree: a cancer classification system for precision oncology.
JCO Clin Cancer Inform 2021;5:221-230.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from oncotrials.core.errors import NotFoundError, ValidationError

__all__ = ["SHIPPED_VERSION", "OncoTree", "OncoTreeNode", "load_oncotree"]

SHIPPED_VERSION = "oncotree_2025_10_03"
ROOT = "TISSUE"
# Tissues whose tumours are haematological; everything else under TISSUE is a solid tumour.
HAEMATOLOGICAL_TISSUES = frozenset({"MYELOID", "LYMPH"})


@dataclass(frozen=True, slots=True)
class OncoTreeNode:
    code: str
    name: str
    main_type: str | None
    tissue: str | None
    level: int
    parent: str | None
    children: tuple[str, ...]


class OncoTree:
    """An OncoTree version, indexed by code."""

    def __init__(self, nodes: dict[str, OncoTreeNode], version: str, aliases: dict[str, str]):
        self.nodes = nodes
        self.version = version
        self._aliases = aliases

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.resolve(code) is not None

    def resolve(self, code: str) -> str | None:
        """The current code for ``code`` (case-insensitive, retired codes mapped), else None."""
        c = code.strip().upper()
        if c in self.nodes:
            return c
        return self._aliases.get(c)

    def get(self, code: str) -> OncoTreeNode:
        """The node for ``code``; NotFoundError with close matches when it is unknown."""
        resolved = self.resolve(code)
        if resolved is None:
            close = difflib.get_close_matches(code.strip().upper(), list(self.nodes), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise NotFoundError(
                f"Unknown OncoTree code {code!r} (OncoTree {self.version}).{hint}",
                code="oncotree_unknown_code",
                oncotree_code=code,
            )
        return self.nodes[resolved]

    def validate(self, code: str) -> str:
        """Return the current code or raise ValidationError naming the code."""
        try:
            return self.get(code).code
        except NotFoundError as exc:
            raise ValidationError(exc.message, code="oncotree_unknown_code") from None

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Codes from the parent up to the root ``TISSUE`` (nearest first)."""
        node = self.get(code)
        out: list[str] = []
        while node.parent:
            out.append(node.parent)
            node = self.nodes[node.parent]
        return tuple(out)

    def lineage(self, code: str) -> tuple[str, ...]:
        """The code itself then its ancestors."""
        return (self.get(code).code, *self.ancestors(code))

    def descendants(self, code: str) -> tuple[str, ...]:
        """Every code below ``code`` (depth-first, children in code order), itself excluded."""
        return tuple(self._walk(self.get(code).code))[1:]

    def subtree(self, code: str) -> frozenset[str]:
        """``code`` and everything under it, e.g. ``subtree("NSCLC")`` holds LUAD and LUSC."""
        return frozenset(self._walk(self.get(code).code))

    def _walk(self, code: str) -> Iterator[str]:
        yield code
        for child in self.nodes[code].children:
            yield from self._walk(child)

    def is_a(self, code: str, ancestor: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies under it."""
        return self.get(ancestor).code in self.lineage(code)

    def is_solid(self, code: str) -> bool:
        """True unless the code lies under the myeloid or lymphoid tissues."""
        lin = self.lineage(code)
        return not HAEMATOLOGICAL_TISSUES.intersection(lin) and lin[0] != ROOT

    def tissue_of(self, code: str) -> str:
        """The level-1 tissue code above ``code`` (itself when it is a tissue)."""
        lin = self.lineage(code)
        return lin[-2] if len(lin) >= 2 else lin[0]

    def find_by_name(self, name: str) -> str | None:
        """Code of the node whose name or main type equals ``name`` (case-insensitive)."""
        n = name.strip().lower()
        for node in self.nodes.values():
            if node.name.lower() == n:
                return node.code
        for node in self.nodes.values():
            if node.main_type and node.main_type.lower() == n and node.level <= 2:
                return node.code
        return None


def _parse(tree: dict[str, Any], version: str) -> OncoTree:
    nodes: dict[str, OncoTreeNode] = {}
    aliases: dict[str, str] = {}

    def visit(raw: dict[str, Any]) -> None:
        code = str(raw["code"]).upper()
        children = raw.get("children") or {}
        nodes[code] = OncoTreeNode(
            code=code,
            name=str(raw.get("name") or code),
            main_type=raw.get("mainType"),
            tissue=raw.get("tissue"),
            level=int(raw.get("level") or 0),
            parent=(str(raw["parent"]).upper() if raw.get("parent") else None),
            children=tuple(sorted(str(c).upper() for c in children)),
        )
        for old in [*(raw.get("history") or []), *(raw.get("precursors") or [])]:
            aliases.setdefault(str(old).upper(), code)
        for child in children.values():
            visit(child)

    if ROOT not in tree:
        raise ValidationError(
            f"An OncoTree JSON must have the root {ROOT!r}; got {list(tree)[:3]}."
        )
    visit(tree[ROOT])
    for old in list(aliases):
        if old in nodes:  # a code that still exists is never an alias
            del aliases[old]
    return OncoTree(nodes, version, aliases)


@lru_cache(maxsize=4)
def load_oncotree(path: str | Path | None = None) -> OncoTree:
    """Load an OncoTree JSON (default: the shipped version, cached)."""
    if path is None:
        ref = resources.files("oncotrials.core.genomics").joinpath(f"data/{SHIPPED_VERSION}.json")
        with ref.open(encoding="utf-8") as fh:
            return _parse(json.load(fh), SHIPPED_VERSION)
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{p.name}, line {exc.lineno}: not valid JSON ({exc.msg})."
            ) from None
    return _parse(data, p.stem)
