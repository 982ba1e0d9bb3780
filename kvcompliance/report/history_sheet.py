"""The Historie sheet of a provider's workbook (with ``--dossier``): every audit year in
the dossier, this one last.

- *Oordeel per jaar*: the contract number, the three verdicts and every rule's status per
  year, and how many years running a rule has been rood or oranje.
- *Kengetallen per jaar*: the catalogue's key figures per year, and a small chart of each.
- *Afspraken uit het vorige gesprek*: what was agreed, and whether it is realised now.

Only facts about this provider: the escalation step is the gemeente's decision and stays
in the officer's overview (see docs/DOSSIER.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.dossier.model import (
    NO_LONGER_APPLIES,
    NOT_CHECKED,
    NOT_JUDGEABLE,
    NOT_REALISED,
    REALISED,
    AgreementCheck,
    ProviderHistory,
    YearRecord,
)
from kvcompliance.report.compare import deadline_text
from kvcompliance.report.conversation import heading
from kvcompliance.report.styles import FONT, GRID, INK, TONE_MUTED, Styles, fit_row, set_widths, setup_print

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.report.provider import ProviderView

SHEET = "Historie"
#: The year columns together are at least this wide, so that an agreement fits beside them.
YEARS_WIDTH = 40
LABEL_WIDTHS = (8, 30)
NOTE_WIDTH = 36
ABSENT = "geen opgave"
#: Excel number formats of the key figures, by their metric's format.
NUMBER_FORMATS = {"procent": "0%", "geheel": "0", "getal": "0.0"}
CHART_SIZE = (300, 200)


def _statuses(catalogue: Catalogue, years: Sequence[YearRecord]) -> list[tuple[str, str]]:
    """(rule id, title) of every rule active now or judged in one of the years, catalogue order."""
    seen = {rule_id for record in years for rule_id in record.rules}
    return [(rule.id, rule.title) for rule in catalogue.rules if rule.active or rule.id in seen]


def streak(years: Sequence[YearRecord], status_of) -> str:
    """'3 jaar op rij rood' when this year's rood or oranje goes back two years or more."""
    now = status_of(years[-1])
    if now not in (Status.ROOD, Status.ORANJE):
        return ""
    count, expected = 0, years[-1].year
    for record in reversed(years):
        if record.year != expected or not record.present or status_of(record) != now:
            break
        count, expected = count + 1, expected - 1
    return f"{count} jaar op rij {now.value}" if count >= 2 else ""


def write_history_sheet(workbook: Any, styles: Styles, view: "ProviderView", title: str, footer: str) -> None:
    past: ProviderHistory = view.dossier
    catalogue = styles.catalogue
    years = past.years
    n = len(years)
    year_width = max(11.0, round(YEARS_WIDTH / n, 1))
    widths = [*LABEL_WIDTHS, *([year_width] * n), NOTE_WIDTH]
    first, note = len(LABEL_WIDTHS), len(LABEL_WIDTHS) + n
    last = note
    sheet = workbook.add_worksheet(SHEET)
    sheet.hide_gridlines(2)
    set_widths(sheet, widths)
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, f"Historie — {view.name or 'onbekende aanbieder'}", styles.get("title"))
    span = str(years[0].year) if n == 1 else f"{years[0].year} tot en met {years[-1].year}"
    sheet.write_string(1, 0, f"Uw opgaven over {span} zoals de gemeente ze beoordeelde, het oudste jaar eerst; elk jaar met de"
                             " regels van dat jaar.", styles.get("subtitle"))
    sheet.write_string(2, 0, "Opgaven van eerdere jaren zijn gekoppeld op KvK-nummer en contractnummer.", styles.get("subtitle"))
    row = 3
    for text in past.notes:
        styles.merged(sheet, row, 0, last, f"Let op: {text}", "note")
        fit_row(sheet, row, [(f"Let op: {text}", sum(widths))])
        row += 1
    row += 1
    row = _verdicts(sheet, styles, catalogue, years, row, first, note, last)
    row += 1
    row = _agreements(sheet, styles, past.agreements, view.audit_year, row, first, note, last, widths)
    row += 1
    sheet.set_h_pagebreaks([row])  # the key figures and their charts on a page of their own
    _figures(sheet, workbook, styles, catalogue, years, row, first, note, last)
    setup_print(sheet, landscape=True, header_left=title, header_right=SHEET, footer_left=footer)


