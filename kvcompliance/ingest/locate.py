"""Where each field of the form is: by the form's defined names (``kv_<key>``), and, when
those are missing (.xls, .csv, a copy-paste into another workbook, an older form), by the
field's key or Dutch label with the answer next to it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

from kvcompliance.catalogue import NAME_PREFIX, VERSION_NAME, Catalogue, Field
from kvcompliance.ingest.cells import cell
from kvcompliance.ingest.names import WorkbookNames
from kvcompliance.model import CellRef
from kvcompliance.text import squash

#: Where the label scan looks for the fields of the form (rows, columns from A1).
MAX_SCAN_ROWS = 1000
MAX_SCAN_COLS = 100
#: Longest cell text that can be a field's label.
MAX_LABEL_CHARS = 200


def locate_fields(names: WorkbookNames, catalogue: Catalogue) -> dict[str, CellRef]:
    """Where each field of the catalogue is: field key -> cell, by the ``kv_<key>`` names.

    Names that point to a sheet that does not exist are ignored. Fields not found are
    simply absent from the result.
    """
    sheets = {s.lower(): s for s in names.sheets}
    cells: dict[str, CellRef] = {}
    for fld in catalogue.fields:
        ref = names.names.get(fld.defined_name.lower())
        if isinstance(ref, CellRef) and (sheet := sheets.get(ref.sheet.lower())) is not None:
            cells[fld.key] = ref if ref.sheet == sheet else CellRef(sheet, ref.cell)
    return cells


@dataclass(frozen=True)
class LabelIndex:
    """How the fields of the form can be recognised in a sheet without defined names."""

    fields: Mapping[str, str]  # squashed key or label -> field key
    form_texts: frozenset[str]  # squashed texts of the form itself (labels, help) — never an answer

    @classmethod
    def of(cls, fields: Iterable[Field]) -> "LabelIndex":
        index: dict[str, str] = {}
        texts: set[str] = set()
        for fld in fields:
            for text in (fld.key, fld.label):
                index.setdefault(squash(text), fld.key)
            texts.update(squash(t) for t in (fld.key, fld.label, fld.help) if t)
        texts.discard("")
        index.pop("", None)
        return cls(index, frozenset(texts))


@lru_cache(maxsize=8)
def _label_index(fields: tuple[Field, ...]) -> LabelIndex:
    return LabelIndex.of(fields)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class LabelHit:
    """A field found by its label: where the label is and where its answer is (row, column)."""

    label: tuple[int, int]
    value: tuple[int, int]
    header: bool = False  # the label is in a header row, the answer below it


def scan_labels(
    grid: list[list[Any]],
    catalogue: Catalogue,
    merged: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> dict[str, LabelHit]:
    """Find the fields of the form in a sheet by their key (``kvk_nummer``) or Dutch label.

    A label matches without regard to case, accents, spacing and punctuation, with or
    without the form's trailing " *". The answer is the first non-empty cell in the two
    columns right of the label (right of the label's merged cells), unless that cell is
    text of the form itself (the help column): then the answer is empty. A row holding
    three or more labels is a header row (one return per row): the answers are in the row
    below.
    """
    index = _label_index(catalogue.fields)
    label_ends = {start: end[1] for start, end in merged if end[1] > start[1]}
    hits: dict[str, tuple[int, int]] = {}
    per_row: Counter[int] = Counter()
    for r, row in enumerate(grid[:MAX_SCAN_ROWS]):
        for c, value in enumerate(row[:MAX_SCAN_COLS]):
            if not isinstance(value, str) or not value or len(value) > MAX_LABEL_CHARS:
                continue
            key = index.fields.get(squash(value))
            if key is not None and key not in hits:
                hits[key] = (r, c)
                per_row[r] += 1
    found: dict[str, LabelHit] = {}
    for key, (r, c) in hits.items():
        if per_row[r] >= 3:  # a header row: the return is in the row below it
            found[key] = LabelHit((r, c), (r + 1, c), header=True)
            continue
        start = label_ends.get((r, c), c) + 1
        target = (r, start)
        for col in (start, start + 1):
            value = cell(grid, r, col)
            if _is_empty(value):
                continue
            if not (isinstance(value, str) and squash(value) in index.form_texts):
                target = (r, col)
            break  # an answer, or the form's own text (its help column): no answer given
        found[key] = LabelHit((r, c), target)
    return found


def csv_value(grid: list[list[Any]], hit: LabelHit) -> Any:
    """The answer in a ``,``-separated CSV row: an unquoted Dutch decimal (``fte,12,5``) is
    split over two cells; joined back it is what the provider typed."""
    r, c = hit.value
    value = cell(grid, r, c)
    if hit.header or not isinstance(value, str):
        return value
    rest = grid[r][c + 1 :] if r < len(grid) else []
    if rest and re.fullmatch(r"\s*[+-]?\d+\s*", value) and re.fullmatch(r"\d+", rest[0].strip() or "x"):
        if not any(v.strip() for v in rest[1:]):
            return f"{value.strip()},{rest[0].strip()}"
    return value


def most_common_sheet(cells: Mapping[str, CellRef]) -> str:
    """The sheet most of ``cells`` are on."""
    return Counter(ref.sheet for ref in cells.values()).most_common(1)[0][0]


#: How the form labels its version ('Formulierversie'), as :func:`squash` gives it.
VERSION_LABEL = squash(VERSION_NAME.removeprefix(NAME_PREFIX))
_VERSION_IN_TEXT = re.compile(VERSION_LABEL + r"\s*:?\s*([0-9]+(?:\.[0-9]+)+)", re.IGNORECASE)


def version_by_label(grid: list[list[Any]]) -> str | None:
    """The form version in a sheet without defined names: next to 'Formulierversie', or in a sentence."""
    for r, row in enumerate(grid[:MAX_SCAN_ROWS]):
        for c, value in enumerate(row[:MAX_SCAN_COLS]):
            if not isinstance(value, str) or "versie" not in value.lower():
                continue
            if squash(value) == VERSION_LABEL:
                found = version_text(cell(grid, r, c + 1))
                if found:
                    return found
            elif match := _VERSION_IN_TEXT.search(value):
                return match.group(1)
    return None


def version_text(value: Any) -> str | None:
    """A form version as text (a number typed as 2026 becomes '2026')."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None
