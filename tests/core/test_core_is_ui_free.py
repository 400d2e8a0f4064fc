"""The core is shared by the CLI and the TUI: it must never import textual or rich."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "tui" / "core"
FORBIDDEN = {"textual", "rich"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_no_ui_library():
    modules = sorted(CORE.rglob("*.py"))
    assert modules, "tui/core has no modules"
    offenders = {str(p.relative_to(CORE)): imported_roots(p) & FORBIDDEN for p in modules}
    assert {k: v for k, v in offenders.items() if v} == {}
