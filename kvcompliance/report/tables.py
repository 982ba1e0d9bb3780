"""Plain rows shared by several outputs, defined once.

``findings_rows`` is the Bevindingen table: the overview sheet and the CSV both write it,
so its columns and their order exist only here. How a return is named in every output is
its :class:`~kvcompliance.model.Identity`, decided in normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult

#: The columns of the Bevindingen table, in order: the stable name the CSV keeps as its
#: header (other tools read it) and the Dutch header the officer reads on the sheet.
FINDINGS_HEADERS = {
    "aanbieder": "Aanbieder",
    "kvk_nummer": "KvK-nummer",
    "contractnummer": "Contractnummer",
    "regel": "Regel",
    "omschrijving": "Omschrijving",
    "status": "Status",
    "waarde": "Waarde",
    "norm": "Norm",
    "toelichting": "Toelichting",
    "grondslag": "Grondslag",
    "herkomst": "Herkomst norm",
    "bestand": "Bestand",
}
#: The stable column names (the CSV's header), in order.
FINDINGS_COLUMNS = tuple(FINDINGS_HEADERS)


@dataclass(frozen=True)
class FindingRow:
    """One row of the Bevindingen table: the status (for colour) and the cell texts."""

    status: Status
    cells: dict[str, str]  # column (FINDINGS_COLUMNS) -> text as shown; status = its label


def findings_rows(result: AuditResult) -> list[FindingRow]:
    """One row per return × rule, returns in input order, rules in catalogue order."""
    return list(iter_findings_rows(result))


def iter_findings_rows(result: AuditResult) -> Iterator[FindingRow]:
    """:func:`findings_rows` one row at a time (the writers stream them)."""
    catalogue = result.catalogue
    titles = {rule.id: rule.title for rule in catalogue.rules}
    labels = {info.status: info.label for info in catalogue.statuses}
    who_of = result.identities
    for record in result.returns:
        who = who_of[record.return_id]
        for finding in result.findings_for(record.return_id):
            yield FindingRow(
                status=finding.status,
                cells={
                    "aanbieder": who.name,
                    "kvk_nummer": who.kvk,
                    "contractnummer": who.contract,
                    "regel": finding.rule_id,
                    "omschrijving": titles.get(finding.rule_id, ""),
                    "status": labels[finding.status],
                    "waarde": finding.value,
                    "norm": finding.norm,
                    "toelichting": finding.message,
                    "grondslag": finding.basis,
                    "herkomst": finding.origin,
                    "bestand": who.source,
                },
            )
