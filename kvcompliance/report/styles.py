"""Look and layout shared by both workbooks: formats, legend, print setup, the Normen sheet.

All colours come from ONE table, :func:`status_table`, derived from the catalogue's
statuses (``kleur`` for status cells, ``licht`` for the fill of a value cell). Formats are
created once per workbook and cached in a :class:`Styles` object.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from kvcompliance.catalogue import Catalogue, Status, StatusInfo
from kvcompliance.explain import basis_summary, norm_text, params_text, scope_text
from kvcompliance.values import format_date
from kvcompliance.wording import origin_text

FONT = "Calibri"
INK = "#1F3864"  # titles
HEADER_FILL = "#1F4E79"  # table header rows
SECTION_FILL = "#DDEBF7"  # section rows
GRID = "#BFBFBF"  # cell borders
MUTED = "#595959"  # secondary text
INPUT_FILL = "#FFF2CC"  # cells to fill in (as in the form)
REMARK_FILL = "#F2F2F2"  # the provider's own words

#: Status order everywhere a user sees statuses listed: worst first, n.v.t. last.
STATUS_ORDER = (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN, Status.NVT)
#: Statuses that put a finding on the agenda of the accountgesprek, in agenda order.
AGENDA_STATUSES = (Status.ROOD, Status.ORANJE, Status.GRIJS)

#: Tones of a trend (year on year): the font a trend text gets, on any format kind.
TONE_UP, TONE_DOWN, TONE_PLAIN, TONE_MUTED = "beter", "slechter", "gelijk", "stil"
TONES: dict[str, dict[str, Any]] = {
    TONE_UP: {"font_color": "#006100", "bold": True},
    TONE_DOWN: {"font_color": "#C00000", "bold": True},
    TONE_PLAIN: {},
    TONE_MUTED: {"font_color": MUTED},
}
#: Light fill of a cell that flags something for the officer to check (e.g. a return
#: that matches no contract): the light colour of this status.
FLAG_STATUS = Status.ORANJE

_BASE: dict[str, Any] = {"font_name": FONT, "font_size": 10, "valign": "top"}
_CELL: dict[str, Any] = {"border": 1, "border_color": GRID}

#: Format kinds. ``status`` kinds get the strong colour; value kinds the light fill.
_KINDS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 16, "font_color": INK, "valign": "vcenter"},
    "subtitle": {"italic": True, "font_color": MUTED},
    "heading": {"bold": True, "font_size": 12, "font_color": INK, "bottom": 1, "bottom_color": INK, "valign": "bottom"},
    "header": {**_CELL, "bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "text_wrap": True, "valign": "vcenter", "border_color": HEADER_FILL},
    "label": {"bold": True},
    "label_middle": {"bold": True, "valign": "vcenter"},
    "plain": {"text_wrap": True},
    "plain_nowrap": {},
    "legend_text": {"valign": "vcenter"},
    "note": {"italic": True, "text_wrap": True, "font_color": "#9C5700"},
    "text": {**_CELL, "text_wrap": True},
    "input": {**_CELL, "text_wrap": True, "bg_color": INPUT_FILL, "locked": False},
    "remark": {**_CELL, "text_wrap": True, "italic": True, "bg_color": REMARK_FILL},
    "letterhead": {"bold": True, "font_color": INK, "text_wrap": True},
    "link": {**_CELL, "font_color": "#0563C1", "underline": 1},
    "text_nowrap": {**_CELL},
    "id": {**_CELL, "bold": True},
    "number": {**_CELL, "align": "left", "num_format": "General"},
    "count": {**_CELL, "align": "center", "num_format": "0"},
    "date": {**_CELL, "align": "left", "num_format": "d-m-yyyy"},
    "section": {**_CELL, "bold": True, "bg_color": SECTION_FILL},
    "status": {**_CELL, "bold": True, "align": "center", "valign": "vcenter"},
    "trend": {**_CELL, "align": "center", "valign": "vcenter"},  # beside a status cell
    "status_big": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter", "border": 2, "border_color": "#404040"},
    "meaning_big": {"bold": True, "font_size": 12, "valign": "vcenter", "text_wrap": True},
    "meaning": {"font_size": 11, "valign": "vcenter", "text_wrap": True},
}
_STRONG_KINDS = {"status", "status_big"}
#: Kinds that draw something (a border or a fill) in every cell they cover.
_DRAWN_KINDS = {kind for kind, props in _KINDS.items() if {"border", "bottom", "bg_color"} & props.keys()}


def status_table(catalogue: Catalogue) -> dict[Status, StatusInfo]:
    """The one status → label/meaning/colour table, straight from the catalogue."""
    return {info.status: info for info in catalogue.statuses}


def status_label(catalogue: Catalogue, status: Status | str) -> str:
    return catalogue.status_info(status).label


class Styles:
    """The formats of one workbook, each created once on first use (so a workbook holds
    only the formats it uses)."""

    def __init__(self, workbook: Any, catalogue: Catalogue):
        self.workbook = workbook
        self.catalogue = catalogue
        self.colours = status_table(catalogue)
        self.labels = {status: info.label for status, info in self.colours.items()}
        self._cache: dict[tuple[str, Any], Any] = {}

    def get(self, kind: str, status: Status | None = None) -> Any:
        """The format for ``kind``; with a status, coloured (strong for status kinds, else light)."""
        try:
            return self._cache[kind, status]  # a Status and its str value are the same key
        except KeyError:
            pass
        props = {**_BASE, **_KINDS[kind]}
        if status is not None:
            info = self.colours[Status(status)]
            props["bg_color"] = info.colour if kind in _STRONG_KINDS else info.light
            if status == Status.NVT:
                props["font_color"] = MUTED
                props["bold"] = False
        fmt = self._cache[kind, status] = self.workbook.add_format(props)
        return fmt

    def toned(self, kind: str, tone: str) -> Any:
        """The format ``kind`` in the font of a trend ``tone`` (see :data:`TONES`)."""
        key = (kind, f"toon:{tone}")
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self.workbook.add_format({**_BASE, **_KINDS[kind], **TONES.get(tone, {})})
            self._cache[key] = fmt
        return fmt

    def flagged(self, kind: str) -> Any:
        """The format ``kind`` with the light flag fill (something for the officer to check)."""
        return self.get(kind, FLAG_STATUS)

    def merged(self, sheet: Any, row: int, first_col: int, last_col: int, text: str, kind: str) -> None:
        """``text`` as a string in the cells ``first_col``..``last_col`` of ``row``, merged.

        The covered cells get the format too only when it draws a border or fill there;
        otherwise they would only cost (xlsxwriter writes each as a formatted blank).
        """
        fmt = self.get(kind)
        sheet.merge_range(row, first_col, row, last_col, "", fmt if kind in _DRAWN_KINDS else None)
        sheet.write_string(row, first_col, text, fmt)

    def status_cell(self, sheet: Any, row: int, col: int, status: Status | None, big: bool = False) -> None:
        """A status as its catalogue label on its catalogue colour; blank when ``None``."""
        if status is None:
            sheet.write_blank(row, col, None, self.get("text"))
            return
        sheet.write_string(row, col, self.labels[status], self.get("status_big" if big else "status", status))


def write_legend(
    sheet: Any,
    styles: Styles,
    row: int,
    col: int,
    *,
    title: str = "Legenda",
    statuses: Sequence[Status] = STATUS_ORDER,
    counts: Mapping[Status, int] | None = None,
    count_label: str = "aantal",
) -> int:
    """Write a legend (colour + label, optional count, betekenis) at ``row``; return the next free row.

    Columns used: ``col`` (label), then with ``counts`` ``col + 1`` (count), then the meaning,
    which may run over the empty cells to its right.
    """
    sheet.write_string(row, col, title, styles.get("label"))
    if counts is not None:
        sheet.write_string(row, col + 1, count_label, styles.get("label"))
    row += 1
    for status in statuses:
        info = styles.colours[status]
        styles.status_cell(sheet, row, col, status)
        meaning_col = col + 1
        if counts is not None:
            if status in counts:
                sheet.write_number(row, col + 1, counts[status], styles.get("count"))
            else:
                sheet.write_blank(row, col + 1, None, styles.get("count"))
            meaning_col = col + 2
        sheet.write_string(row, meaning_col, info.meaning, styles.get("legend_text"))
        row += 1
    return row


def header_escape(text: str, limit: int = 80) -> str:
    """Text safe for an Excel page header/footer: '&' doubled, length capped."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("&", "&&")


