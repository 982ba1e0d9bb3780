"""The overview workbook for the officer: every return, every finding, every file.

Sheets: Overzicht (one row per return, one coloured column per rule; with ``--vorige``
also last year's overall status and the trend, with ``--contracten`` how the return
relates to the contract register), Grafiek (statuses per rule), Bevindingen (one row per
return × rule; the same table as the CSV), Niet verwerkt (files that could not be
audited), Ontbrekend (with ``--contracten``: contracts without a return) and Normen.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import kvcompliance
from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult
from kvcompliance.outputs import FINDINGS_FILE
from kvcompliance.values import plural
from kvcompliance.report.compare import trend_counts, year_on_year
from kvcompliance.report.csvout import FindingsTable, findings_table
from kvcompliance.report.xlsx import new_workbook
from kvcompliance.report.styles import (
    STATUS_ORDER,
    Styles,
    fit_row,
    row_height,
    rules_file_text,
    run_date_text,
    set_widths,
    setup_print,
    text_lines,
    write_legend,
    write_norms_sheet,
)
from kvcompliance.report.calllist import rule_trend, write_call_list_sheet
from kvcompliance.report.sectors import write_sector_sheet
from kvcompliance.report.supervision import write_supervision_sheet
from kvcompliance.settings import Letterhead
from kvcompliance.report.tables import FINDINGS_COLUMNS, FINDINGS_HEADERS

RULE_WIDTH = 7
#: From this many findings (about 3,000 returns) the overview is streamed to disk row by
#: row: held in memory, its cells would take about 40 MB per 1,000 returns (400 MB for
#: 10,000), at the price of a slower write. Every sheet here is written top to bottom.
#: The Bevindingen sheet then holds only the findings that need attention (FINDINGS_SHOWN),
#: the rest is in bevindingen.csv: for 10,000 returns all 150,000 findings took 2 million
#: cells, mostly rows the sheet's filter hid anyway, and the overview 57 s instead of 13 s.
STREAM_FROM_FINDINGS = 50_000


def write_overview(
    result: AuditResult,
    path: Path,
    files: dict[str, str],
    table: FindingsTable | None = None,
    letterhead: Letterhead | None = None,
) -> None:
    """Write the overview workbook to ``path``; ``files`` maps return id -> provider workbook name;
    ``table``: the Bevindingen table, when the caller built it already (for the CSV too);
    ``letterhead``: the sender from the settings."""
    letterhead = letterhead or Letterhead()
    owner = f" — {letterhead.name}" if letterhead.name else ""
    title = f"Overzicht opgaven kindermishandeling{owner} — verslagjaar {result.audit_year}"
    footer = f"Verslagjaar {result.audit_year} · gemaakt op {run_date_text(result.run_date)}"
    intro = _received(result)
    if result.register is not None and result.register.missing:  # to chase: the call list names them, the sheet lists them
        intro += f" · {_plural(len(result.register.missing), 'contract', 'contracten')} zonder opgave (zie tabblad Ontbrekend)"
    streamed = len(result.findings) >= STREAM_FROM_FINDINGS
    with new_workbook(path, streamed=streamed) as workbook:
        workbook.set_properties(
            {
                "title": title,
                "subject": "Handhaving kindermishandeling",
                "author": "kvcompliance",
                "comments": f"kvcompliance {kvcompliance.__version__}",
                "created": result.run_date,
            }
        )
        styles = Styles(workbook, result.catalogue)
        write_call_list_sheet(workbook, styles, result, files, title, footer, intro)
        _overview_sheet(workbook, styles, result, files, title, footer)
        write_sector_sheet(workbook, styles, result, title, footer)
        _chart_sheet(workbook, styles, result, title, footer)
        _findings_sheet(workbook, styles, table or findings_table(result), title, footer, complete=not streamed)
        _rejected_sheet(workbook, styles, result, title, footer)
        write_supervision_sheet(workbook, styles, result, files, title, footer)
        if result.register is not None:
            _missing_sheet(workbook, styles, result, title, footer)
        meta = [
            ("Versie kvcompliance", kvcompliance.__version__),
            ("Controlejaar", str(result.audit_year)),
            ("Herkomst controlejaar", result.audit_year_source),
            ("Datum controle", run_date_text(result.run_date)),
            ("Map met opgaven", result.inbox or "onbekend"),
            ("Regels", rules_file_text(result.catalogue, full_path=True)),
            ("Formulierversie", result.catalogue.form_version),
            ("Opgaven beoordeeld", str(len(result.returns))),
            ("Bestanden niet verwerkt", str(len(result.rejected))),
        ]
        if result.trends is not None:
            meta.append(("Vorige controle", result.previous_dir or "onbekend"))
        meta += _extra_lines(result)
        write_norms_sheet(workbook, styles, meta, header_left=title, footer_left=footer)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _received(result: AuditResult) -> str:
    """'6 opgaven beoordeeld op … · 1 bestand niet verwerkt (zie tabblad Niet verwerkt)'; the
    sheet is pointed to only when it lists a file."""
    text = f"{_plural(len(result.returns), 'opgave', 'opgaven')} beoordeeld op {run_date_text(result.run_date)}"
    text += f" · {_plural(len(result.rejected), 'bestand', 'bestanden')} niet verwerkt"
    return text + (" (zie tabblad Niet verwerkt)" if result.rejected else "")


def _extra_lines(result: AuditResult) -> list[tuple[str, str]]:
    """(label, Dutch summary) about the contract register and the previous audit, if used."""
    lines = []
    match = result.register
    if match is not None:
        lines.append((
            "Contractregister",
            f"{_plural(len(match.matched) - len(match.kvk_differs), 'opgave', 'opgaven')} in het register"
            f" · {len(match.unmatched)} niet in het register · {len(match.kvk_differs)} met een afwijkend KvK-nummer"
            f" · {_plural(len(match.missing), 'contract', 'contracten')} zonder opgave (zie tabblad Ontbrekend)",
        ))
    if result.trends is not None:
        counts = trend_counts(result)
        lines.append(("Ten opzichte van vorig jaar", ", ".join(f"{n} {word}" for word, n in counts.items())))
    return lines


def _overview_sheet(workbook: Any, styles: Styles, result: AuditResult, files: dict[str, str], title: str, footer: str) -> None:
    from kvcompliance.register import IN_REGISTER  # not at the top: it imports pandas

    catalogue = result.catalogue
    rules = catalogue.active_rules
    sheet = workbook.add_worksheet("Overzicht")
    sheet.hide_gridlines(2)
    # What the officer reads first is on the first printed page; the file names, which
    # only matter when looking a return up, come after the rule columns.
    columns = [
        ("Aanbieder", 30),
        ("KvK-nummer", 10),
        ("Sector", 18),
        ("Contractnummer", 16),
        ("Verslagjaar", 10),
        ("Eindoordeel", 11),
        ("Inhoud", 9),
        ("Aanlevering", 11),
    ]
    if result.trends is not None:
        columns += [("Vorig jaar", 10), ("Trend", 14), ("Per regel", 26)]
    if result.register is not None:
        columns += [("Contract", 15)]
    first_rule_col = len(columns)
    tail = [("Bestand", 30), ("Werkboek", 42)]
    at = {name: n for n, (name, _) in enumerate(columns)}
    at.update({name: first_rule_col + len(rules) + n for n, (name, _) in enumerate(tail)})
    set_widths(sheet, [w for _, w in columns])
    if rules:
        sheet.set_column(first_rule_col, first_rule_col + len(rules) - 1, RULE_WIDTH)
    for name, width in tail:
        sheet.set_column(at[name], at[name], width)

    sheet.set_row(0, 28)
    sheet.write_string(0, 0, title, styles.get("title"))
    summary = f"{_received(result)} · regels: {rules_file_text(catalogue)}"
    sheet.write_string(1, 0, summary, styles.get("subtitle"))
    extra = _extra_lines(result)
    for offset, (label, line) in enumerate(extra, start=2):
        sheet.write_string(offset, 0, f"{label}: {line}", styles.get("subtitle"))
    counts = Counter(Status(result.overall[r.return_id]) for r in result.returns if r.return_id in result.overall)
    overall_counts = {s: counts.get(s, 0) for s in STATUS_ORDER if s != Status.NVT}
    header_row = write_legend(
        sheet, styles, 3 + len(extra), 1, title="Legenda", counts=overall_counts, count_label="opgaven"
    ) + 1

    for name, _ in columns + tail:
        sheet.write_string(header_row, at[name], name, styles.get("header"))
    for offset, rule in enumerate(rules):
        col = first_rule_col + offset
        sheet.write_string(header_row, col, rule.id, styles.get("header"))
        sheet.write_comment(header_row, col, f"{rule.id}: {rule.title}", {"x_scale": 1.6, "y_scale": 0.7, "author": "kvcompliance"})
    last_col = at["Werkboek"]

    row = header_row
    text = styles.get("text_nowrap")
    write = sheet.write_string
    who_of = result.identities
    rule_cols = [(first_rule_col + offset, rule.id) for offset, rule in enumerate(rules)]
    status_cell = styles.status_cell
    for record in result.returns:
        row += 1
        who = who_of[record.return_id]
        write(row, 0, who.name, text)
        write(row, 1, who.kvk, text)
        write(row, 2, who.sector_label, text)
        write(row, 3, who.contract, text)
        if isinstance(who.year, int):
            sheet.write_number(row, 4, who.year, styles.get("number"))
        else:
            write(row, 4, who.year or "", text)
        write(row, at["Bestand"], who.source, text)
        write(row, at["Werkboek"], files.get(record.return_id, ""), text)
        overall = result.overall.get(record.return_id)
        styles.status_cell(sheet, row, at["Eindoordeel"], Status(overall) if overall is not None else None)
        verdict = result.verdicts.get(record.return_id)
        styles.status_cell(sheet, row, at["Inhoud"], verdict.content if verdict else None)
        styles.status_cell(sheet, row, at["Aanlevering"], verdict.delivery if verdict else None)
        if result.trends is not None:
            history = year_on_year(result, record.return_id)
            styles.status_cell(sheet, row, at["Vorig jaar"], history.previous_overall)
            write(row, at["Trend"], history.overall.text, styles.toned("text_nowrap", history.overall.tone))
            write(row, at["Per regel"], rule_trend(history), text)
        if result.register is not None:
            state = result.register.state(record.return_id)
            flagged = state != IN_REGISTER
            write(row, at["Contract"], state, styles.flagged("text_nowrap") if flagged else text)
        by_rule = {f.rule_id: f.status for f in result.findings_for(record.return_id)}
        for col, rule_id in rule_cols:
            status_cell(sheet, row, col, by_rule.get(rule_id))
    sheet.autofilter(header_row, 0, row, last_col)
    sheet.freeze_panes(header_row + 1, 1)
    setup_print(sheet, landscape=True, header_left=title, header_right="Overzicht", footer_left=footer, repeat_rows=(header_row, header_row))
    sheet.print_area(0, 0, row, at["Bestand"] - 1)  # the file names are for the screen


def _chart_sheet(workbook: Any, styles: Styles, result: AuditResult, title: str, footer: str) -> None:
    """A count table (statuses per rule) and a stacked column chart fed by it."""
    catalogue = result.catalogue
    rules = catalogue.active_rules
    sheet = workbook.add_worksheet("Grafiek")
    sheet.hide_gridlines(2)
    set_widths(sheet, [8, 40] + [8] * len(STATUS_ORDER) + [8])
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, "Oordeel per regel", styles.get("title"))
    sheet.write_string(1, 0, "Aantal opgaven per status, per regel.", styles.get("subtitle"))
    header_row = 3
    sheet.write_string(header_row, 0, "Regel", styles.get("header"))
    sheet.write_string(header_row, 1, "Omschrijving", styles.get("header"))
    for offset, status in enumerate(STATUS_ORDER):
        styles.status_cell(sheet, header_row, 2 + offset, status)
    total_col = 2 + len(STATUS_ORDER)
    sheet.write_string(header_row, total_col, "Totaal", styles.get("header"))
    counts: dict[str, Counter] = {rule.id: Counter() for rule in rules}
    for finding in result.findings:
        if finding.rule_id in counts:
            counts[finding.rule_id][Status(finding.status)] += 1
    row = header_row
    for rule in rules:
        row += 1
        sheet.write_string(row, 0, rule.id, styles.get("id"))
        sheet.write_string(row, 1, rule.title, styles.get("text_nowrap"))
        for offset, status in enumerate(STATUS_ORDER):
            sheet.write_number(row, 2 + offset, counts[rule.id][status], styles.get("count"))
        sheet.write_number(row, total_col, sum(counts[rule.id].values()), styles.get("count"))
    sheet.freeze_panes(header_row + 1, 0)
    if rules:
        first, last = header_row + 1, row
        chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
        for offset, status in enumerate(STATUS_ORDER):
            info = styles.colours[status]
            col = 2 + offset
            chart.add_series(
                {
                    "name": info.label,
                    "categories": ["Grafiek", first, 0, last, 0],
                    "values": ["Grafiek", first, col, last, col],
                    "fill": {"color": info.colour},
                    "border": {"color": "#7F7F7F", "width": 0.5},
                    "gap": 60,
                }
            )
        chart.set_title({"name": "Oordeel per regel", "name_font": {"size": 12, "bold": True}})
        chart.set_x_axis({"name": "Regel", "num_font": {"size": 9}})
        returns = max(len(result.returns), 1)
        unit = _nice_unit(returns)
        chart.set_y_axis(
            {
                "name": "Aantal opgaven",
                "min": 0,
                "max": -(-returns // unit) * unit,
                "major_unit": unit,
                "num_format": "0",
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": max(640, 48 * len(rules) + 160), "height": 420})
        sheet.insert_chart(header_row, total_col + 2, chart)
    setup_print(sheet, landscape=True, header_left=title, header_right="Grafiek", footer_left=footer)


def _nice_unit(total: int) -> int:
    """An axis step of 1, 2 or 5 times a power of ten giving at most 10 gridlines."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if total / (step * scale) <= 10:
                return step * scale
        scale *= 10


