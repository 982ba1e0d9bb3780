"""What the dossier tells an audit about earlier years: plain, picklable data.

:class:`ProviderHistory` is what a provider's own workbook shows (its years, its key
figures, last year's agreements and whether they were realised); :class:`OfficerHistory`
is for the officer only (consecutive years rood, the escalation step reached and why).
Both are made by :mod:`kvcompliance.dossier.history` before the workbooks are written and
travel in :class:`DossierContext` on the audit result. Only the standard library and the
catalogue's plain types are imported here, so the processes that write workbooks stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from kvcompliance.catalogue import EscalationStep, Status

#: Whether an agreement from last year's conversation was realised, judged this year.
REALISED = "gerealiseerd"
NOT_REALISED = "nog niet gerealiseerd"
NOT_JUDGEABLE = "niet vast te stellen"  # the rule is grijs this year
NO_LONGER_APPLIES = "regel geldt niet meer"  # n.v.t. this year
NOT_CHECKED = "niet door de controle te beoordelen"  # an 'overige afspraak', or a rule no longer checked

#: Agreements in these states go on this year's agenda.
ON_AGENDA = (NOT_REALISED, NOT_JUDGEABLE)

#: How an earlier year's return was found.
BY_CONTRACT = "kvk+contract"
BY_KVK = "kvk"


@dataclass(frozen=True)
class YearRecord:
    """One provider in one audit year: what the dossier holds (or this audit found)."""

    year: int
    present: bool  # False: no return of this provider in that year's audit
    contract: str = ""  # the contract number that year
    matched: str = ""  # BY_CONTRACT, BY_KVK ('' when absent or this year)
    overall: Status | None = None
    content: Status | None = None
    delivery: Status | None = None
    rules: Mapping[str, Status] = field(default_factory=dict)  # rule id -> status
    figures: Mapping[str, float | None] = field(default_factory=dict)  # key figure -> value


@dataclass(frozen=True)
class AgreementCheck:
    """An agreement from an earlier conversation, and where it stands this year."""

    year: int  # the audit year of the workbook it was typed in
    key: str  # 'KV07', 'veld:fte' or 'overig'
    rule_id: str  # '' unless about a rule
    field: str  # '' unless about a missing or unreadable answer
    topic: str  # as the agenda row named it
    agreement: str
    who: str
    deadline: str  # as typed, or a date in words
    agreed_on: date | None  # when the workbook holding it was saved
    now: Status | None  # the rule's status this year (None for a field or 'overig')
    state: str  # REALISED, NOT_REALISED, NOT_JUDGEABLE, NO_LONGER_APPLIES, NOT_CHECKED

    @property
    def on_agenda(self) -> bool:
        return self.state in ON_AGENDA


@dataclass(frozen=True)
class ProviderHistory:
    """A provider's years in the dossier, this year last: what its own workbook shows."""

    years: tuple[YearRecord, ...]
    notes: tuple[str, ...] = ()  # Dutch: how earlier years were matched (a changed contract number)
    agreements: tuple[AgreementCheck, ...] = ()  # made in last year's conversation


@dataclass(frozen=True)
class EscalationMark:
    """The escalation step one rule has reached for one provider, and why (officer only)."""

    rule_id: str
    step: EscalationStep
    years: tuple[int, ...]  # the consecutive years that count, oldest first
    reason: str  # Dutch: 'rood in 2023, 2024 en 2025'


@dataclass(frozen=True)
class OfficerHistory:
    """For the officer's overview: how long the Inhoud has been rood, and the escalation."""

    red_years: int  # consecutive audit years up to this one with Inhoud rood (0 when not rood now)
    escalations: tuple[EscalationMark, ...] = ()  # highest step first

    @property
    def top(self) -> EscalationMark | None:
        return self.escalations[0] if self.escalations else None


@dataclass(frozen=True)
class DossierContext:
    """Everything the dossier adds to one audit, per return id."""

    path: str
    years: tuple[int, ...]  # every audit year shown, this year included
    providers: Mapping[str, ProviderHistory]
    officer: Mapping[str, OfficerHistory]
    ladder: tuple[EscalationStep, ...] = ()
