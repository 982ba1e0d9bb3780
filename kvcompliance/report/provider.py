"""The accountgesprek workbook for ONE return: the agenda the gemeente sends the provider.

Two steps, so that many workbooks can later be written in parallel processes:
:func:`provider_view` copies only this provider's data out of the audit result into a
plain, picklable :class:`ProviderView`; :func:`render_provider` writes that view. The view
holds nothing of any other provider, so a workbook cannot leak another provider's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import kvcompliance
from kvcompliance.catalogue import Catalogue, Rule, Status
from kvcompliance.model import AuditResult, FieldIssue, Finding, Verdict
from kvcompliance.report.compare import (
    MIN_OTHER_PROVIDERS,
    WORSENED_MARK,
    AgendaItem,
    SectorFigure,
    YearOnYear,
    agenda,
    sector_comparisons,
    year_on_year,
)
from kvcompliance.report.xlsx import new_workbook
from kvcompliance.report.styles import (
    STATUS_ORDER,
    TONE_DOWN,
    TONE_MUTED,
    Styles,
    fit_row,
    row_height,
    rules_file_text,
    run_date_text,
    set_widths,
    setup_print,
    status_label,
    text_lines,
    write_norms_sheet,
)
from kvcompliance.values import raw_text

NOTE_LIMIT = 1200  # characters in one cell note


@dataclass(frozen=True)
class ProviderView:
    """Everything one provider's workbook shows, and nothing else. Plain and picklable."""

    return_id: str
    name: str
    kvk: str
    contract: str
    sector_label: str
    obligation: str
    reporting_year: int | str | None
    source_name: str
    notes: tuple[str, ...]
    values: dict[str, Any]  # field key -> raw value as typed
    cells: dict[str, str]  # field key -> "Sheet!C5"
    findings: tuple[Finding, ...]  # catalogue order
    issues: tuple[FieldIssue, ...]
    overall: Status
    verdict: Verdict  # Inhoud, Aanlevering and Eindoordeel
    audit_year: int
    run_date: datetime  # also the workbook's creation date, so equal input gives equal files
    agenda: tuple[AgendaItem, ...]  # the points for the accountgesprek, in order
    sector: tuple[SectorFigure, ...]  # own figures beside the sector median (never others' values)
    history: YearOnYear | None = None  # None without --vorige
    tool_version: str = field(default=kvcompliance.__version__)


def provider_view(
    result: AuditResult, return_id: str, comparisons: Mapping[str, tuple[SectorFigure, ...]] | None = None
) -> ProviderView:
    """Copy one provider's data out of ``result``. ``comparisons``: every return's sector
    comparison (:func:`sector_comparisons`), when the caller makes many views."""
    record = result.record(return_id)
    if record is None:
        raise KeyError(return_id)
    who = result.identities[return_id]
    if comparisons is None:
        comparisons = sector_comparisons(result)
    findings = tuple(result.findings_for(return_id))
    history = year_on_year(result, return_id)
    return ProviderView(
        return_id=return_id,
        name=who.name,
        kvk=who.kvk,
        contract=who.contract,
        sector_label=who.sector_label,
        obligation=who.obligation,
        reporting_year=who.year,
        source_name=who.source_name,
        notes=tuple(record.notes),
        values=dict(record.values),
        cells={key: ref.in_words() for key, ref in record.cells.items()},
        findings=findings,
        issues=tuple(result.issues_for(return_id)),
        overall=Status(result.overall[return_id]),
        verdict=result.verdicts[return_id],
        audit_year=result.audit_year,
        run_date=result.run_date,
        agenda=agenda(findings, result.catalogue, history.worsened() if history else frozenset(), result.issues_for(return_id)),
        sector=comparisons[return_id],
        history=history,
    )