def _year_header(sheet: Any, styles: Styles, row: int, years: Sequence[YearRecord], first: int, labels: tuple[str, str, str]) -> None:
    """The header row: two labels (one over both columns when the second is ''), the years, the note."""
    if labels[1]:
        sheet.write_string(row, 0, labels[0], styles.get("header"))
        sheet.write_string(row, 1, labels[1], styles.get("header"))
    else:
        sheet.merge_range(row, 0, row, 1, labels[0], styles.get("header"))
    for offset, record in enumerate(years):
        sheet.write_string(row, first + offset, str(record.year), styles.get("header"))
    sheet.write_string(row, first + len(years), labels[2], styles.get("header"))


def _verdicts(sheet: Any, styles: Styles, catalogue: Catalogue, years: Sequence[YearRecord], row: int, first: int, note: int,
              last: int) -> int:
    heading(sheet, styles, row, "Oordeel per jaar", last)
    row += 1
    _year_header(sheet, styles, row, years, first, ("Regel", "Omschrijving", "Opmerking"))
    header = row
    muted = styles.toned("text", TONE_MUTED)
    row += 1
    sheet.write_blank(row, 0, None, styles.get("text"))
    sheet.write_string(row, 1, "Contractnummer", styles.get("label"))
    for offset, record in enumerate(years):
        if record.present:
            sheet.write_string(row, first + offset, record.contract or "onbekend", styles.get("text"))
        else:
            sheet.write_string(row, first + offset, ABSENT, muted)
    sheet.write_blank(row, note, None, styles.get("text"))
    lines: list[tuple[str, str, Any]] = [
        ("", "Eindoordeel", lambda r: r.overall),
        ("", "Inhoud", lambda r: r.content),
        ("", "Aanlevering", lambda r: r.delivery),
    ]
    lines += [(rule_id, title, lambda r, rule_id=rule_id: r.rules.get(rule_id)) for rule_id, title in _statuses(catalogue, years)]
    for rule_id, label, status_of in lines:
        row += 1
        sheet.write_string(row, 0, rule_id, styles.get("id"))
        sheet.write_string(row, 1, label, styles.get("id" if not rule_id else "text"))
        for offset, record in enumerate(years):
            status = status_of(record) if record.present else None
            if status is None:
                sheet.write_string(row, first + offset, "–", muted)
            else:
                styles.status_cell(sheet, row, first + offset, status)
        sheet.write_string(row, note, streak(years, lambda r: status_of(r) if r.present else None), styles.get("text"))
    sheet.freeze_panes(header + 1, 2)
    return row + 1


