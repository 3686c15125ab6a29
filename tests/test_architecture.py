"""Import rules from ARCHITECTURE.md: data flows one way, and each layer imports only what it may.

Parses the source with ``ast`` (nothing is imported), so the test is fast and fails on the first
import that crosses a boundary, naming the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "ltc_scheduler"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


#: ``problem/builder.py`` is the one bridge from DB rows to problem objects (ARCHITECTURE.md), so it
#: is the single file under ``problem/`` allowed to read the database.
BRIDGES = {PKG / "problem" / "builder.py"}


def _files(*parts: str) -> list[Path]:
    target = PKG.joinpath(*parts)
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return [f for f in files if f not in BRIDGES]


def _offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for f in files:
        for mod in _imports(f):
            if any(mod == p or mod.startswith(p + ".") for p in forbidden):
                bad.append(f"{f.relative_to(PKG.parent)} imports {mod}")
    return bad


RULES = [
    (("problem",), ("ltc_scheduler.db", "ortools", "streamlit", "sqlmodel", "sqlalchemy")),
    (("plan", "model.py"), ("ltc_scheduler.db", "ortools", "streamlit", "sqlmodel", "sqlalchemy")),
    (("solvers",), ("ltc_scheduler.db", "ltc_scheduler.ui", "streamlit", "sqlmodel", "sqlalchemy")),
    (("ui",), ("ortools", "ltc_scheduler.solvers")),
    (("viz",), ("streamlit", "ortools", "ltc_scheduler.db")),
    (("exports",), ("streamlit", "ortools")),
]


@pytest.mark.parametrize(("where", "forbidden"), RULES, ids=["/".join(r[0]) for r in RULES])
def test_layer_imports(where: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    files = _files(*where)
    assert files, f"nothing found under {where}"
    assert _offending(files, forbidden) == []


def test_routing_api_imported_in_one_module_only() -> None:
    users = [
        str(f.relative_to(PKG.parent))
        for f in PKG.rglob("*.py")
        if any(m.startswith("ortools.constraint_solver") for m in _imports(f))
    ]
    assert users == ["ltc_scheduler/solvers/routing.py"]


def test_the_rule_checker_catches_a_crossing(tmp_path: Path) -> None:
    """The checker itself must be able to fail: a file importing the DB is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ltc_scheduler.db import models\nimport ortools.sat.python.cp_model\n")
    tree_imports = _imports(bad)
    assert tree_imports == {"ltc_scheduler.db", "ortools.sat.python.cp_model"}
