"""Why a file is not audited: the kinds and Dutch reasons of ``schemas/bestanden.toml``.

Like frictionless-py's error classes: every refusal is an entry with a short kind and a
template; the reader refers to it by key (:meth:`FileReasons.unreadable`).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from kvcompliance.catalogue.load import _require, read_toml, schemas_dir
from kvcompliance.errors import CatalogueError, UnreadableFile
from kvcompliance.text import quoted

#: Why a file was not audited: its kinds, reasons and the words they use (schemas/bestanden.toml).
FILES_FILE = "bestanden.toml"


@dataclass(frozen=True)
class FileReason:
    """One reason a file is not audited: its short kind and its Dutch text with placeholders."""

    key: str
    kind: str  # the short Dutch category the overview and the log show: 'te groot', 'beveiligd', ...
    template: str


@dataclass(frozen=True)
class FileReasons:
    """Every reason the reader (and the audit) gives for not auditing a file."""

    kinds: Mapping[str, str]  # kind -> what it means (Dutch)
    reasons: Mapping[str, FileReason]
    phrases: Mapping[str, str]  # [zin]: sentences a template may name, filled in everywhere
    what: Mapping[str, str]  # [wat]: what a file is ('een pdf-document')
    causes: Mapping[str, str]  # [oorzaak]: why a file could not be opened ('geen leesrechten')

    def text(self, key: str, **values: Any) -> str:
        """The Dutch reason ``key`` with its placeholders filled in."""
        return self.reasons[key].template.format_map({**self.phrases, **values})

    def kind(self, key: str) -> str:
        return self.reasons[key].kind

    def describe(self, what: str, **values: Any) -> str:
        """What a file is, in Dutch ([wat]); ``values`` fill its placeholders."""
        return self.what[what].format_map(values)

    def unreadable(self, key: str, **values: Any) -> UnreadableFile:
        """The exception that refuses a file for reason ``key``."""
        return UnreadableFile(self.text(key, **values), self.kind(key))


def _build_file_reasons(data: dict[str, Any], where: str) -> FileReasons:
    kinds = {}
    for i, raw in enumerate(data.get("soort", []), start=1):
        _require(isinstance(raw, dict) and isinstance(raw.get("key"), str), f"{where}, soort {i}", "key ontbreekt")
        _require(raw["key"] not in kinds, f"{where}, soort {raw['key']}", "deze soort komt twee keer voor")
        kinds[raw["key"]] = str(raw.get("betekenis", ""))
    tables = {}
    for table in ("zin", "wat", "oorzaak"):
        tables[table] = data.get(table, {})
        _require(all(isinstance(v, str) for v in tables[table].values()), f"{where}, [{table}]", "elke waarde moet tekst zijn")
    reasons = {}
    for key, raw in data.get("reden", {}).items():
        here = f"{where}, reden {key}"
        _require(isinstance(raw, dict) and isinstance(raw.get("tekst"), str), here, "tekst ontbreekt")
        _require(raw.get("soort") in kinds, here, f"onbekende soort {quoted(raw.get('soort'))} (bekend: {', '.join(kinds)})")
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(raw["tekst"]) if name}
        except ValueError as exc:
            raise CatalogueError(f"{here}: de tekst is geen geldig sjabloon ({exc})") from None
        _require(all(name.isidentifier() for name in names), here, "gebruik {naam} voor een waarde die wordt ingevuld")
        reasons[key] = FileReason(key, raw["soort"], raw["tekst"])
    return FileReasons(
        kinds=MappingProxyType(kinds),
        reasons=MappingProxyType(reasons),
        phrases=MappingProxyType(dict(tables["zin"])),
        what=MappingProxyType(dict(tables["wat"])),
        causes=MappingProxyType(dict(tables["oorzaak"])),
    )


@lru_cache(maxsize=1)
def load_file_reasons() -> FileReasons:
    """The reasons for not auditing a file, read once from ``schemas/bestanden.toml``."""
    return _build_file_reasons(read_toml(schemas_dir() / FILES_FILE), FILES_FILE)
