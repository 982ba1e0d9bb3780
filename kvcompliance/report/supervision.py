"""The Toezicht sheet of the overview (DOMAIN §5.5): never in a provider's workbook.

A provider that the law obliges to have a meldcode, yet is rood on a rule the catalogue
marks ``toezicht = true`` (no meldcode, or one without the afwegingskader), is listed for
the officer with the supervisor of its sector. The gemeente decides whether to pass it
on; the tool only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcompliance.catalogue import Catalogue, Rule, Status
from kvcompliance.model import AuditResult
from kvcompliance.report.styles import Styles, fit_row, set_widths, setup_print

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


def supervised_rules(catalogue: Catalogue) -> list[Rule]:
    """The active rules whose rood at a statutorily obliged provider is a matter for the supervisor."""
    return [rule for rule in catalogue.rules if rule.supervised and rule.active]


def _intro(rules: list[Rule]) -> tuple[str, str]:
    """The sheet's explanation and its line for when nobody is listed, naming ``rules``."""
    names = ", ".join(f"{rule.id} {rule.title}" for rule in rules)
    which = "deze regel" if len(rules) == 1 else "een van deze regels"
    intro = (
        f"Aanbieders met een wettelijke meldcodeplicht bij wie {which} rood is: {names}; met de toezichthouder van hun"
        " sector. De gemeente beslist of zij dit doorgeeft. Dit tabblad staat alleen in dit overzicht, nooit in het werkboek"
        " van een aanbieder."
    )
    return intro, f"Geen: bij geen enkele aanbieder met een wettelijke meldcodeplicht is {which} rood."


def supervision_cases(result: AuditResult) -> list[SupervisionCase]:
    """The returns the officer may pass on to a supervisor, in input order."""
    catalogue = result.catalogue
    rules = supervised_rules(catalogue)
    titles = {rule.id: rule.title for rule in rules}
    cases = []
    for record in result.returns:
        who = result.identities[record.return_id]
        if who.duty != "wettelijk":
            continue
        red = [f.rule_id for f in result.findings_for(record.return_id) if f.rule_id in titles and f.status == Status.ROOD]
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
                shortcomings=tuple(f"{rule_id} {titles[rule_id]}".strip() for rule_id in red),
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
    rules = supervised_rules(result.catalogue)
    intro, nobody = _intro(rules) if rules else (
        "Geen van de regels is aangewezen voor de toezichthouder (toezicht = true in de regels).",
        "Geen: er is geen regel voor de toezichthouder.",
    )
    styles.merged(sheet, 1, 0, len(COLUMNS) - 1, intro, "plain")
    fit_row(sheet, 1, [(intro, sum(w for _, w in COLUMNS))])
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
        sheet.write_string(row + 1, 0, nobody, styles.get("plain_nowrap"))
    sheet.freeze_panes(header + 1, 0)
    setup_print(sheet, landscape=True, header_left=title, header_right="Toezicht", footer_left=footer, repeat_rows=(header, header))
