"""Layering: only ctop_py.ui imports Textual or Rich (DESIGN.md, "The UI is the only package
that imports Textual or Rich"); the rest of ctop-py works without them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ctop_py"
UI_ONLY = ("textual", "rich")


def imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def test_no_module_outside_the_ui_imports_textual_or_rich() -> None:
    offenders = []
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui":
            continue
        checked += 1
        for module in imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if module.split(".")[0] in UI_ONLY:
                offenders.append(f"{relative}: {module}")
    assert checked > 5
    assert offenders == []


def test_the_ui_does_import_them() -> None:
    """The check above sees imports at all: the UI's own modules are found to import Textual."""
    app = ast.parse((PACKAGE / "ui" / "app.py").read_text(encoding="utf-8"))
    assert any(m.split(".")[0] == "textual" for m in imported_modules(app))