def render_provider(view: ProviderView, catalogue: Catalogue, path: Path) -> None:
    """Write the accountgesprek workbook of ``view`` to ``path`` (whole or not at all)."""
    name = view.name or "onbekende aanbieder"
    title = f"Accountgesprek kindermishandeling — {name}"
    footer = f"Verslagjaar {view.audit_year} · gemaakt op {run_date_text(view.run_date)}"
    with new_workbook(path) as workbook:
        workbook.set_properties(
            {
                "title": title,
                "subject": "Accountgesprek kindermishandeling",
                "author": "kvcompliance",
                "comments": f"kvcompliance {view.tool_version}",
                "created": view.run_date,
            }
        )
        styles = Styles(workbook, catalogue)
        summary = workbook.add_worksheet("Samenvatting")
        answers = workbook.add_worksheet("Aanlevering")
        meta = [
            ("Versie kvcompliance", view.tool_version),
            ("Controlejaar", str(view.audit_year)),
            ("Datum controle", run_date_text(view.run_date)),
            ("Regels", rules_file_text(catalogue, full_path=False)),
            ("Formulierversie", catalogue.form_version),
        ]
        _summary_sheet(summary, styles, view, title, footer)
        _return_sheet(answers, styles, view, title, footer)
        write_norms_sheet(workbook, styles, meta, header_left=title, footer_left=footer)


# ------------------------------------------------------------------ Samenvatting
SUMMARY_COLUMNS = (
    ("Regel", 7),
    ("Omschrijving", 20),
    ("Status", 10),
    ("Uw waarde", 20),
    ("Norm", 34),
    ("Toelichting", 46),
    ("Grondslag", 30),
    ("Herkomst norm", 20),
)
#: Inserted after Status when the audit compares with last year (--vorige).
TREND_COLUMNS = (("Vorig jaar", 11), ("Ontwikkeling", 15))


def summary_columns(with_history: bool) -> tuple[tuple[str, float], ...]:
    """The columns of the rules table on Samenvatting (and so of the whole sheet)."""
    if not with_history:
        return SUMMARY_COLUMNS
    status = [name for name, _ in SUMMARY_COLUMNS].index("Status")
    return SUMMARY_COLUMNS[: status + 1] + TREND_COLUMNS + SUMMARY_COLUMNS[status + 1 :]


@lru_cache(maxsize=8)
def _rule_lookup(catalogue: Catalogue) -> dict[str, Rule]:
    return {rule.id: rule for rule in catalogue.rules}


@lru_cache(maxsize=8)
def _rule_titles(catalogue: Catalogue) -> dict[str, str]:
    return {rule.id: rule.title for rule in catalogue.rules}


@lru_cache(maxsize=8)
def _group_rules(catalogue: Catalogue) -> dict[str, str]:
    """Group -> its active rule ids as a short range ('KV01–KV13, KV93')."""
    from kvcompliance.catalogue import GROUP_CONTENT, GROUP_DELIVERY

    return {group: id_ranges([r.id for r in catalogue.active_rules if r.group == group]) for group in (GROUP_CONTENT, GROUP_DELIVERY)}


