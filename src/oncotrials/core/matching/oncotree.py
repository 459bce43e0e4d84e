"""The OncoTree as the matching engine needs it: parents, subtrees, names, solid vs liquid.

The engine takes any object satisfying :class:`OncoTreeLike` (a code -> parent mapping is
enough); :class:`OncoTreeMap` is the small implementation used here and by the CLI, built from
a ``{code: parent}`` dict or from the nested JSON published by cBioPortal/oncotree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from oncotrials.core.errors import ValidationError

SOLID = "_SOLID_"
LIQUID = "_LIQUID_"

#: Tissues whose subtrees are haematological (``_LIQUID_``); everything else is solid. This is
#: the rule MatchMiner V1 applied to the OncoTree at run time (tissues "Lymph" and "Blood",
#: today ``LYMPH`` (Lymphoid) and ``MYELOID`` (Myeloid)).
LIQUID_TISSUES: frozenset[str] = frozenset({"LYMPH", "MYELOID"})


@runtime_checkable
class OncoTreeLike(Protocol):
    """What the engine needs from an OncoTree."""

    def parent(self, code: str) -> str | None:
        """Parent code of ``code`` (None for a root)."""
        ...

    def codes(self) -> Iterable[str]:
        """Every code of the tree."""
        ...

    def codes_for_name(self, name: str) -> tuple[str, ...]:
        """Codes whose display name is ``name`` (CTML names nodes; a few names repeat)."""
        ...


class OncoTreeMap:
    """An OncoTree built from ``{code: parent_code_or_None}`` and optional ``{code: name}``."""

    def __init__(
        self, parents: Mapping[str, str | None], names: Mapping[str, str] | None = None
    ) -> None:
        self._parents: dict[str, str | None] = dict(parents)
        for code, parent in self._parents.items():
            if parent is not None and parent not in self._parents:
                raise ValidationError(
                    f"OncoTree: the parent {parent!r} of {code!r} is not a code of the tree.",
                    code="matching_oncotree_parent_code_tree",
                    parent=repr(parent),
                    code_value=repr(code),
                )
        self._names: dict[str, str] = dict(names or {})
        self._by_name: dict[str, tuple[str, ...]] = {}
        for code, name in sorted((names or {}).items()):
            self._by_name[name] = (*self._by_name.get(name, ()), code)

    def parent(self, code: str) -> str | None:
        return self._parents.get(code)

    def codes(self) -> Iterable[str]:
        return self._parents.keys()

    def codes_for_name(self, name: str) -> tuple[str, ...]:
        return self._by_name.get(name, ())

    def __contains__(self, code: object) -> bool:
        return code in self._parents

    def name_of(self, code: str) -> str | None:
        """The display name of ``code`` (None when the tree has no names)."""
        return self._names.get(code)

    @classmethod
    def from_json(cls, data: Any, *, source: str = "OncoTree") -> OncoTreeMap:
        """Read cBioPortal's nested tree (``{"TISSUE": {..., "children": {...}}}``) or a flat
        ``{code: parent}`` object."""
        if not isinstance(data, Mapping) or not data:
            raise ValidationError(
                f"{source}: expected a JSON object; got {type(data).__name__}.",
                code="matching_expected_json_object",
                source=str(source),
                name=str(type(data).__name__),
            )
        first = next(iter(data.values()))
        if first is None or isinstance(first, str):
            return cls({str(k): (None if v is None else str(v)) for k, v in data.items()})
        parents: dict[str, str | None] = {}
        names: dict[str, str] = {}
        stack: list[tuple[str | None, Any]] = [(None, node) for node in data.values()]
        while stack:
            parent, node = stack.pop()
            if not isinstance(node, Mapping) or "code" not in node:
                raise ValidationError(
                    f"{source}: a node without 'code' under {parent!r}.",
                    code="matching_node_without_code_under",
                    source=str(source),
                    parent=repr(parent),
                )
            code = str(node["code"])
            parents[code] = parent
            if node.get("name"):
                names[code] = str(node["name"])
            children = node.get("children") or {}
            stack.extend((code, child) for child in children.values())
        return cls(parents, names)

    @classmethod
    def from_path(cls, path: str | Path) -> OncoTreeMap:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}).",
                code="matching_valid_json_line",
                path=str(path),
                msg=str(exc.msg),
                lineno=str(exc.lineno),
            ) from None
        return cls.from_json(data, source=str(path))


def diagnosis_label(tree: OncoTreeLike | None, code: str) -> str:
    """``Non-Small Cell Lung Cancer (NSCLC)`` when the tree names the code, else the code;
    ``_SOLID_`` / ``_LIQUID_`` as words."""
    if code == SOLID:
        return "any solid tumour"
    if code == LIQUID:
        return "any haematological cancer"
    name_of = getattr(tree, "name_of", None)
    name = name_of(code) if callable(name_of) else None
    return f"{name} ({code})" if name else code


def ancestors(tree: OncoTreeLike, code: str) -> list[str]:
    """``code`` and its ancestors, nearest first (cycle-safe)."""
    out: list[str] = []
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        out.append(current)
        seen.add(current)
        current = tree.parent(current)
    return out


def is_liquid(tree: OncoTreeLike, code: str) -> bool:
    return any(c in LIQUID_TISSUES for c in ancestors(tree, code))


def is_solid(tree: OncoTreeLike, code: str) -> bool:
    """Solid = any non-root node outside the liquid tissues."""
    return tree.parent(code) is not None and not is_liquid(tree, code)


def in_diagnosis(tree: OncoTreeLike, patient_code: str, criterion_code: str) -> bool:
    """Whether a patient's diagnosis lies in the subtree the criterion names.

    A criterion on a node matches that node and all its descendants; a patient diagnosed at a
    parent node (``NSCLC``) does not match a child criterion (``LUAD``), as in MatchMiner.
    """
    if criterion_code == SOLID:
        return is_solid(tree, patient_code)
    if criterion_code == LIQUID:
        return is_liquid(tree, patient_code)
    return criterion_code in ancestors(tree, patient_code)