def setup_print(
    sheet: Any,
    *,
    landscape: bool,
    header_left: str = "",
    header_right: str = "",
    footer_left: str = "",
    repeat_rows: tuple[int, int] | None = None,
) -> None:
    """A4, fit to one page wide, page numbers in Dutch, optional repeated header rows."""
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    font = f'&"{FONT},Regular"&9'
    header = ""
    if header_left:
        header += f"&L{font}{header_escape(header_left)}"
    if header_right:
        header += f"&R{font}{header_escape(header_right)}"
    if header:
        sheet.set_header(header, {"margin": 0.3})
    footer = f"&C{font}Pagina &P van &N"
    if footer_left:
        footer = f"&L{font}{header_escape(footer_left)}" + footer
    sheet.set_footer(footer, {"margin": 0.3})
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)


LINE_HEIGHT = 12.75  # points per line of 10 pt text


def text_lines(text: str, width: float) -> int:
    """Estimated number of lines ``text`` wraps to in a column ``width`` characters wide.

    Greedy word wrap at about 1.3 characters of 10 pt Calibri per unit of column width,
    slightly pessimistic so that text is never cut off.
    """
    if not isinstance(text, str):
        text = str(text)
    if len(text) <= width * 1.3 and "\n" not in text:
        return 1  # fits on one line: most cells
    return _text_lines(text, width)