#: Bevindingen sheet layout: (width, wrap). Narrow enough to print landscape at a
#: readable size; the file name (last) overflows to the right and is left out of print.
FINDINGS_LAYOUT = {
    "aanbieder": (20, True),
    "kvk_nummer": (11, False),
    "contractnummer": (16, False),
    "regel": (6, False),
    "omschrijving": (18, True),
    "status": (8, False),
    "waarde": (15, True),
    "norm": (28, True),
    "toelichting": (40, True),
    "grondslag": (22, True),
    "herkomst": (18, True),
    "bestand": (24, False),
}


#: The statuses the Bevindingen sheet shows at first (its filter hides groen and n.v.t.).
FINDINGS_SHOWN = (Status.ROOD, Status.ORANJE, Status.GRIJS)


def _findings_sheet(
    workbook: Any, styles: Styles, table: FindingsTable, title: str, footer: str, *, complete: bool = True
) -> None:
    """Every finding, those not in FINDINGS_SHOWN hidden by the filter; not ``complete``:
    only those in FINDINGS_SHOWN, with a line saying where the others are."""
    sheet = workbook.add_worksheet("Bevindingen")
    set_widths(sheet, [FINDINGS_LAYOUT[c][0] for c in FINDINGS_COLUMNS])
    for col, name in enumerate(FINDINGS_COLUMNS):
        sheet.write_string(0, col, FINDINGS_HEADERS[name], styles.get("header"))
    status_col = FINDINGS_COLUMNS.index("status")
    # (column, format) of the text cells; (column, width, lines per text) of those that wrap
    texts = [
        (col, styles.get("text" if FINDINGS_LAYOUT[name][1] else "text_nowrap"))
        for col, name in enumerate(FINDINGS_COLUMNS)
        if col != status_col
    ]
    wrapped = [(col, FINDINGS_LAYOUT[name][0], {}) for col, name in enumerate(FINDINGS_COLUMNS) if FINDINGS_LAYOUT[name][1]]
    write = sheet.write_string
    shown = {Status(s).value for s in FINDINGS_SHOWN}
    row = 0
    left_out: Counter[str] = Counter()
    for status, cells in zip(table.statuses, table.rows):
        hidden = Status(status).value not in shown
        if hidden and not complete:
            left_out[Status(status).value] += 1
            continue
        row += 1
        for col, fmt in texts:
            write(row, col, cells[col], fmt)
        # the status column holds the status label: shown on the status colour
        write(row, status_col, cells[status_col], styles.get("status", status))
        # Most texts recur (names, titles, standard messages): each is measured once.
        lines = 1
        for col, width, known in wrapped:
            text = cells[col]
            n = known.get(text)
            if n is None:
                n = known[text] = text_lines(text, width)
            if n > lines:
                lines = n
        if lines > 1 or hidden:
            sheet.set_row(row, row_height(lines) if lines > 1 else None, None, {"hidden": hidden})
    sheet.autofilter(0, 0, row, len(FINDINGS_COLUMNS) - 1)
    # Filtered to what needs attention, so it prints without the groen rows; 'clear filter' shows all.
    sheet.filter_column_list(status_col, [styles.labels[s] for s in FINDINGS_SHOWN])
    sheet.freeze_panes(1, 0)
    if left_out:
        counts = " en ".join(plural(n, f"bevinding {styles.labels[Status(s)].lower()}", f"bevindingen {styles.labels[Status(s)].lower()}")
                             for s, n in sorted(left_out.items()))
        row += 2
        counts += "" if counts.endswith(".") else "."  # 'n.v.t.' ends the sentence itself
        sheet.write_string(row, 0, f"Niet op dit blad, wel in {FINDINGS_FILE}: {counts} Zo blijft het blad bij zoveel opgaven "
                           "goed te openen en te filteren.", styles.get("subtitle"))
    setup_print(sheet, landscape=True, header_left=title, header_right="Bevindingen", footer_left=footer, repeat_rows=(0, 0))
    sheet.print_area(0, 0, row, FINDINGS_COLUMNS.index("bestand") - 1)


