"""The conversation part of a provider's Samenvatting: the agenda, with room for what was
agreed, and the provider's figures beside its sector's.

The agenda table has unlocked Afspraak, Wie and Termijn columns for the officer to fill in
during the accountgesprek (the rest of the sheet is protected against accidental edits).
A hidden key column and the workbook name :data:`AGENDA_NAME` let ``kvcompliance
afspraken`` read the agreements back, whatever the officer did to the layout around them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kvcompliance.report.compare import MIN_OTHER_PROVIDERS, WORSENED_MARK
from kvcompliance.report.styles import TONE_DOWN, TONE_MUTED, Styles, fit_row

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.report.provider import ProviderView

#: Workbook-level name of the agenda table (header row included, key column last).
AGENDA_NAME = "kv_agenda"
#: The columns the officer fills in, in order; they take the last three columns of the sheet.
AGREEMENT_COLUMNS = ("Afspraak", "Wie", "Termijn")
#: Rows for agreements that belong to no agenda point.
EXTRA_ROWS = 3
#: Key of such a row in the hidden key column.
OTHER_KEY = "overig"


def agenda_key(item: Any) -> str:
    """What an agenda row is about, in the hidden key column: 'KV07', or 'veld:fte'."""
    return f"veld:{item.field}" if item.field else item.rule_id


def heading(sheet: Any, styles: Styles, row: int, text: str, last: int) -> None:
    sheet.set_row(row, 22)
    sheet.write_string(row, 0, text, styles.get("heading"))
    for col in range(1, last + 1):
        sheet.write_blank(row, col, None, styles.get("heading"))


def write_agenda(sheet: Any, workbook: Any, styles: Styles, view: "ProviderView", row: int, widths: list[float]) -> int:
    """The Gespreksagenda from ``view.agenda``; returns the next free row."""
    last = len(widths) - 1
    key_col = last + 1
    first_agreement = last - len(AGREEMENT_COLUMNS) + 1
    heading(sheet, styles, row, "Gespreksagenda", last)
    row += 1
    remark = view.values.get("toelichting")
    remark = str(remark).strip() if remark is not None and str(remark).strip() else "U gaf geen toelichting bij de opgave."
    sheet.write_string(row, 0, "Uw toelichting", styles.get("label"))
    styles.merged(sheet, row, 2, last, remark, "remark")
    fit_row(sheet, row, [(remark, sum(widths[2:]))], min_height=18)
    row += 2
    intro = (
        "Graag bespreken we in het accountgesprek de volgende punten, het zwaarste eerst."
        if view.agenda
        else "Er zijn geen punten om te bespreken: de opgave voldoet aan alle normen die van toepassing zijn."
    )
    sheet.write_string(row, 0, intro, styles.get("subtitle"))
    sheet.write_string(row, first_agreement, "In te vullen tijdens het gesprek (gele cellen).", styles.get("subtitle"))
    row += 1
    header = row
    names = ("Nr.", "Onderwerp", "Status", "Vraag aan u")
    for col, name in enumerate(names):
        if col == 3 and first_agreement - 1 > 3:
            sheet.merge_range(row, 3, row, first_agreement - 1, "", styles.get("header"))
        sheet.write_string(row, col, name, styles.get("header"))
    for offset, name in enumerate(AGREEMENT_COLUMNS):
        sheet.write_string(row, first_agreement + offset, name, styles.get("header"))
    sheet.write_string(row, key_col, "sleutel", styles.get("header"))
    question_width = sum(widths[3:first_agreement])
    for number, item in enumerate(view.agenda, start=1):
        row += 1
        sheet.write_number(row, 0, number, styles.get("count"))
        topic = item.topic
        if item.worsened:
            topic = f"{item.topic} {WORSENED_MARK}"
            sheet.write_rich_string(row, 1, f"{item.topic} ", styles.toned("text", TONE_DOWN), WORSENED_MARK, styles.get("text"))
        else:
            sheet.write_string(row, 1, topic, styles.get("text"))
        styles.status_cell(sheet, row, 2, item.status)
        if first_agreement - 1 > 3:
            sheet.merge_range(row, 3, row, first_agreement - 1, "", styles.get("text"))
        sheet.write_string(row, 3, item.question, styles.get("text"))
        _agreement_cells(sheet, styles, row, first_agreement)
        sheet.write_string(row, key_col, agenda_key(item), styles.get("text"))
        fit_row(sheet, row, [(item.question, question_width), (topic, widths[1])], min_height=30)
    for extra in range(EXTRA_ROWS):
        row += 1
        sheet.write_string(row, 1, "Overige afspraak" if extra == 0 else "", styles.get("text"))
        for col in range(2, first_agreement):
            sheet.write_blank(row, col, None, styles.get("text"))
        _agreement_cells(sheet, styles, row, first_agreement)
        sheet.write_string(row, key_col, OTHER_KEY, styles.get("text"))
        sheet.set_row(row, 30)
    sheet.set_column(key_col, key_col, 10, None, {"hidden": True})
    quoted = "'" + sheet.get_name().replace("'", "''") + "'"
    workbook.define_name(AGENDA_NAME, f"={quoted}!$A${header + 1}:${_letters(key_col)}${row + 1}")
    return row + 1


def _agreement_cells(sheet: Any, styles: Styles, row: int, first: int) -> None:
    for offset in range(len(AGREEMENT_COLUMNS)):
        sheet.write_blank(row, first + offset, None, styles.get("input"))


def _letters(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_sector_section(sheet: Any, styles: Styles, view: "ProviderView", row: int, widths: list[float]) -> int:
    """'Vergelijking met de sector': own figures beside the median of other providers, or why not."""
    last = len(widths) - 1
    heading(sheet, styles, row, "Vergelijking met de sector", last)
    row += 1
    sheet.write_string(
        row,
        0,
        f"Uw kengetallen naast de mediaan van de andere aanbieders in uw sector ({view.sector_in_sentence}) in deze controle."
        f" De mediaan staat er alleen bij als ten minste {MIN_OTHER_PROVIDERS} andere aanbieders in de sector een waarde"
        " hebben, zodat geen andere aanbieder herkenbaar is.",
        styles.get("subtitle"),
    )
    row += 1
    sheet.merge_range(row, 0, row, 1, "", styles.get("header"))
    sheet.merge_range(row, 4, row, last, "", styles.get("header"))
    for col, name in ((0, "Kengetal"), (2, "Uw waarde"), (3, "Mediaan sector"), (4, "Toelichting")):
        sheet.write_string(row, col, name, styles.get("header"))
    if widths[3] < len("Mediaan sector"):  # the header wraps over two lines
        sheet.set_row(row, 27)
    note_width = sum(widths[4:])
    for figure in view.sector:
        row += 1
        sheet.merge_range(row, 0, row, 1, "", styles.get("text"))
        sheet.write_string(row, 0, figure.label, styles.get("text"))
        sheet.write_string(row, 2, figure.own, styles.get("text"))
        sheet.write_string(row, 3, figure.median, styles.get("text") if figure.shown else styles.toned("text", TONE_MUTED))
        sheet.merge_range(row, 4, row, last, "", styles.get("text"))
        sheet.write_string(row, 4, figure.note, styles.get("text"))
        fit_row(
            sheet,
            row,
            [(figure.label, widths[0] + widths[1]), (figure.own, widths[2]), (figure.median, widths[3]), (figure.note, note_width)],
            min_height=18,
        )
    return row + 1