def id_ranges(ids: Sequence[str]) -> str:
    """'KV01–KV11, KV93' for KV01, KV02, ..., KV11, KV93."""
    runs: list[list[str]] = []
    for rule_id in ids:
        number = int(rule_id[2:]) if rule_id[2:].isdigit() else None
        last = runs[-1][-1] if runs else None
        if number is not None and last is not None and last[2:].isdigit() and int(last[2:]) + 1 == number:
            runs[-1].append(rule_id)
        else:
            runs.append([rule_id])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _summary_sheet(sheet: Any, styles: Styles, view: ProviderView, title: str, footer: str) -> None:
    catalogue = styles.catalogue
    sheet.hide_gridlines(2)
    columns = summary_columns(view.history is not None)
    col = {name: n for n, (name, _) in enumerate(columns)}
    last = len(columns) - 1
    widths = [w for _, w in columns]
    set_widths(sheet, widths)

    sheet.set_row(0, 28)
    sheet.write_string(0, 0, title, styles.get("title"))
    sheet.write_string(
        1,
        0,
        f"Verslagjaar {view.audit_year} · gemaakt op {run_date_text(view.run_date)} met kvcompliance {view.tool_version}",
        styles.get("subtitle"),
    )

    info = [
        ("Organisatie", view.name or "onbekend"),
        ("KvK-nummer", view.kvk or "onbekend"),
        ("Contractnummer", view.contract or "onbekend"),
        ("Sector", view.sector_label),
        ("Meldcodeplicht", view.obligation),
        ("Verslagjaar opgave", "" if view.reporting_year is None else str(view.reporting_year)),
        ("Uw bestand", view.source_name),
    ]
    # Identity values run from the Status column up to the legend (Norm, Toelichting).
    legend_col = col["Norm"]
    value_end = legend_col - 1
    value_width = sum(widths[2 : value_end + 1])
    row = 3
    for label, value in info:
        sheet.write_string(row, 0, label, styles.get("label"))
        styles.merged(sheet, row, 2, value_end, value or "onbekend", "plain")
        fit_row(sheet, row, [(value, value_width)])
        row += 1

    # Legend beside the identity block: swatch in Norm, meaning in Toelichting.
    sheet.write_string(3, legend_col, "Legenda", styles.get("label"))
    for offset, status in enumerate(STATUS_ORDER, start=1):
        styles.status_cell(sheet, 3 + offset, legend_col, status)
        sheet.write_string(3 + offset, legend_col + 1, styles.colours[status].meaning, styles.get("legend_text"))

    row += 1
    meaning_end = col["Toelichting"]
    sheet.set_row(row, 30)
    sheet.write_string(row, 0, "Eindoordeel", styles.get("label_middle"))
    styles.status_cell(sheet, row, 2, view.overall, big=True)
    meaning = f"{styles.colours[view.overall].meaning} (het zwaarste van de twee oordelen hieronder)"
    styles.merged(sheet, row, 3, meaning_end, meaning, "meaning_big")
    row += 1
    groups = _group_rules(catalogue)
    for label, status, what in (
        ("Inhoud", view.verdict.content, f"Oordeel over de voorwaarden zelf ({groups['inhoud']})"),
        ("Aanlevering", view.verdict.delivery, f"Oordeel over de volledigheid en juistheid van de opgave ({groups['aanlevering']})"),
    ):
        sheet.write_string(row, 0, label, styles.get("label_middle"))
        styles.status_cell(sheet, row, 2, status)
        styles.merged(sheet, row, 3, meaning_end, what, "meaning")
        sheet.set_row(row, 18)
        row += 1
    if view.history is not None:
        history = view.history
        sheet.set_row(row, 30)
        sheet.write_string(row, 0, "Vorig jaar", styles.get("label_middle"))
        if history.previous_overall is not None:
            styles.status_cell(sheet, row, 2, history.previous_overall)
        else:
            sheet.write_string(row, 2, "geen opgave", styles.toned("legend_text", history.overall.tone))
        sheet.merge_range(row, 3, row, meaning_end, "", None)  # no border or fill to repeat
        sheet.write_rich_string(
            row,
            3,
            styles.toned("meaning", history.overall.tone),
            history.overall.text,
            styles.get("meaning"),
            f": {history.sentence}",
            styles.get("meaning"),
        )
        fit_row(sheet, row, [(f"{history.overall.text}: {history.sentence}", sum(widths[3 : meaning_end + 1]) * 0.9)], min_height=30)
        row += 1
    for note in view.notes:
        styles.merged(sheet, row, 0, last, f"Let op: {note}", "note")
        fit_row(sheet, row, [(f"Let op: {note}", sum(widths))])
        row += 1

    row += 1
    header_row = row
    for n, (name, _) in enumerate(columns):
        sheet.write_string(row, n, name, styles.get("header"))
    rule_history = view.history.rules if view.history is not None else {}
    titles = _rule_titles(catalogue)
    id_format, text_format = styles.get("id"), styles.get("text")
    write = sheet.write_string
    at = [col[name] for name in ("Regel", "Omschrijving", "Uw waarde", "Norm", "Toelichting", "Grondslag", "Herkomst norm")]
    at_widths = [widths[n] for n in at]
    status_col = col["Status"]
    for finding in view.findings:
        row += 1
        cells = (finding.rule_id, titles.get(finding.rule_id, ""), finding.value, finding.norm, finding.message,
                 finding.basis, finding.origin)
        write(row, at[0], cells[0], id_format)
        for n in range(1, len(cells)):
            write(row, at[n], cells[n], text_format)
        styles.status_cell(sheet, row, status_col, finding.status)
        if view.history is not None:
            previous, mark = rule_history.get(finding.rule_id, (None, None))
            styles.status_cell(sheet, row, col["Vorig jaar"], previous)
            if mark is None:
                sheet.write_blank(row, col["Ontwikkeling"], None, text_format)
            else:
                sheet.write_string(row, col["Ontwikkeling"], mark.text, styles.toned("trend", mark.tone))
        fit_row(sheet, row, zip(cells, at_widths))
    sheet.freeze_panes(header_row + 1, 0)

    row += 2
    row = _agenda(sheet, styles, view, row, widths)
    row += 1
    _sector_section(sheet, styles, view, row, widths)
    setup_print(
        sheet, landscape=True, header_left=title, header_right="Samenvatting", footer_left=footer, repeat_rows=(header_row, header_row)
    )