def _rejected_sheet(workbook: Any, styles: Styles, result: AuditResult, title: str, footer: str) -> None:
    sheet = workbook.add_worksheet("Niet verwerkt")
    set_widths(sheet, [44, 16, 90])
    for col, name in enumerate(("Bestand", "Soort", "Reden")):
        sheet.write_string(0, col, name, styles.get("header"))
    row = 0
    for rejected in (*result.rejected, *result.skipped):
        row += 1
        sheet.write_string(row, 0, rejected.source.path, styles.get("text"))
        sheet.write_string(row, 1, rejected.kind, styles.get("text"))
        sheet.write_string(row, 2, rejected.reason, styles.get("text"))
        fit_row(sheet, row, [(rejected.source.path, 44), (rejected.reason, 90)])
    if not result.rejected and not result.skipped:
        row += 1
        sheet.write_string(row, 0, "Alle bestanden zijn verwerkt.", styles.get("plain_nowrap"))
    else:
        sheet.autofilter(0, 0, row, 2)
    sheet.freeze_panes(1, 0)
    setup_print(sheet, landscape=True, header_left=title, header_right="Niet verwerkt", footer_left=footer, repeat_rows=(0, 0))


MISSING_COLUMNS = (
    ("Contractnummer", 18),
    ("Aanbieder", 36),
    ("KvK-nummer", 12),
    ("Sector", 16),
    ("E-mailadres", 32),
    ("Rij in register", 14),
    ("Opmerking", 26),
)
MISSING_HINT = "Geen opgave ontvangen"


