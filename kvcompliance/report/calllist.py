"""The call list: every return in the order an officer should pick up the phone.

First the providers the law obliges with a rood Inhoud, then every other rood Inhoud,
then oranje, then those that only need to send (part of) their data again, then the rest.
Within a group: a higher escalation step first (with ``--dossier``), then more rood
points, then more oranje. :func:`call_list` is the
library function (the web page shows the same rows); :func:`write_call_list_sheet`
writes it as the first sheet of the overview, with a rank column so that sorting on it
restores the order, and a link that opens each provider's workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult, Identity, Verdict
from kvcompliance.outputs import PROVIDER_DIR
from kvcompliance.report.compare import agenda, year_on_year
from kvcompliance.report.styles import Styles, fit_row, set_widths, setup_print

#: The groups of the call list, in order: (key, Dutch label shown in the Actie column).
GROUPS = (
    ("wettelijk_rood", "Eerst bellen: wettelijke plicht, inhoud rood"),
    ("rood", "Indringend gesprek: inhoud rood"),
    ("oranje", "Bespreken: inhoud oranje"),
    ("aanvullen", "Gegevens laten aanvullen"),
    ("groen", "Voldoet"),
)
#: Added to the action of a rood or oranje return that must also send (part of) its data again.
ALSO_COMPLETE = "; ook gegevens laten aanvullen"


def needs_data(result: AuditResult, return_id: str) -> bool:
    """True when the provider must send (part of) its data again: a finding is grijs. The
    same returns get the reminder to complete the return (verzend --herinnering)."""
    from kvcompliance.report.logbook import to_complete

    return bool(to_complete(result, return_id))


def call_group(verdict: Verdict, who: Identity) -> int:
    """The group (index in :data:`GROUPS`) of a return."""
    if verdict.content == Status.ROOD:
        return 0 if who.duty == "wettelijk" else 1
    if verdict.content == Status.ORANJE:
        return 2
    if Status.GRIJS in (verdict.content, verdict.delivery):
        return 3
    return 4


@dataclass(frozen=True)
class CallRow:
    """One row of the call list (plain data: the overview and the web page show it)."""

    rank: int
    return_id: str
    action: str  # the group's label; a rood or oranje return that needs data too says so (ALSO_COMPLETE)
    identity: Identity
    verdict: Verdict
    red: int  # number of rood rules
    orange: int  # number of oranje rules
    first_point: str  # the first agenda point: 'KV07 Bereik training'
    trend: str  # with --vorige: 'KV07, KV09 verslechterd; KV03 verbeterd'; else ''
    workbook: str  # file name in accountgesprek/
    red_years: int | None = None  # with --dossier: consecutive years up to this one with Inhoud rood
    escalation: str = ""  # with --dossier: the step reached, '3 formele stap'
    escalation_reason: str = ""  # with --dossier: why, 'KV01: rood in 2023, 2024 en 2025'


def call_list(result: AuditResult, files: dict[str, str]) -> list[CallRow]:
    """Every return, in the order to call (see the module docstring)."""
    keyed = []
    for record in result.returns:
        rid = record.return_id
        who, verdict = result.identities[rid], result.verdicts[rid]
        findings = result.findings_for(rid)
        red = sum(1 for f in findings if f.status == Status.ROOD)
        orange = sum(1 for f in findings if f.status == Status.ORANJE)
        history = year_on_year(result, rid)
        points = agenda(findings, result.catalogue, history.worsened() if history else frozenset(), result.issues_for(rid))
        first = points[0].topic if points else ""
        group = call_group(verdict, who)
        officer = result.dossier.officer.get(rid) if result.dossier is not None else None
        step = officer.top.step.step if officer is not None and officer.top is not None else 0
        keyed.append(((group, -step, -red, -orange, who.name.casefold(), rid), group, rid, who, verdict, red, orange, first, history,
                      officer))
    keyed.sort(key=lambda item: item[0])
    rows = []
    for rank, (_, group, rid, who, verdict, red, orange, first, history, officer) in enumerate(keyed, start=1):
        action = GROUPS[group][1] + (ALSO_COMPLETE if group < 3 and needs_data(result, rid) else "")
        rows.append(
            CallRow(rank, rid, action, who, verdict, red, orange, first, rule_trend(history), files.get(rid, ""),
                    *escalation_cells(officer))
        )
    return rows


def escalation_cells(officer: Any) -> tuple[int | None, str, str]:
    """(years rood, step, why) of a provider's OfficerHistory; (None, '', '') without --dossier."""
    if officer is None:
        return None, "", ""
    top = officer.top
    if top is None:
        return officer.red_years, "", ""
    why = "; ".join(f"{m.rule_id}: {m.reason}" for m in officer.escalations if m.step.step == top.step.step)
    return officer.red_years, f"{top.step.step} {top.step.name}", why


def rule_trend(history: Any) -> str:
    """'KV07, KV09 verslechterd; KV03 verbeterd', 'gelijk', 'nieuw' or '' (no --vorige)."""
    if history is None:
        return ""
    if history.previous_overall is None and not history.rules:
        return "nieuw"
    worse = [rule_id for rule_id, (_, mark) in history.rules.items() if mark.word == "verslechterd"]
    better = [rule_id for rule_id, (_, mark) in history.rules.items() if mark.word == "verbeterd"]
    parts = []
    if worse:
        parts.append(f"{', '.join(worse)} verslechterd")
    if better:
        parts.append(f"{', '.join(better)} verbeterd")
    return "; ".join(parts) or "gelijk"


