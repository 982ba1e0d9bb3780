"""The Aanlevering sheet of a provider's workbook: its own answers as typed, each
coloured by the worst finding about it, with the reason in a cell note."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

from kvcompliance.catalogue import Catalogue, Rule, Status
from kvcompliance.model import FieldIssue, Finding
from kvcompliance.report.styles import Styles, row_height, set_widths, setup_print, status_label, text_lines
from kvcompliance.values import raw_text

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.report.provider import ProviderView

NOTE_LIMIT = 1200  # characters in one cell note


@lru_cache(maxsize=8)
def _rule_lookup(catalogue: Catalogue) -> dict[str, Rule]:
    return {rule.id: rule for rule in catalogue.rules}


# ------------------------------------------------------------------ Aanlevering
RETURN_COLUMNS = (
    ("Vraag", 46),
    ("Uw antwoord", 28),
    ("Cel in uw bestand", 24),  # 'tabblad Aanlevering, cel B100' on one line
    ("Status", 11),
    ("Waarom deze kleur", 56),
)


def field_status(statuses: Sequence[Status], has_issue: bool) -> Status | None:
    """The colour of a field: its worst finding, ignoring groen and n.v.t. unless all are groen.

    A value that was not understood is at least grijs. ``None``: not touched, no colour.
    """
    relevant = [s for s in statuses if s not in (Status.GROEN, Status.NVT)]
    if has_issue:
        relevant.append(Status.GRIJS)
    if relevant:
        return max(relevant, key=lambda s: s.severity)
    if Status.GROEN in statuses:
        return Status.GROEN
    return None


#: Statuses whose cells get a note with the full explanation. A groen cell needs none: its
#: "Waarom deze kleur" says which rules it meets, and a note marker on every groen answer
#: would hide the few that matter (each note also costs about as much to write as 30 cells).
NOTE_STATUSES = frozenset({Status.ROOD, Status.ORANJE, Status.GRIJS})


def _why(catalogue: Catalogue, rules: dict[str, Rule], findings: Sequence[Finding], issues: Sequence[FieldIssue]) -> tuple[str, str]:
    """(cell note, short printable line) explaining a field's colour."""
    note, short = [], []
    for finding in findings:
        if finding.status in (Status.GROEN, Status.NVT):
            continue
        rule = rules.get(finding.rule_id)
        label = status_label(catalogue, finding.status)
        note.append(f"{finding.rule_id} ({label}): {finding.message}")
        short.append(f"{finding.rule_id} {rule.title if rule else ''} ({label.lower()})".replace("  ", " "))
    for issue in issues:
        why = catalogue.texts["antwoord_onbegrepen"].format(reden=issue.reason)
        note.append(why[0].upper() + why[1:])
        short.append(why)
    if not note:
        passed = [f.rule_id for f in findings if f.status == Status.GROEN]
        if passed:
            note.append(f"{status_label(catalogue, Status.GROEN)}: voldoet aan {', '.join(passed)}.")
            short.append(f"voldoet aan {', '.join(passed)}")
    text = "\n".join(note)
    if len(text) > NOTE_LIMIT:
        text = text[: NOTE_LIMIT - 1] + "…"
    return text, "\n".join(short)


def _note_options(text: str) -> dict[str, Any]:
    lines = sum(max(1, math.ceil(len(part) / 55)) for part in text.split("\n"))
    return {"visible": False, "x_scale": 2.6, "y_scale": max(1.0, min(8.0, (lines * 12 + 12) / 74)), "author": "kvcompliance"}


