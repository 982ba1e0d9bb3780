"""The reader as a package: small modules, imported one way, refusing only by catalogue key."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from kvcompliance.catalogue import load_file_reasons

ROOT = Path(__file__).resolve().parent.parent / "kvcompliance"
PACKAGE = ROOT / "ingest"
MODULES = sorted(PACKAGE.glob("*.py"))


def module_name(path: Path) -> str:
    return "kvcompliance.ingest" if path.stem == "__init__" else f"kvcompliance.ingest.{path.stem}"


def imported(path: Path) -> set[str]:
    """The modules of the package that ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name == "kvcompliance.ingest" or name.startswith("kvcompliance.ingest."))
    known = {module_name(m) for m in MODULES}
    return {name for name in found if name in known} - {module_name(path)}


def test_every_module_is_small():
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in MODULES}
    assert max(sizes.values()) < 500, sizes


def test_the_modules_import_each_other_one_way():
    graph = {module_name(path): imported(path) for path in MODULES}
    assert "kvcompliance.ingest" not in set().union(*(graph[m] for m in graph if m != "kvcompliance.ingest"))
    done: list[str] = []
    while len(done) < len(graph):  # peel off modules whose imports are all done; a cycle stops this
        ready = sorted(m for m, needs in graph.items() if m not in done and needs <= set(done))
        assert ready, f"import cycle among {sorted(set(graph) - set(done))}"
        done.extend(ready)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_every_module_imports_on_its_own(path):
    result = subprocess.run([sys.executable, "-c", f"import {module_name(path)}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _keys_named(calls: set[str], argument: int) -> set[str]:
    """The keys that argument ``argument`` of a call to one of ``calls`` in the reader names."""
    keys = set()
    for path in [*MODULES, ROOT / "tabular.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) <= argument:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in calls:
                keys.update(_outcomes(node.args[argument]))
    return keys


def _outcomes(node: ast.expr) -> set[str]:
    """The strings an argument can be: a constant, or either side of ``a if ... else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _outcomes(node.body) | _outcomes(node.orelse)
    return set()


def test_every_reason_the_reader_names_is_in_the_catalogue():
    reasons = load_file_reasons()
    named = _keys_named({"refusal", "unreadable", "kind_of"}, 0) | _keys_named({"_rejected"}, 1)
    assert len(named) > 30
    assert named <= set(reasons.reasons), named - set(reasons.reasons)
    described = _keys_named({"not_spreadsheet", "describe"}, 0)
    from kvcompliance.ingest.sniff import EXTENSIONS, MAGIC

    described |= set(EXTENSIONS.values()) | {what for _, what in MAGIC}
    assert described <= set(reasons.what), described - set(reasons.what)


def test_every_reason_gets_the_values_its_text_names():
    """refusal("werkblad_te_groot", werkblad=..., miljoen=...) fills exactly the text's placeholders."""
    import string

    reasons = load_file_reasons()
    checked = 0
    for path in [*MODULES, ROOT / "tabular.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            argument = {"refusal": 0, "unreadable": 0, "_rejected": 1}.get(name)
            if argument is None or len(node.args) <= argument or any(k.arg is None for k in node.keywords):
                continue
            given = {k.arg for k in node.keywords}
            for key in _outcomes(node.args[argument]):
                template = reasons.reasons[key].template
                wanted = {field for _, field, _, _ in string.Formatter().parse(template) if field} - set(reasons.phrases)
                assert given == wanted, f"{path.name}: {key} gets {sorted(given)}, its text names {sorted(wanted)}"
                checked += 1
    assert checked > 40
