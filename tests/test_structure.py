"""The code base keeps its structural promises: public library APIs only, modest modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kvcompliance"
#: Third-party libraries whose internals the code must not reach into.
LIBRARIES = {"xlsxwriter", "openpyxl", "pandas", "pandera", "python_calamine", "defusedxml", "click", "olefile", "msoffcrypto", "numpy"}
#: Public submodules that may be imported from (the library documents them).
PUBLIC_SUBMODULES = {
    "xlsxwriter.utility", "xlsxwriter.exceptions", "openpyxl.utils", "pandera.pandas", "pandera.errors", "defusedxml.ElementTree",
    "defusedxml.common", "defusedxml.expatreader", "msoffcrypto.exceptions", "click.testing",
}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def _root(name: str) -> str:
    return name.split(".")[0]


def test_no_private_library_internals_are_imported():
    offences = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and _root(node.module) in LIBRARIES:
                if "." in node.module and node.module not in PUBLIC_SUBMODULES:
                    offences.append(f"{path.name}: from {node.module} import ...")
                offences += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _root(alias.name) in LIBRARIES and "." in alias.name and alias.name not in PUBLIC_SUBMODULES:
                        offences.append(f"{path.name}: import {alias.name}")
    assert offences == []


def test_no_library_class_is_subclassed_and_no_library_attribute_is_assigned():
    offences = []
    for path, tree in _modules():
        imported = {
            alias.asname or alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and _root((node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or "") in LIBRARIES
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    name = ast.unparse(base).split(".")[0]
                    if name in imported:
                        offences.append(f"{path.name}: class {node.name}({ast.unparse(base)})")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and ast.unparse(target).split(".")[0] in imported:
                    offences.append(f"{path.name}: {ast.unparse(target)} = ...")
    assert offences == []