def _write_raw(sheet: Any, styles: Styles, row: int, col: int, value: Any, status: Status | None) -> None:
    """The provider's value as typed: numbers as numbers, dates as dates, ja/nee, text as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(row, col, None, styles.get("text", status))
    elif isinstance(value, bool):
        sheet.write_string(row, col, "ja" if value else "nee", styles.get("text", status))
    elif isinstance(value, (int, float, Decimal)) and math.isfinite(float(value)):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, styles.get("number", status))
    elif isinstance(value, (datetime, date)) and not isinstance(value, time):
        if isinstance(value, datetime) and value.time() != time(0, 0):
            sheet.write_string(row, col, raw_text(value), styles.get("text", status))
        else:
            sheet.write_datetime(row, col, value, styles.get("date", status))
    else:
        text = value if isinstance(value, str) else raw_text(value)
        sheet.write_string(row, col, text, styles.get("text", status))


@dataclass(frozen=True)
class _FieldRow:
    key: str
    label: str  # with " *" when required
    label_lines: int


@lru_cache(maxsize=8)
def _return_rows(catalogue: Catalogue) -> tuple[tuple[str, tuple[_FieldRow, ...]], ...]:
    """(section title, its fields) of the Aanlevering sheet: the same in every workbook."""
    width = RETURN_COLUMNS[0][1]
    sections = []
    for section in catalogue.sections:
        rows = []
        for fld in catalogue.fields_in(section.key):
            label = fld.label + (" *" if fld.required else "")
            rows.append(_FieldRow(fld.key, label, text_lines(label, width)))
        if rows:
            sections.append((section.title, tuple(rows)))
    return tuple(sections)


def write_answers_sheet(sheet: Any, styles: Styles, view: "ProviderView", title: str, footer: str) -> None:
    catalogue = styles.catalogue
    rules = _rule_lookup(catalogue)
    sheet.hide_gridlines(2)
    set_widths(sheet, [w for _, w in RETURN_COLUMNS])
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, f"Uw aanlevering — {view.name or 'onbekende aanbieder'}", styles.get("title"))
    sheet.write_string(
        1,
        0,
        "Uw antwoorden zoals ze in uw formulier stonden. De laatste kolom zegt waarom een cel gekleurd is;"
        " bij wat niet groen is, staat de volledige uitleg in een notitie bij de cel (wijs de cel aan).",
        styles.get("subtitle"),
    )
    header_row = 3
    for col, (name, _) in enumerate(RETURN_COLUMNS):
        sheet.write_string(header_row, col, name, styles.get("header"))
    touching: dict[str, list[Finding]] = {}
    for finding in view.findings:
        for key in finding.fields:
            touching.setdefault(key, []).append(finding)
    issues: dict[str, list[FieldIssue]] = {}
    for issue in view.issues:
        issues.setdefault(issue.field, []).append(issue)

    text_format, section_format = styles.get("text"), styles.get("section")
    value_width, cell_width, why_width = RETURN_COLUMNS[1][1], RETURN_COLUMNS[2][1], RETURN_COLUMNS[4][1]
    write = sheet.write_string
    row = header_row
    for section_title, fields in _return_rows(catalogue):
        row += 1
        write(row, 0, section_title, section_format)
        for col in range(1, len(RETURN_COLUMNS)):
            sheet.write_blank(row, col, None, section_format)
        for fld in fields:
            row += 1
            found = touching.get(fld.key, ())
            its_issues = issues.get(fld.key, ())
            status = field_status([f.status for f in found], bool(its_issues)) if found or its_issues else None
            value = view.values.get(fld.key)
            write(row, 0, fld.label, text_format)
            _write_raw(sheet, styles, row, 1, value, status)
            where = view.cells.get(fld.key, "")
            write(row, 2, where, text_format)
            styles.status_cell(sheet, row, 3, status)
            if status is None:
                short = ""
            else:
                note, short = _why(catalogue, rules, found, its_issues)
                if status in NOTE_STATUSES and note:
                    sheet.write_comment(row, 1, note, _note_options(note))
            write(row, 4, short, text_format)
            lines = max(
                fld.label_lines,
                text_lines(short, why_width) if short else 1,
                text_lines(where, cell_width) if where else 1,  # a long sheet name of the provider's own
                text_lines(value, value_width) if isinstance(value, str) and value else 1,
            )
            if lines > 1:
                sheet.set_row(row, row_height(lines))
    row += 2
    sheet.write_string(row, 0, "* verplicht veld", styles.get("subtitle"))
    sheet.freeze_panes(header_row + 1, 0)
    setup_print(
        sheet, landscape=True, header_left=title, header_right="Aanlevering", footer_left=footer, repeat_rows=(header_row, header_row)
    )
