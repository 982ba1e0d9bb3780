"""The Toezicht sheet of the overview (DOMAIN §5.5): never in a provider's workbook.

A provider that the law obliges to have a meldcode, yet has none (KV01 rood) or has one
without the afwegingskader (KV02 rood), is listed for the officer with the supervisor of
its sector. The gemeente decides whether to pass it on; the tool only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult
from kvcompliance.report.styles import Styles, fit_row, set_widths, setup_print

#: The rules whose rood at a statutorily obliged provider is a matter for the supervisor.
SUPERVISED_RULES = ("KV01", "KV02")
INTRO = (
    "Aanbieders met een wettelijke meldcodeplicht bij wie de meldcode ontbreekt (KV01 rood) of de meldcode het"
    " afwegingskader niet bevat (KV02 rood), met de toezichthouder van hun sector. De gemeente beslist of zij dit"
    " doorgeeft. Dit tabblad staat alleen in dit overzicht, nooit in het werkboek van een aanbieder."
)
COLUMNS = (
    ("Aanbieder", 34),
    ("KvK-nummer", 12),
    ("Contractnummer", 18),
    ("Sector", 18),
    ("Wettelijke plicht", 30),
    ("Tekortkoming", 44),
    ("Toezichthouder", 32),
    ("Werkboek", 40),
)


@dataclass(frozen=True)
class SupervisionCase:
    return_id: str
    name: str
    kvk: str
    contract: str
    sector: str
    law: str
    shortcomings: tuple[str, ...]  # "KV01 Meldcode vastgesteld", ...
    supervisor: str


def supervision_cases(result: AuditResult) -> list[SupervisionCase]:
    """The returns the officer may pass on to a supervisor, in input order."""
    catalogue = result.catalogue
    titles = {rule.id: rule.title for rule in catalogue.rules}
    cases = []
    for record in result.returns:
        who = result.identities[record.return_id]
        if who.duty != "wettelijk":
            continue
        red = [f.rule_id for f in result.findings_for(record.return_id) if f.rule_id in SUPERVISED_RULES and f.status == Status.ROOD]
        if not red:
            continue
        sector = catalogue.sector(who.sector_key) if who.sector_key else None
        cases.append(
            SupervisionCase(
                return_id=record.return_id,
                name=who.name,
                kvk=who.kvk,
                contract=who.contract,
                sector=who.sector_label,
                law=who.obligation,
                shortcomings=tuple(f"{rule_id} {titles.get(rule_id, '')}".strip() for rule_id in red),
                supervisor=(sector.supervisor if sector and sector.supervisor else "onbekend: de sector heeft geen toezichthouder in de catalogus"),
            )
        )
    return cases


def write_supervision_sheet(workbook: Any, styles: Styles, result: AuditResult, files: dict[str, str], title: str, footer: str) -> None:
    sheet = workbook.add_worksheet("Toezicht")
    sheet.hide_gridlines(2)
    set_widths(sheet, [w for _, w in COLUMNS])
    sheet.set_row(0, 24)
    sheet.write_string(0, 0, "Voor de toezichthouder", styles.get("title"))
    styles.merged(sheet, 1, 0, len(COLUMNS) - 1, INTRO, "plain")
    fit_row(sheet, 1, [(INTRO, sum(w for _, w in COLUMNS))])
    header = 3
    for col, (name, _) in enumerate(COLUMNS):
        sheet.write_string(header, col, name, styles.get("header"))
    row = header
    for case in supervision_cases(result):
        row += 1
        cells = (case.name, case.kvk, case.contract, case.sector, case.law, "; ".join(case.shortcomings), case.supervisor,
                 files.get(case.return_id, ""))
        for col, text in enumerate(cells):
            sheet.write_string(row, col, text, styles.get("text", Status.ROOD) if col == 5 else styles.get("text"))
        fit_row(sheet, row, [(text, COLUMNS[col][1]) for col, text in enumerate(cells)])
    if row == header:
        sheet.write_string(row + 1, 0, "Geen: bij geen enkele wettelijk verplichte aanbieder ontbreken meldcode of afwegingskader.",
                           styles.get("plain_nowrap"))
    sheet.freeze_panes(header + 1, 0)
    setup_print(sheet, landscape=True, header_left=title, header_right="Toezicht", footer_left=footer, repeat_rows=(header, header))
