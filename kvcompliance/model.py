"""Plain data that flows between the pipeline stages.

ingest -> ``ReturnRecord`` / ``RejectedFile``; normalise -> typed frame + ``FieldIssue``;
validate -> ``Finding``; report reads ``AuditResult``. No stage formats or decides what
another stage owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kvcompliance.catalogue import Catalogue, Status

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass(frozen=True, slots=True)
class CellRef:
    """Where a field's value was found in the provider's file."""

    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.sheet else self.cell


@dataclass(frozen=True, slots=True)
class SourceFile:
    """An input file as received: never modified, always accounted for."""

    path: str  # relative to the inbox, with forward slashes
    size: int
    modified: float  # POSIX mtime
    sha256: str


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """One return as read from a file: raw values plus provenance per field."""

    return_id: str
    source: SourceFile
    values: dict[str, Any]  # field key -> raw value as the provider typed it (None = empty)
    cells: dict[str, CellRef]  # field key -> cell it came from
    form_version: str | None = None
    sheet: str = ""
    notes: tuple[str, ...] = ()  # Dutch remarks on this return (e.g. "vervangt ...")


@dataclass(frozen=True, slots=True)
class RejectedFile:
    """A file that was not audited, with the plain Dutch reason why."""

    source: SourceFile
    reason: str
    kind: str = "onleesbaar"  # short category: onleesbaar, beveiligd, geen opgave, dubbel, ...


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """A value in a return that could not be understood (or is not allowed)."""

    return_id: str
    field: str
    raw: str  # what the provider typed, as text
    reason: str  # Dutch: why it was not understood


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one rule for one return."""

    return_id: str
    rule_id: str
    status: Status
    fields: tuple[str, ...]  # the fields this outcome is about
    value: str  # the provider's value, formatted in Dutch
    norm: str  # the norm applied, in Dutch
    message: str  # Dutch explanation: value, norm and reasoning
    agenda: str | None = None  # a question for the accountgesprek (rood, oranje, grijs)


@dataclass
class AuditResult:
    """Everything a report needs; produced by :func:`kvcompliance.audit.run_audit`."""

    catalogue: Catalogue
    audit_year: int
    audit_year_source: str  # Dutch: where the audit year came from
    run_date: datetime
    returns: list[ReturnRecord]
    frame: "pd.DataFrame"  # normalised values, index = return_id, one column per field
    findings: list[Finding]
    issues: list[FieldIssue]
    overall: dict[str, Status]
    rejected: list[RejectedFile]
    inbox: str = ""
    #: contract register match (kvcompliance.register.RegisterMatch), when --contracten is given
    register: Any = None
    #: return id -> kvcompliance.history.Trend, when --vorige is given
    trends: dict[str, Any] | None = None
    previous_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def findings_for(self, return_id: str) -> list[Finding]:
        index = self.extra.get("_findings_by_return")
        if index is None:
            index = {}
            for finding in self.findings:
                index.setdefault(finding.return_id, []).append(finding)
            self.extra["_findings_by_return"] = index
        return index.get(return_id, [])

    def issues_for(self, return_id: str) -> list[FieldIssue]:
        index = self.extra.get("_issues_by_return")
        if index is None:
            index = {}
            for issue in self.issues:
                index.setdefault(issue.return_id, []).append(issue)
            self.extra["_issues_by_return"] = index
        return index.get(return_id, [])
