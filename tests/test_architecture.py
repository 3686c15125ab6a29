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


#: The layers from the bottom up (ARCHITECTURE.md): a package may import only itself, the shared base
#: modules and the packages listed for it. ``problem`` <- ``plan`` <- {``packing``, ``routing``} <-
#: ``planning`` <- ``service`` <- {``cli``, ``ui``}; ``packing`` and ``routing`` never import each other.
BASE = ("ltc_scheduler.enums", "ltc_scheduler.errors")
ALLOWED: dict[str, tuple[str, ...]] = {
    "problem": (),
    "plan": ("problem",),
    "packing": ("problem", "plan"),
    "routing": ("problem", "plan"),
    "planning": ("problem", "plan", "packing", "routing"),
    "db": ("problem", "plan", "config"),
}
#: What the outer layers may never import, whatever else they use.
FORBIDDEN_OUTSIDE: dict[str, tuple[str, ...]] = {
    "viz": ("streamlit", "ortools", "ltc_scheduler.db", "ltc_scheduler.service", "ltc_scheduler.ui"),
    "exports": (
        "streamlit",
        "ortools",
        "ltc_scheduler.service",
        "ltc_scheduler.ui",
        "ltc_scheduler.planning",
    ),
    "importers": (
        "streamlit",
        "ortools",
        "ltc_scheduler.service",
        "ltc_scheduler.ui",
        "ltc_scheduler.planning",
    ),
    "ui": (
        "ortools",
        "ltc_scheduler.packing",
        "ltc_scheduler.routing",
        "ltc_scheduler.planning",
        "ltc_scheduler.commands",
        "ltc_scheduler.cli",
    ),
    "commands": (
        "ortools",
        "streamlit",
        "ltc_scheduler.ui",
        "ltc_scheduler.packing",
        "ltc_scheduler.routing",
    ),
}
THIRD_PARTY_PURE = ("ortools", "streamlit", "sqlmodel", "sqlalchemy")


def _crossings(pkg: str) -> list[str]:
    mine = "ltc_scheduler." + pkg
    ok = (mine, *BASE, *("ltc_scheduler." + a for a in ALLOWED[pkg]))
    bad = []
    for f in _files(pkg):
        for mod in _imports(f):
            if mod == "ltc_scheduler" or not (
                mod.startswith("ltc_scheduler.")
                or mod in THIRD_PARTY_PURE
                or mod.split(".")[0] in THIRD_PARTY_PURE
            ):
                continue
            if mod.split(".")[0] in THIRD_PARTY_PURE:
                if pkg == "db" and mod.split(".")[0] in ("sqlmodel", "sqlalchemy"):
                    continue
                if pkg in ("packing", "routing") and mod.startswith("ortools"):
                    continue
                bad.append(f"{f.relative_to(PKG.parent)} imports {mod}")
                continue
            if not any(mod == p or mod.startswith(p + ".") for p in ok):
                bad.append(f"{f.relative_to(PKG.parent)} imports {mod}")
    return bad


@pytest.mark.parametrize("pkg", sorted(ALLOWED))
def test_inner_packages_import_only_below(pkg: str) -> None:
    assert _files(pkg), f"nothing found under {pkg}"
    assert _crossings(pkg) == []


@pytest.mark.parametrize(("where", "forbidden"), sorted(FORBIDDEN_OUTSIDE.items()))
def test_outer_layers(where: str, forbidden: tuple[str, ...]) -> None:
    files = _files(where)
    assert files, f"nothing found under {where}"
    assert _offending(files, forbidden) == []


def test_no_module_reaches_into_the_outer_layers() -> None:
    """Nothing below ``service`` imports the service, the CLI or the dashboard."""
    below = [f for pkg in (*ALLOWED, "viz", "exports", "importers") for f in _files(pkg)]
    outer = ("ltc_scheduler.service", "ltc_scheduler.cli", "ltc_scheduler.commands", "ltc_scheduler.ui")
    assert _offending(below, outer) == []


def test_routing_api_imported_in_routing_model_and_search_only() -> None:
    """The model (built one rule at a time) and the search are the only users of OR-Tools' routing API."""
    users = sorted(
        str(f.relative_to(PKG.parent))
        for f in PKG.rglob("*.py")
        if any(m.startswith("ortools.constraint_solver") for m in _imports(f))
    )
    assert users == ["ltc_scheduler/routing/model.py", "ltc_scheduler/routing/search.py"]


def test_the_rule_checker_catches_a_crossing(tmp_path: Path) -> None:
    """The checker itself must be able to fail: a file importing the DB is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ltc_scheduler.db import models\nimport ortools.sat.python.cp_model\n")
    tree_imports = _imports(bad)
    assert tree_imports == {"ltc_scheduler.db", "ortools.sat.python.cp_model"}


def test_the_package_rule_catches_a_crossing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A routing module importing packing (or the database) is reported by the package rule."""
    fake = tmp_path / "ltc_scheduler"
    (fake / "routing").mkdir(parents=True)
    (fake / "routing" / "bad.py").write_text(
        "from ltc_scheduler.packing.solve import solve_packing\nfrom ltc_scheduler.plan.model import Plan\n"
    )
    monkeypatch.setattr(__import__(__name__), "PKG", fake, raising=False)
    globals()["PKG"], old = fake, PKG
    try:
        assert _crossings("routing") == ["ltc_scheduler/routing/bad.py imports ltc_scheduler.packing.solve"]
    finally:
        globals()["PKG"] = old
