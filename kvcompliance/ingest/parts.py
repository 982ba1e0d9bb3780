"""The XML parts of a provider's package, parsed safely (no entity expansion, no tree).

Small parts (.rels, workbook.xml) go through defusedxml's parser; the large content.xml of
an .ods file through an expat parser with the same refusals, fed to handlers.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import Any
from xml.parsers import expat

from kvcompliance.ingest.containers import read_part


def local(tag: str) -> str:
    """The local part of a namespaced name (``{uri}local`` or ``uri}local``)."""
    return tag[tag.rfind("}") + 1 :]


def _refuse_entities(*args: Any) -> None:
    raise ValueError("entities are not allowed")


def safe_parser(namespace_separator: str) -> Any:
    """An expat parser for a large XML part of a provider's file (an .ods file's
    content.xml), used with handlers (no tree); small parts go through defusedxml
    (:func:`parse_package_part`).

    As defusedxml does, it refuses entity declarations (billion laughs) and external
    entities; an entity reference it cannot resolve is refused too, as ElementTree does.
    Raises ValueError (or an expat error) on such or otherwise bad XML.
    """
    parser = expat.ParserCreate(namespace_separator=namespace_separator)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    parser.SkippedEntityHandler = _refuse_entities
    parser.buffer_text = True
    return parser


def parse_package_part(data: bytes, target: Any) -> None:
    """Feed a small XML part of a provider's file (.rels, workbook.xml) to ``target``
    (``start(tag, attrib)``, ``end(tag)``, ``data(text)``), without building a tree.

    defusedxml's parser refuses entity declarations (billion laughs) and external
    entities; an undefined entity is a parse error. Raises on such or otherwise bad XML.
    Elements go from its expat parser straight to ``target`` (tags as ``uri}local``):
    ElementTree's own layer in between took most of the time of reading a return's names.
    """
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=target).parser  # the expat parser, defusedxml's refusals installed
    parser.ordered_attributes = False
    parser.StartElementHandler = target.start
    parser.EndElementHandler = target.end
    parser.Parse(data, True)


class _RelationshipElements:
    """Collects the attributes of each Relationship element (a child of the root) of a .rels part."""

    def __init__(self, data: bytes):
        self.found: list[dict[str, str]] = []
        self._depth = 0
        parse_package_part(data, self)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth == 2 and local(tag) == "Relationship":
            self.found.append(attrs)

    def end(self, tag: str) -> None:
        self._depth -= 1

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def relationship_elements(data: bytes) -> list[dict[str, str]]:
    """The attributes of each Relationship element (a child of the root) of a .rels part."""
    return _RelationshipElements(data).found


def relationships(archive: zipfile.ZipFile, members: set[str], part: str) -> dict[str, str]:
    """Relationship id -> target part (resolved to a path in the zip) of ``part``."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in members:
        return {}
    targets = {}
    for rel in relationship_elements(read_part(archive, rels)):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        targets[rel.get("Id") or ""] = resolved
    return targets


def workbook_part(archive: zipfile.ZipFile, members: set[str]) -> str | None:
    """The workbook part of an OOXML spreadsheet, via the package relationships."""
    if "_rels/.rels" in members:
        for rel in relationship_elements(read_part(archive, "_rels/.rels")):
            if (rel.get("Type") or "").endswith("/officeDocument"):
                target = (rel.get("Target") or "").lstrip("/")
                if target in members:
                    return target
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if candidate in members:
            return candidate
    return None