COLUMNS = (
    ("Rang", 5),
    ("Actie", 18),
    ("Aanbieder", 22),
    ("Sector", 12),
    ("Meldcodeplicht", 14),
    ("Eindoordeel", 11),
    ("Inhoud", 9),
    ("Aanlevering", 11),
    ("Rood", 5),
    ("Oranje", 6),
    ("Eerste agendapunt", 24),
    ("Contactpersoon", 14),
    ("E-mailadres", 28),
    ("Werkboek", 9),
)
TREND_COLUMN = ("Ten opzichte van vorig jaar", 22)
#: With --dossier, after Aanlevering: consecutive years Inhoud rood, the escalation step and why.
DOSSIER_COLUMNS = (("Jaren rood op rij", 8), ("Escalatietrede", 14), ("Waarom deze trede", 26))
#: The text of every workbook link (the file name is the link's tooltip).
LINK_TEXT = "openen"


def write_call_list_sheet(workbook: Any, styles: Styles, result: AuditResult, files: dict[str, str], title: str, footer: str,
                          intro: str) -> None:
    sheet = workbook.add_worksheet("Bellijst")
    sheet.hide_gridlines(2)
    columns = list(COLUMNS)
    if result.trends is not None:
        columns.insert([name for name, _ in columns].index("Eerste agendapunt"), TREND_COLUMN)
    if result.dossier is not None:
        at_rood = [name for name, _ in columns].index("Rood")
        columns[at_rood:at_rood] = DOSSIER_COLUMNS
    at = {name: n for n, (name, _) in enumerate(columns)}
    widths = [w for _, w in columns]
    # a sector name is one word: the column fits the longest, so none is broken in two
    widths[at["Sector"]] = max(widths[at["Sector"]], *(len(s.label) + 1 for s in result.catalogue.sectors))
    set_widths(sheet, widths)
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, title, styles.get("title"))
    sheet.write_string(1, 0, intro, styles.get("subtitle"))
    sheet.write_string(
        2, 0, "Op volgorde van wie u eerst belt. Sorteren op Rang zet de volgorde terug; klik op een werkboek om het te openen.",
        styles.get("subtitle"),
    )
    if result.dossier is not None:
        ladder = " · ".join(f"{step.step} {step.name}" for step in result.dossier.ladder)
        sheet.write_string(3, 0, f"Escalatie bij herhaling (uit het dossier; treden volgens het regelbestand: {ladder})."
                           " De lijst toont de bereikte trede en waarom; u beslist wat de gemeente doet.", styles.get("subtitle"))
    header = 4
    for col, (name, _) in enumerate(columns):
        sheet.write_string(header, col, name, styles.get("header"))
    sheet.set_row(header, 30)
    text, number = styles.get("text"), styles.get("count")
    row = header
    for entry in call_list(result, files):
        row += 1
        who = entry.identity
        duty = {"wettelijk": "wettelijk", "contractueel": "contractueel"}.get(who.duty or "", "onbekend")
        sheet.write_number(row, at["Rang"], entry.rank, number)
        action_kind = ("text", Status.ROOD) if entry.action.startswith(GROUPS[0][1]) else ("text", None)
        sheet.write_string(row, at["Actie"], entry.action, styles.get(*action_kind) if action_kind[1] else text)
        sheet.write_string(row, at["Aanbieder"], who.name or "onbekend", text)
        sheet.write_string(row, at["Sector"], who.sector_label, text)
        sheet.write_string(row, at["Meldcodeplicht"], duty, text)
        styles.status_cell(sheet, row, at["Eindoordeel"], entry.verdict.overall)
        styles.status_cell(sheet, row, at["Inhoud"], entry.verdict.content)
        styles.status_cell(sheet, row, at["Aanlevering"], entry.verdict.delivery)
        if result.dossier is not None:
            years, step, why = (name for name, _ in DOSSIER_COLUMNS)
            sheet.write_number(row, at[years], entry.red_years or 0, number)
            sheet.write_string(row, at[step], entry.escalation, styles.get("text", Status.ROOD) if entry.escalation else text)
            sheet.write_string(row, at[why], entry.escalation_reason, text)
        sheet.write_number(row, at["Rood"], entry.red, number)
        sheet.write_number(row, at["Oranje"], entry.orange, number)
        if TREND_COLUMN[0] in at:
            sheet.write_string(row, at[TREND_COLUMN[0]], entry.trend, text)
        sheet.write_string(row, at["Eerste agendapunt"], entry.first_point, text)
        sheet.write_string(row, at["Contactpersoon"], who.contact_name, text)
        sheet.write_string(row, at["E-mailadres"], who.contact_email, text)  # a long address wraps, never cut off
        if entry.workbook:
            sheet.write_url(row, at["Werkboek"], f"external:{PROVIDER_DIR}/{entry.workbook}", styles.get("link"), LINK_TEXT,
                            entry.workbook)
        else:
            sheet.write_blank(row, at["Werkboek"], None, text)
        cells = [(entry.first_point, widths[at["Eerste agendapunt"]]), (who.name, widths[at["Aanbieder"]]),
                 (entry.action, widths[at["Actie"]]), (who.contact_name, widths[at["Contactpersoon"]]),
                 (who.contact_email, widths[at["E-mailadres"]])]
        if entry.escalation_reason:
            cells.append((entry.escalation_reason, widths[at[DOSSIER_COLUMNS[2][0]]]))
        fit_row(sheet, row, cells)
    sheet.autofilter(header, 0, max(row, header), len(columns) - 1)
    sheet.freeze_panes(header + 1, 3)
    setup_print(sheet, landscape=True, header_left=title, header_right="Bellijst", footer_left=footer, repeat_rows=(header, header))
