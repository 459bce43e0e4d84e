"""The apps import each other only at module level, where import-linter sees the layering.

import-linter (``[tool.importlinter]`` in pyproject.toml) checks that the apps form layers:
an app imports only the apps below it. It counts imports inside functions too, so a function
-local import is no way around the contract; it only hides the dependency from a reader. This
test therefore refuses any function-local import of ``oncotrials.apps.X`` inside
``oncotrials.apps.Y`` (X != Y).

There is no exception, not even ``AppConfig.ready``: an app registers itself with the apps
below it (record types and casebook providers with crfs, record listeners with ``crfs.hooks``,
visit evidence with subjects) in its own ``wiring.py``, whose imports sit at module level; its
``ready()`` only imports that module of its own app (Django wants models imported after the
app registry is ready).
"""

from __future__ import annotations

import ast
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "src" / "oncotrials" / "apps"


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["oncotrials", "apps"]:
        return parts[2]
    return None


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: inside the same app
        return []
    return [node.module or ""]


def _is_ready(function: ast.AST, parents: list[ast.AST]) -> bool:
    return (
        isinstance(function, ast.FunctionDef)
        and function.name == "ready"
        and bool(parents)
        and isinstance(parents[-1], ast.ClassDef)
    )


def _local_imports(tree: ast.Module) -> list[tuple[int, str, bool]]:
    """(line, imported module, inside AppConfig.ready) of every import inside a function."""
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, parents: list[ast.AST], function: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and function is not None:
                ready = _is_ready(function, parents[: parents.index(function)])
                found.extend((child.lineno, name, ready) for name in _imported(child))
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else None
            visit(child, [*parents, child], inner or function)

    visit(tree, [tree], None)
    return found


def function_local_imports_between_apps() -> list[str]:
    problems: list[str] = []
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        app = path.relative_to(APPS).parts[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module, _in_ready in _local_imports(tree):
            other = _app_of(module)
            if other is not None and other != app:
                problems.append(f"{path.relative_to(APPS.parent)}:{line} imports {module}")
    return problems


def test_no_function_local_import_between_apps() -> None:
    problems = function_local_imports_between_apps()
    assert not problems, (
        "Import other apps at module level (the layers contract then checks the direction), "
        "or invert the dependency with a registry the higher app fills from its wiring.py:\n  "
        + "\n  ".join(problems)
    )


def test_the_check_sees_function_local_imports_and_spares_ready() -> None:
    source = (
        "from oncotrials.apps.trials.models import Trial\n"
        "class Config:\n"
        "    def ready(self):\n"
        "        from oncotrials.apps.crfs.records import record_type_register\n"
        "def view():\n"
        "    from oncotrials.apps.subjects.selectors import inclusion_figures\n"
        "    def inner():\n"
        "        import oncotrials.apps.safety.dlt_review\n"
        "    from . import models\n"
    )
    assert _local_imports(ast.parse(source)) == [
        (4, "oncotrials.apps.crfs.records", True),
        (6, "oncotrials.apps.subjects.selectors", False),
        (8, "oncotrials.apps.safety.dlt_review", False),
    ]
