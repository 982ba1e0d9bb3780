"""The 'Per sector' sheet of the overview: how many returns and providers per sector got
which verdict, so an officer sees where the attention is needed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult
from kvcompliance.report.calllist import needs_data
from kvcompliance.report.styles import Styles, set_widths, setup_print

VERDICT_STATUSES = (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN)
UNKNOWN = "Sector onbekend"


def sector_counts(result: AuditResult) -> list[tuple[str, dict[str, Any]]]:
    """(sector label, counts) in catalogue order, the unknown sector last; only sectors with returns."""
    rows: dict[str, dict[str, Any]] = {}
    providers: dict[str, set[str]] = {}
    for record in result.returns:
        rid = record.return_id
        who, verdict = result.identities[rid], result.verdicts[rid]
        key = who.sector_key or ""
        counts = rows.setdefault(key, {"opgaven": 0, "eindoordeel": Counter(), "inhoud": Counter(), "aanvullen": 0})
        counts["opgaven"] += 1
        counts["eindoordeel"][verdict.overall] += 1
        counts["inhoud"][verdict.content] += 1
        counts["aanvullen"] += needs_data(result, rid)
        providers.setdefault(key, set()).add(who.kvk or f"zonder KvK {rid}")
    order = [s.key for s in result.catalogue.sectors if s.key in rows] + ([""] if "" in rows else [])
    labels = {s.key: s.label for s in result.catalogue.sectors}
    return [(labels.get(key, UNKNOWN), {**rows[key], "aanbieders": len(providers[key])}) for key in order]


def write_sector_sheet(workbook: Any, styles: Styles, result: AuditResult, title: str, footer: str) -> None:
    sheet = workbook.add_worksheet("Per sector")
    sheet.hide_gridlines(2)
    set_widths(sheet, [24, 9, 11] + [9] * len(VERDICT_STATUSES) + [12, 12, 16])
    sheet.set_row(0, 24)
    sheet.write_string(0, 0, "Uitkomst per sector", styles.get("title"))
    sheet.write_string(1, 0, "Aantal opgaven per eindoordeel, en hoeveel een gesprek of een nieuwe aanlevering vragen.",
                       styles.get("subtitle"))
    header = 3
    heads = ["Sector", "Opgaven", "Aanbieders"] + [styles.labels[s] for s in VERDICT_STATUSES]
    heads += ["Inhoud rood", "Inhoud oranje", "Gegevens aanvullen"]
    for col, name in enumerate(heads):
        if 3 <= col < 3 + len(VERDICT_STATUSES):
            styles.status_cell(sheet, header, col, VERDICT_STATUSES[col - 3])
        else:
            sheet.write_string(header, col, name, styles.get("header"))
    row = header
    total: Counter = Counter()
    count = styles.get("count")
    for label, counts in sector_counts(result):
        row += 1
        values = [counts["opgaven"], counts["aanbieders"]] + [counts["eindoordeel"][s] for s in VERDICT_STATUSES]
        values += [counts["inhoud"][Status.ROOD], counts["inhoud"][Status.ORANJE], counts["aanvullen"]]
        sheet.write_string(row, 0, label, styles.get("text"))
        for col, value in enumerate(values, start=1):
            sheet.write_number(row, col, value, count)
            total[col] += value
    row += 1
    sheet.write_string(row, 0, "Totaal", styles.get("id"))
    for col in range(1, len(heads)):
        sheet.write_number(row, col, total[col], styles.get("count"))
    sheet.freeze_panes(header + 1, 1)
    setup_print(sheet, landscape=True, header_left=title, header_right="Per sector", footer_left=footer, repeat_rows=(header, header))
