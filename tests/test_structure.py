"""The code base keeps its structural promises: public library APIs only, modest modules."""

from __future__ import annotations

import ast
import re
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


#: Classes a library documents as the way to extend it (click: a command class with its own
#: context and help formatter, parameter types of one's own).
EXTENSION_POINTS = {"click.HelpFormatter", "click.Context", "click.Command", "click.Group", "click.ParamType"}


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
                    if name in imported and ast.unparse(base) not in EXTENSION_POINTS:
                        offences.append(f"{path.name}: class {node.name}({ast.unparse(base)})")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and ast.unparse(target).split(".")[0] in imported:
                    offences.append(f"{path.name}: {ast.unparse(target)} = ...")
    assert offences == []



def test_no_library_module_is_reached_by_name_and_patched():
    """No importlib or setattr around a library's modules (how click was once 'translated')."""
    offences = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("importlib.import_module", "setattr"):
                text = ast.unparse(node)
                if any(library in text for library in LIBRARIES):
                    offences.append(f"{path.name}: {text}")
    assert offences == []


def test_no_module_is_too_large():
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}


#: A word between quote marks other than the ‘…’ of kvcompliance.text.quoted: 'x', "x", „x”, “x”.
_OTHER_QUOTES = re.compile(r"(?:^|[\s(:])'[^'\s][^']{0,60}'(?=$|[\s).,;:!?])|(?:^|[\s(:])\"[^\"\s][^\"]{0,60}\"(?=$|[\s).,;:!?])|[„“”]")
#: Strings that are not Dutch sentences: SQL, a Content-Security-Policy, tomllib's English
#: messages matched to translate them, and TOML the officer is told to type literally.
_NOT_PROSE = ("SELECT ", "CREATE TABLE", "default-src", "Expected ", "Illegal character", "Unescaped",
              'moet "alle" zijn', '(bijvoorbeeld "verbeterplan")', "--help' voor hulp")  # the last: a command to type


def _texts(tree: ast.Module) -> list[tuple[int, str]]:
    """Every string of a module but its docstrings; an f-string with X for each {value}."""
    skip = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip |= {id(part) for part in node.values}
            texts.append((node.lineno, "".join(p.value if isinstance(p, ast.Constant) else "X" for p in node.values)))
    texts += [(node.lineno, node.value) for node in ast.walk(tree)
              if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]
    return texts


def test_code_quotes_a_label_or_a_typed_value_the_one_dutch_way():
    offences = [f"{path.name}:{line}: {text[:80]}" for path, tree in _modules() for line, text in _texts(tree)
                if _OTHER_QUOTES.search(text) and not any(mark in text for mark in _NOT_PROSE)]
    assert offences == []
