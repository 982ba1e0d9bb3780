"""Why an inbox entry is skipped on purpose: the kinds and their Dutch reasons, from
``schemas/overgeslagen.toml`` (the code names only the kind keys).

Standard library only. :func:`skip_reason` fills a reason in; ``discover`` in the ingest
package gives every skipped entry one, so nothing in the inbox goes unaccounted for.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from kvcompliance.catalogue.load import read_toml, schemas_dir
from kvcompliance.errors import CatalogueError
from kvcompliance.text import quoted

SKIPPED_FILE = "overgeslagen.toml"
#: The placeholders a reason may use.
PLACEHOLDERS = frozenset({"naam", "doel", "wat", "fout"})

# The kinds the code chooses between (each must be in the file; a test checks both ways).
EARLIER_OUTPUT = "eerdere uitvoer"
WORK_FILE = "werkbestand"
DOSSIER = "dossier"
INPUT_FILE = "invoer"
OFFICE_LOCK = "tijdelijk bestand"
HIDDEN = "verborgen"
SYSTEM_FILE = "systeembestand"
LINK = "snelkoppeling"
SPECIAL = "speciaal bestand"
EMPTY_FOLDER = "lege map"
UNREADABLE_FOLDER = "map niet leesbaar"
KINDS = (EARLIER_OUTPUT, WORK_FILE, DOSSIER, INPUT_FILE, OFFICE_LOCK, HIDDEN, SYSTEM_FILE, LINK, SPECIAL, EMPTY_FOLDER, UNREADABLE_FOLDER)
SPECIAL_KINDS = ("fifo", "socket", "apparaat", "onbekend")
#: The files a run is given besides the inbox (for ``{wat}`` of :data:`INPUT_FILE`).
INPUT_KINDS = ("contracten", "regels", "instellingen")


@dataclass(frozen=True)
class SkipKind:
    kind: str
    title: str
    reason: str  # a template: {naam}, {doel}, {wat}, {fout}


@dataclass(frozen=True)
class SkipCatalogue:
    kinds: Mapping[str, SkipKind]
    special: Mapping[str, str]  # fifo / socket / apparaat / onbekend -> Dutch words
    inputs: Mapping[str, str]  # contracten / regels / instellingen -> Dutch words
    notes: Mapping[str, str]


@functools.cache
def skip_catalogue() -> SkipCatalogue:
    path = schemas_dir() / SKIPPED_FILE
    data = read_toml(path)
    kinds = {}
    for entry in data.get("overgeslagen", []):
        kind = SkipKind(str(entry["soort"]), str(entry["titel"]), str(entry["reden"]))
        unknown = {name for _, name, _, _ in string.Formatter().parse(kind.reason) if name is not None} - PLACEHOLDERS
        if unknown:
            raise CatalogueError(f"{SKIPPED_FILE}: onbekende plaatshouder {', '.join(sorted(unknown))} bij {quoted(kind.kind)}.")
        kinds[kind.kind] = kind
    missing = set(KINDS) - set(kinds)
    if missing:
        raise CatalogueError(f"{SKIPPED_FILE} mist de soort(en) {', '.join(sorted(missing))}.")
    inputs = dict(data.get("invoer", {}))
    if set(inputs) != set(INPUT_KINDS):
        raise CatalogueError(f"{SKIPPED_FILE}: [invoer] hoort precies {', '.join(INPUT_KINDS)} te noemen.")
    return SkipCatalogue(MappingProxyType(kinds), MappingProxyType(dict(data.get("speciaal", {}))),
                         MappingProxyType(inputs), MappingProxyType(dict(data.get("opmerkingen", {}))))


def skip_reason(kind: str, **values: str) -> str:
    """The Dutch reason for skipping an entry of ``kind``, filled in; placeholders the
    caller does not give stay empty."""
    template = skip_catalogue().kinds[kind].reason
    return template.format_map({name: values.get(name, "") for name in PLACEHOLDERS})


def special_kind(mode: int) -> str:
    """The Dutch words for a special file (``os.lstat(...).st_mode``), for ``{wat}``."""
    import stat

    key = "fifo" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else (
        "apparaat" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "onbekend")
    return skip_catalogue().special[key]


def input_kind(key: str) -> str:
    """The Dutch words for an input file of the run (``contracten``, ``regels``,
    ``instellingen``), for ``{wat}``."""
    return skip_catalogue().inputs[key]