@lru_cache(maxsize=8192)
def _text_lines(text: str, width: float) -> int:
    # Cached: the same texts (norms, titles, standard messages) recur in every workbook.
    per_line = max(4, int(width * 1.3))
    total = 0
    for part in text.split("\n"):
        if len(part) <= per_line:
            total += 1
            continue
        lines, used = 1, 0
        for word in part.split():
            size = len(word)
            if used and used + 1 + size > per_line:
                lines += 1
                used = 0
            if size > per_line:  # a long word is broken over several lines
                lines += (size - 1) // per_line
                size = (size - 1) % per_line + 1
            used = used + 1 + size if used else size
        total += lines
    return total


def fit_row(sheet: Any, row: int, cells: Iterable[tuple[str, float]], min_height: float = 0) -> None:
    """Set the height of a row with wrapped text: neither Excel nor LibreOffice does it
    reliably for generated files (and never for merged cells). ``cells``: (text, width)."""
    lines = 1
    for text, width in cells:
        if text:
            n = text_lines(text, width)
            if n > lines:
                lines = n
    if lines > 1 or min_height:
        sheet.set_row(row, max(min_height, row_height(lines)))


def row_height(lines: int) -> float:
    """The height in points of a row showing ``lines`` lines of 10 pt text."""
    return LINE_HEIGHT * lines + 3


def set_widths(sheet: Any, widths: Sequence[float], first_col: int = 0) -> None:
    for offset, width in enumerate(widths):
        sheet.set_column(first_col + offset, first_col + offset, width)


def run_date_text(run_date: datetime) -> str:
    return f"{format_date(run_date.date())} {run_date:%H:%M}"


def rules_file_text(catalogue: Catalogue, full_path: bool = True) -> str:
    """Where the rules came from; a provider sees only the file name, not the officer's folders."""
    if not catalogue.rules_file:
        return "standaardregels"
    return catalogue.rules_file if full_path else Path(catalogue.rules_file).name


NORMS_COLUMNS = (
    ("Regel", 8),
    ("Titel", 22),
    ("Geldt voor", 20),
    ("Norm", 46),
    ("Herkomst norm", 24),
    ("Parameters", 26),
    ("Grondslag", 40),
    ("Toelichting", 40),
)


@lru_cache(maxsize=8)
def norms_rows(catalogue: Catalogue) -> tuple[tuple[tuple[str, ...], float | None], ...]:
    """The rows of the Normen table (cells, row height or None): the same in every workbook
    of an audit, so made once per catalogue and process."""
    rows = []
    for rule in catalogue.active_rules:
        cells = (
            rule.id,
            rule.title,
            scope_text(catalogue, rule),
            norm_text(catalogue, rule),
            origin_text(catalogue, rule),
            params_text(catalogue, rule) or "geen",
            basis_summary(catalogue, rule),
            rule.explanation,
        )
        lines = max(text_lines(value, NORMS_COLUMNS[col][1]) if value else 1 for col, value in enumerate(cells))
        rows.append((cells, row_height(lines) if lines > 1 else None))
    return tuple(rows)


#: The formats of the Normen sheet, in the order their indices are fixed.
_NORMS_KINDS = ("title", "subtitle", "label", "plain_nowrap", "header", "id", "text")


def write_norms_sheet(
    workbook: Any,
    styles: Styles,
    meta: Sequence[tuple[str, str]],
    *,
    header_left: str = "",
    footer_left: str = "",
) -> Any:
    """The 'Normen' sheet: every active rule with scope, norm, parameters, source and why.

    ``meta`` are (label, value) lines shown above the table (tool version, audit year, ...).
    """
    catalogue = styles.catalogue
    sheet = workbook.add_worksheet("Normen")
    sheet.hide_gridlines(2)
    set_widths(sheet, [w for _, w in NORMS_COLUMNS])
    formats = {kind: styles.get(kind) for kind in _NORMS_KINDS}
    header_row = 3 + len(meta) + 1
    sheet.set_row(0, 24)
    sheet.write_string(0, 0, "Normen en regels van deze controle", formats["title"])
    sheet.write_string(1, 0, "Zo is elke opgave beoordeeld. Geldt een regel niet voor een opgave (kolom Geldt voor), dan is het oordeel n.v.t.", formats["subtitle"])
    for row, (label, value) in enumerate(meta, start=3):
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 2, value, formats["plain_nowrap"])
    for col, (name, _) in enumerate(NORMS_COLUMNS):
        sheet.write_string(header_row, col, name, formats["header"])
    id_format, text_format, write = formats["id"], formats["text"], sheet.write_string
    for row, (cells, height) in enumerate(norms_rows(catalogue), start=header_row + 1):
        write(row, 0, cells[0], id_format)
        for col in range(1, len(cells)):
            write(row, col, cells[col], text_format)
        if height:
            sheet.set_row(row, height)
    sheet.freeze_panes(header_row + 1, 0)
    setup_print(
        sheet,
        landscape=True,
        header_left=header_left,
        header_right="Normen",
        footer_left=footer_left,
        repeat_rows=(header_row, header_row),
    )
    return sheet