def _missing_sheet(workbook: Any, styles: Styles, result: AuditResult, title: str, footer: str) -> None:
    """'Ontbrekend': contracts in the register without a return, to chase."""
    sheet = workbook.add_worksheet("Ontbrekend")
    set_widths(sheet, [w for _, w in MISSING_COLUMNS])
    for col, (name, _) in enumerate(MISSING_COLUMNS):
        sheet.write_string(0, col, name, styles.get("header"))
    row = 0
    for contract in result.register.missing:
        row += 1
        sector = result.catalogue.sector(contract.sector)
        cells = (
            contract.contractnummer,
            contract.aanbieder_naam,
            contract.kvk_nummer,
            sector.label if sector else contract.sector,
            contract.contact_email,
        )
        for col, value in enumerate(cells):
            sheet.write_string(row, col, value, styles.get("text"))
        sheet.write_number(row, 5, contract.row, styles.get("count"))
        sheet.write_string(row, 6, MISSING_HINT, styles.flagged("text"))
        fit_row(sheet, row, [(cells[1], MISSING_COLUMNS[1][1]), (cells[4], MISSING_COLUMNS[4][1])])
    if not result.register.missing:
        row += 1
        sheet.write_string(row, 0, "Voor elk contract in het register is een opgave ontvangen.", styles.get("plain_nowrap"))
    else:
        sheet.autofilter(0, 0, row, len(MISSING_COLUMNS) - 1)
    sheet.freeze_panes(1, 0)
    setup_print(sheet, landscape=True, header_left=title, header_right="Ontbrekend", footer_left=footer, repeat_rows=(0, 0))
