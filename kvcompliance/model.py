"""Plain data that flows between the pipeline stages.

ingest -> ``ReturnRecord`` / ``RejectedFile``; normalise -> typed frame + ``FieldIssue``;
validate -> ``Finding``; report reads ``AuditResult``. No stage formats or decides what
another stage owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

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

    def in_words(self) -> str:
        """'tabblad Aanlevering, cel B5' (or 'cel B5' in a file without sheets)."""
        return f"tabblad {self.sheet}, cel {self.cell}" if self.sheet else f"cel {self.cell}"


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
    basis: str = ""  # grondslag: why the gemeente may ask this of this provider
    origin: str = ""  # herkomst: who set the norm
    missing: tuple[str, ...] = ()  # fields empty or not understood that made it grijs
    levels: tuple[int, ...] = ()  # the norm levels (indices in the rule) that hold at this status


@dataclass(frozen=True, slots=True)
class Identity:
    """How a return is named in every output: decided once, in normalisation."""

    return_id: str
    name: str  # '' when unknown
    kvk: str
    contract: str
    sector_key: str | None  # a catalogue sector key, or None when missing/unknown
    sector_label: str
    obligation: str  # Dutch: whether the meldcode duty is statutory or contractual
    year: int | str | None  # int when understood, else the text as typed
    source: str  # input file path relative to the inbox
    source_name: str  # file name only
    duty: str | None = None  # 'wettelijk', 'contractueel', or None when unknown
    relation: str | None = None  # 'contract', 'subsidie', or None when unknown
    contact_name: str = ""  # the form's contact person
    contact_email: str = ""  # the register's address first, else the form's ('' when none)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A return's two verdicts and the worst of them (DOMAIN §5.1.5)."""

    content: Status  # Inhoud: worst of KV01-KV13 and KV93
    delivery: Status  # Aanlevering: worst of KV90-KV92
    overall: Status  # Eindoordeel: worst of both


@dataclass(frozen=True)
class AuditResult:
    """Everything the reports need, produced once by :func:`kvcompliance.audit.run_audit`.

    Frozen: no report adds to it or caches in it. The per-return indexes are built when
    the result is made.
    """

    catalogue: Catalogue
    audit_year: int
    audit_year_source: str  # Dutch: where the audit year came from
    run_date: datetime
    returns: tuple[ReturnRecord, ...]
    frame: "pd.DataFrame"  # normalised values, index = return_id, one column per field
    findings: tuple[Finding, ...]
    issues: tuple[FieldIssue, ...]
    overall: Mapping[str, Status]
    rejected: tuple[RejectedFile, ...]
    identities: Mapping[str, Identity]
    #: inbox entries not read on purpose (lock files, hidden and system files, links, ...)
    skipped: tuple[RejectedFile, ...] = ()
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)
    #: return id -> key figure (catalogue ``kengetal``) -> value, computed in validation
    figures: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    inbox: str = ""
    #: contract register match (kvcompliance.register.RegisterMatch), when --contracten is given
    register: Any = None
    #: return id -> kvcompliance.history.Trend, when --vorige is given
    trends: Mapping[str, Any] | None = None
    previous_dir: str | None = None
    #: kvcompliance.dossier.model.DossierContext: earlier years from the dossier, when --dossier is given
    dossier: Any = None
    audit_year_warning: str = ""  # Dutch: said loudly when the audit year fits few returns
    _findings_by_return: Mapping[str, tuple[Finding, ...]] = field(init=False, repr=False, compare=False)
    _issues_by_return: Mapping[str, tuple[FieldIssue, ...]] = field(init=False, repr=False, compare=False)
    _records_by_id: Mapping[str, ReturnRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        findings: dict[str, list[Finding]] = {}
        for finding in self.findings:
            findings.setdefault(finding.return_id, []).append(finding)
        issues: dict[str, list[FieldIssue]] = {}
        for issue in self.issues:
            issues.setdefault(issue.return_id, []).append(issue)
        object.__setattr__(self, "_findings_by_return", {rid: tuple(found) for rid, found in findings.items()})
        object.__setattr__(self, "_issues_by_return", {rid: tuple(found) for rid, found in issues.items()})
        object.__setattr__(self, "_records_by_id", {record.return_id: record for record in self.returns})

    def findings_for(self, return_id: str) -> tuple[Finding, ...]:
        return self._findings_by_return.get(return_id, ())

    def issues_for(self, return_id: str) -> tuple[FieldIssue, ...]:
        return self._issues_by_return.get(return_id, ())

    def record(self, return_id: str) -> ReturnRecord | None:
        return self._records_by_id.get(return_id)