def _heading(sheet: Any, styles: Styles, row: int, text: str, last: int) -> None:
    sheet.set_row(row, 22)
    sheet.write_string(row, 0, text, styles.get("heading"))
    for col in range(1, last + 1):
        sheet.write_blank(row, col, None, styles.get("heading"))


def _agenda(sheet: Any, styles: Styles, view: ProviderView, row: int, widths: list[float]) -> int:
    """The Gespreksagenda from ``view.agenda``; returns the next free row."""
    last = len(widths) - 1
    _heading(sheet, styles, row, "Gespreksagenda", last)
    row += 1
    if not view.agenda:
        styles.merged(
            sheet, row, 0, last, "Er zijn geen punten om te bespreken: de opgave voldoet aan alle normen die van toepassing zijn.", "plain"
        )
        return row + 1
    sheet.write_string(
        row, 0, "Graag bespreken we in het accountgesprek de volgende punten, het zwaarste eerst.", styles.get("subtitle")
    )
    row += 1
    for col, name in enumerate(("Nr.", "Onderwerp", "Status", "Vraag aan u")):
        if col == 3:
            sheet.merge_range(row, 3, row, last, "", styles.get("header"))
        sheet.write_string(row, col, name, styles.get("header"))
    question_width = sum(widths[3:])
    for number, item in enumerate(view.agenda, start=1):
        row += 1
        sheet.write_number(row, 0, number, styles.get("count"))
        topic = item.topic
        if item.worsened:
            topic = f"{item.topic} {WORSENED_MARK}"
            sheet.write_rich_string(
                row, 1, f"{item.topic} ", styles.toned("text", TONE_DOWN), WORSENED_MARK, styles.get("text")
            )
        else:
            sheet.write_string(row, 1, topic, styles.get("text"))
        styles.status_cell(sheet, row, 2, item.status)
        sheet.merge_range(row, 3, row, last, "", styles.get("text"))
        sheet.write_string(row, 3, item.question, styles.get("text"))
        fit_row(sheet, row, [(item.question, question_width), (topic, widths[1])], min_height=18)
    return row + 1


def _sector_section(sheet: Any, styles: Styles, view: ProviderView, row: int, widths: list[float]) -> int:
    """'Vergelijking met de sector': own figures beside the sector median, or why not."""
    last = len(widths) - 1
    _heading(sheet, styles, row, "Vergelijking met de sector", last)
    row += 1
    sheet.write_string(
        row,
        0,
        f"Uw kengetallen naast de mediaan van de andere aanbieders in uw sector ({view.sector_label}) in deze controle."
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


# ------------------------------------------------------------------ Aanlevering
RETURN_COLUMNS = (
    ("Vraag", 46),
    ("Uw antwoord", 28),
    ("Cel in uw bestand", 20),
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
#: "Waarom deze kleur" says which rules it meets (and every note costs about as much to
#: write as 30 cells).
NOTE_STATUSES = frozenset({Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN})


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
        note.append(f"Niet begrepen: {issue.reason}")
        short.append(f"niet begrepen: {issue.reason}")
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


def _return_sheet(sheet: Any, styles: Styles, view: ProviderView, title: str, footer: str) -> None:
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
        " de volledige uitleg staat in een notitie bij de cel (wijs de cel aan).",
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
    value_width, why_width = RETURN_COLUMNS[1][1], RETURN_COLUMNS[4][1]
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
            write(row, 2, view.cells.get(fld.key, ""), text_format)
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
