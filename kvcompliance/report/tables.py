"""Plain rows shared by several outputs, defined once.

``findings_rows`` is the Bevindingen table: the overview sheet and the CSV both write it,
so its columns and their order exist only here. ``identity`` is how a return is named
(organisation, KvK-nummer, sector, ...) in every output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, Iterator

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult, ReturnRecord
from kvcompliance.values import raw_text

UNKNOWN = "onbekend"

#: The columns of the Bevindingen table (sheet and CSV), in order.
FINDINGS_COLUMNS = (
    "aanbieder",
    "kvk_nummer",
    "contractnummer",
    "regel",
    "omschrijving",
    "status",
    "waarde",
    "norm",
    "toelichting",
    "bestand",
)


def plain(value: Any) -> Any:
    """A frame cell as a plain Python value; NA, NaN and NaT become ``None``."""
    if value is None:
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return plain(value.item())
    if isinstance(value, datetime) and type(value) is not datetime:  # pandas Timestamp
        return value.to_pydatetime() if hasattr(value, "to_pydatetime") else datetime.fromisoformat(value.isoformat())
    return value


def typed_value(result: AuditResult, record: ReturnRecord, key: str) -> Any:
    """The normalised value of a field (from the frame), else the raw value, else ``None``."""
    frame = result.frame
    value = None
    if frame is not None and key in getattr(frame, "columns", ()):
        try:
            value = plain(frame.at[record.return_id, key])
        except (KeyError, ValueError):
            value = None
    if value is None:
        raw = record.values.get(key)
        value = None if raw is None or (isinstance(raw, str) and not raw.strip()) else raw
        if isinstance(value, float) and math.isnan(value):
            value = None
    return value


def display(value: Any) -> str:
    """A value as short Dutch text for identity columns ('' when empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return raw_text(value)
    return str(value).strip()


@dataclass(frozen=True)
class Identity:
    """How a return is named in every output."""

    return_id: str
    name: str  # '' when unknown
    kvk: str
    contract: str
    sector_key: str | None  # a catalogue sector key, or None when missing/unknown
    sector_label: str
    obligation: str
    year: int | str | None  # int when understood, else the text as typed
    source: str  # input file path relative to the inbox
    source_name: str  # file name only


def identity(result: AuditResult, record: ReturnRecord) -> Identity:
    """How ``record`` is named in every output (see :func:`identities`)."""
    who = identities(result).get(record.return_id)
    if who is None or who.source != record.source.path:  # a record not in result.returns
        return _identity(result, record, _Typed(result, record))
    return who


def identities(result: AuditResult) -> dict[str, Identity]:
    """Return id -> :class:`Identity` of every return, computed once per result.

    The frame is read column by column (one lookup per value in ``frame.at`` costs about
    a millisecond per return, in every output that names returns).
    """
    token = (id(result.frame), id(result.returns), len(result.returns))
    cached = result.extra.get("_identities")
    if cached is not None and cached[0] == token:
        return cached[1]
    columns: dict[str, dict[Any, Any]] = {}
    frame = result.frame
    if frame is not None and result.returns:
        for key in _IDENTITY_FIELDS:
            if key in getattr(frame, "columns", ()):
                columns[key] = dict(zip(frame.index, frame[key].tolist()))
    found = {
        record.return_id: _identity(result, record, _Typed(result, record, columns)) for record in result.returns
    }
    result.extra["_identities"] = (token, found)
    return found


def record_of(result: AuditResult, return_id: str) -> ReturnRecord | None:
    """The return with id ``return_id`` (an index built once per result), or None."""
    token = (id(result.returns), len(result.returns))
    cached = result.extra.get("_returns_by_id")
    if cached is None or cached[0] != token:
        cached = result.extra["_returns_by_id"] = (token, {r.return_id: r for r in result.returns})
    return cached[1].get(return_id)


_IDENTITY_FIELDS = ("sector", "verslagjaar", "aanbieder_naam", "kvk_nummer", "contractnummer")


class _Typed:
    """:func:`typed_value` for one record, from pre-read frame columns when given."""

    def __init__(self, result: AuditResult, record: ReturnRecord, columns: dict[str, dict[Any, Any]] | None = None):
        self.result, self.record, self.columns = result, record, columns

    def __call__(self, key: str) -> Any:
        if self.columns is None:
            return typed_value(self.result, self.record, key)
        value = None
        column = self.columns.get(key)
        if column is not None:
            value = plain(column.get(self.record.return_id))
        if value is None:
            raw = self.record.values.get(key)
            value = None if raw is None or (isinstance(raw, str) and not raw.strip()) else raw
            if isinstance(value, float) and math.isnan(value):
                value = None
        return value


def _identity(result: AuditResult, record: ReturnRecord, typed: Any) -> Identity:
    catalogue = result.catalogue
    sector_raw = display(typed("sector"))
    sector = catalogue.sector(sector_raw) if sector_raw else None
    if sector is None and sector_raw:
        sector = next((s for s in catalogue.sectors if s.label.lower() == sector_raw.lower()), None)
    if sector is not None:
        sector_label, obligation = sector.label, sector.obligation
    else:
        sector_label = f"{sector_raw} (onbekende sector)" if sector_raw else UNKNOWN
        obligation = "niet vast te stellen: de sector ontbreekt of is onbekend"
    year = typed("verslagjaar")
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if year is not None and not isinstance(year, int):
        year = display(year)
    return Identity(
        return_id=record.return_id,
        name=display(typed("aanbieder_naam")),
        kvk=display(typed("kvk_nummer")),
        contract=display(typed("contractnummer")),
        sector_key=sector.key if sector else None,
        sector_label=sector_label,
        obligation=obligation,
        year=year,
        source=record.source.path,
        source_name=PurePosixPath(record.source.path).name,
    )


@dataclass(frozen=True)
class FindingRow:
    """One row of the Bevindingen table: the status (for colour) and the cell texts."""

    status: Status
    cells: dict[str, str]  # column (FINDINGS_COLUMNS) -> text as shown; status = its label


def findings_rows(result: AuditResult) -> list[FindingRow]:
    """One row per return × rule, returns in input order, rules in catalogue order."""
    return list(iter_findings_rows(result))


def iter_findings_rows(result: AuditResult) -> Iterator[FindingRow]:
    """:func:`findings_rows` one row at a time (the writers stream them)."""
    catalogue = result.catalogue
    titles = {rule.id: rule.title for rule in catalogue.rules}
    labels = {info.status: info.label for info in catalogue.statuses}
    who_of = identities(result)
    for record in result.returns:
        who = who_of[record.return_id]
        for finding in result.findings_for(record.return_id):
            yield FindingRow(
                status=finding.status,
                cells={
                    "aanbieder": who.name,
                    "kvk_nummer": who.kvk,
                    "contractnummer": who.contract,
                    "regel": finding.rule_id,
                    "omschrijving": titles.get(finding.rule_id, ""),
                    "status": labels[finding.status],
                    "waarde": finding.value,
                    "norm": finding.norm,
                    "toelichting": finding.message,
                    "bestand": who.source,
                },
            )
