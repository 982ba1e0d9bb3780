"""Raw returns -> one typed DataFrame (one row per return) plus the values not understood.

Types are converted here, by the catalogue's field types, rather than by pandera coercion:
a value that is not understood becomes a :class:`FieldIssue` and an empty cell, so the
other checks on that column still run.
"""

from __future__ import annotations

from datetime import date
from typing import Iterable

import pandas as pd

from kvcompliance.catalogue import Catalogue, Field
from kvcompliance.model import FieldIssue, ReturnRecord
from kvcompliance.text import squash
from kvcompliance.values import NotUnderstood, parser_for, raw_text

#: pandas dtype per catalogue field type (nullable dtypes: empty stays empty).
DTYPES = {
    "tekst": "string",
    "code": "string",
    "email": "string",
    "sector": "string",
    "janeenvt": "string",
    "jaar": "Int64",
    "geheel": "Int64",
    "getal": "Float64",
    "janee": "boolean",
    "datum": "datetime64[ns]",
}

#: Extra, non-form columns the frame may carry (e.g. from the contract register).
EXTRA_COLUMNS = {"verwacht_aantal_signalen": "Float64"}


def sector_lookup(catalogue: Catalogue) -> dict[str, str]:
    """Every way a sector may be typed (key, label, common abbreviations) -> sector key."""
    lookup = {}
    for sector in catalogue.sectors:
        lookup[squash(sector.key)] = sector.key
        lookup[squash(sector.label)] = sector.key
    lookup.setdefault("jeugdzorg", "jeugdhulp")
    lookup.setdefault("jgz", "jgz")
    lookup.setdefault("jeugdgezondheid", "jgz")
    lookup.setdefault("maatschappelijkeondersteuning", "wmo")
    lookup.setdefault("sportvereniging", "sport")
    lookup.setdefault("overige", "overig")
    return {k: v for k, v in lookup.items() if v in {s.key for s in catalogue.sectors}}


def _parse_column(field: Field, records: list[ReturnRecord], issues: list[FieldIssue], sectors: dict[str, str]) -> list:
    parse = parser_for(field.type, field.digits)
    out = []
    for record in records:
        raw = record.values.get(field.key)
        try:
            value = parse(raw)
            if value is not None and field.type == "sector":
                key = sectors.get(squash(value))
                if key is None:
                    raise NotUnderstood(f"'{value}' is geen bekende sector")
                value = key
            if value is not None and field.type == "datum" and not 1900 <= value.year <= 2100:
                raise NotUnderstood(f"'{raw_text(raw)}' is geen geldige datum")
        except NotUnderstood as exc:
            issues.append(FieldIssue(record.return_id, field.key, raw_text(raw), exc.reason))
            value = None
        out.append(value)
    return out


def normalise(
    records: Iterable[ReturnRecord],
    catalogue: Catalogue,
    extra: dict[str, dict[str, object]] | None = None,
) -> tuple[pd.DataFrame, list[FieldIssue]]:
    """Build the typed frame (index ``return_id``) and the list of values not understood.

    ``extra`` maps a column in :data:`EXTRA_COLUMNS` to values per return id.
    """
    records = list(records)
    issues: list[FieldIssue] = []
    sectors = sector_lookup(catalogue)
    index = pd.Index([r.return_id for r in records], name="return_id", dtype="string")
    columns = {}
    for field in catalogue.fields:
        values = _parse_column(field, records, issues, sectors)
        dtype = DTYPES[field.type]
        if field.type == "datum":
            values = [pd.Timestamp(v) if isinstance(v, date) else pd.NaT for v in values]
        columns[field.key] = pd.Series(values, index=index, dtype=dtype if field.type != "datum" else "datetime64[ns]")
    for column, dtype in EXTRA_COLUMNS.items():
        given = (extra or {}).get(column, {})
        columns[column] = pd.Series([given.get(r.return_id) for r in records], index=index, dtype=dtype)
    frame = pd.DataFrame(columns, index=index)
    return frame, issues