def _figures(sheet: Any, workbook: Any, styles: Styles, catalogue: Catalogue, years: Sequence[YearRecord], row: int, first: int,
             note: int, last: int) -> int:
    heading(sheet, styles, row, "Kengetallen per jaar", last)
    row += 1
    header = row
    _year_header(sheet, styles, row, years, first, ("Kengetal", "", "Wat het is"))
    placed = []
    formats: dict[str, Any] = {}
    for figure in catalogue.key_figures:
        row += 1
        metric = catalogue.rule(figure.rule).metric(figure.metric)
        number = NUMBER_FORMATS.get(metric.format if metric else "getal", "0.0")
        cell = formats.get(number)
        if cell is None:
            cell = formats[number] = workbook.add_format({"font_name": FONT, "font_size": 10, "border": 1, "border_color": GRID,
                                                          "align": "center", "valign": "vcenter", "num_format": number})
        sheet.merge_range(row, 0, row, 1, figure.label, styles.get("text"))
        for offset, record in enumerate(years):
            value = record.figures.get(figure.key) if record.present else None
            if value is None:
                sheet.write_blank(row, first + offset, None, cell)
            else:
                sheet.write_number(row, first + offset, value, cell)
        sheet.write_string(row, note, figure.explanation, styles.get("text"))
        fit_row(sheet, row, [(figure.label, LABEL_WIDTHS[0] + LABEL_WIDTHS[1]), (figure.explanation, NOTE_WIDTH)])
        placed.append((figure.label, row, number))
    row += 1
    sheet.write_string(row, 0, "Een leeg vak: het kengetal was niet te berekenen, of er was dat jaar geen opgave.", styles.get("subtitle"))
    row += 2
    for n, (label, figure_row, number) in enumerate(placed):
        chart = workbook.add_chart({"type": "line"})
        chart.add_series({
            "name": label,
            "categories": [SHEET, header, first, header, first + len(years) - 1],
            "values": [SHEET, figure_row, first, figure_row, first + len(years) - 1],
            "line": {"color": INK, "width": 2},
            "marker": {"type": "circle", "size": 6, "fill": {"color": INK}, "border": {"color": INK}},
            "data_labels": {"value": True, "num_format": number, "position": "above", "font": {"size": 8}},
        })
        chart.set_title({"name": label, "name_font": {"size": 9, "bold": True}})
        chart.set_legend({"none": True})
        chart.set_x_axis({"num_font": {"size": 8}})
        chart.set_y_axis({"min": 0, "num_format": number, "num_font": {"size": 8},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.show_blanks_as("gap")
        chart.set_size({"width": CHART_SIZE[0], "height": CHART_SIZE[1]})
        sheet.insert_chart(row, 0, chart, {"x_offset": n * (CHART_SIZE[0] + 12), "y_offset": 0, "object_position": 3})
    return row + (CHART_SIZE[1] // 20 + 1 if placed else 0)


#: How an agreement's state reads, and the status colour of its cell.
STATE_LOOK = {
    REALISED: Status.GROEN,
    NOT_REALISED: Status.ORANJE,
    NOT_JUDGEABLE: Status.GRIJS,
    NO_LONGER_APPLIES: Status.NVT,
    NOT_CHECKED: None,
}


def state_text(check: AgreementCheck) -> str:
    """'gerealiseerd: nu groen', 'nog niet gerealiseerd: nu rood', ..."""
    if check.state == NOT_CHECKED:
        return "niet door de controle te beoordelen; bespreek het zo nodig"
    if check.state == NO_LONGER_APPLIES:
        return "de regel geldt dit jaar niet (n.v.t.)"
    if check.state == NOT_JUDGEABLE:
        return "niet vast te stellen: dit jaar grijs (gegevens ontbreken of zijn onjuist)"
    if check.field:
        return f"{check.state}: {'nu ingevuld' if check.state == REALISED else 'nog niet (goed) ingevuld'}"
    return f"{check.state}: nu {check.now.value if check.now else 'onbekend'}"


def _agreements(sheet: Any, styles: Styles, checks: Sequence[AgreementCheck], audit_year: int, row: int, first: int, note: int,
                last: int, widths: Sequence[float]) -> int:
    heading(sheet, styles, row, f"Afspraken uit het gesprek over {audit_year - 1}", last)
    row += 1
    if not checks:
        sheet.write_string(row, 0, f"Er staan geen afspraken uit het gesprek over {audit_year - 1} in het dossier.", styles.get("subtitle"))
        return row + 1
    sheet.write_string(row, 0, "Wat nog niet is gerealiseerd, staat ook op de gespreksagenda (tabblad Samenvatting).",
                       styles.get("subtitle"))
    row += 1
    sheet.merge_range(row, 0, row, 1, "", styles.get("header"))
    sheet.write_string(row, 0, "Onderwerp", styles.get("header"))
    sheet.merge_range(row, first, row, note - 1, "", styles.get("header"))
    sheet.write_string(row, first, "Afspraak", styles.get("header"))
    sheet.write_string(row, note, "Stand van zaken", styles.get("header"))
    agreement_width = sum(widths[first:note])
    for check in checks:
        row += 1
        details = "; ".join(part for part in (f"wie: {check.who}" if check.who else "",
                                              f"termijn: {deadline_text(check.deadline)}" if check.deadline else "") if part)
        text = check.agreement + (f"\n({details})" if details else "")
        styles.merged(sheet, row, 0, 1, check.topic, "text")
        styles.merged(sheet, row, first, note - 1, text, "text")
        status = check.now if check.state == NOT_REALISED and check.now is not None else STATE_LOOK.get(check.state)
        state = state_text(check)
        sheet.write_string(row, note, state, styles.get("text", status) if status is not None else styles.get("text"))
        fit_row(sheet, row, [(check.topic, widths[0] + widths[1]), (text, agreement_width), (state, widths[note])], min_height=18)
    return row + 1
