"""Earlier years from the dossier, joined to this audit's returns: read BEFORE the
workbooks are written, because every provider workbook shows its history.

Matching across years (DOMAIN §6.7): by KvK-nummer + contractnummer (contract numbers
compared as the contract register compares them); where a year has no such return, by
KvK-nummer alone, but only when both that year and this audit hold exactly one return of
that KvK-nummer (a changed contract number), and the workbook says so.

Escalation, per rule: count the consecutive audit years up to this one in which the rule
was rood, or was still oranje after an agreement about it in the conversation of the year
before; that count is the step on the rules file's ladder (the last step at most). The
tool only shows the step and why; the gemeente decides.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Iterable, Sequence

from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.dossier.model import (
    BY_CONTRACT,
    BY_KVK,
    NO_LONGER_APPLIES,
    NOT_CHECKED,
    NOT_JUDGEABLE,
    NOT_REALISED,
    REALISED,
    AgreementCheck,
    DossierContext,
    EscalationMark,
    OfficerHistory,
    ProviderHistory,
    YearRecord,
)
from kvcompliance.dossier.schema import Dossier, dutch_reason
from kvcompliance.errors import DossierError
from kvcompliance.register import contract_key

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.model import AuditResult


@dataclass(frozen=True)
class StoredReturn:
    id: int
    year: int
    kvk: str
    contract_key: str
    contract: str
    reported_year: int | None
    overall: Status
    content: Status
    delivery: Status


@dataclass(frozen=True)
class StoredAgreement:
    kvk: str
    contract_key: str
    year: int
    key: str
    rule_id: str
    field: str
    topic: str
    agreement: str
    who: str
    deadline: str
    agreed_on: date | None


@dataclass
class Past:
    """What the dossier holds about the years before this audit (plain rows)."""

    years: set[int]
    returns: list[StoredReturn]
    statuses: dict[int, dict[str, Status]]
    figures: dict[int, dict[str, float | None]]
    agreements: list[StoredAgreement]


# ------------------------------------------------------------------ reading
def read_past(dossier: Dossier, audit_year: int) -> Past:
    """Every stored audit year before ``audit_year``, in one read transaction."""
    conn = dossier.connect()
    try:
        conn.execute("BEGIN")
        years = {row[0] for row in conn.execute("SELECT DISTINCT controlejaar FROM opgaven WHERE controlejaar < ?", (audit_year,))}
        returns = [
            StoredReturn(row[0], row[1], row[2], row[3], row[4], row[5], Status(row[6]), Status(row[7]), Status(row[8]))
            for row in conn.execute(
                "SELECT id, controlejaar, kvk_nummer, contract_sleutel, contractnummer, verslagjaar, eindoordeel, inhoud,"
                " aanlevering FROM opgaven WHERE controlejaar < ?",
                (audit_year,),
            )
        ]
        statuses: dict[int, dict[str, Status]] = defaultdict(dict)
        for rid, rule, status in conn.execute(
            "SELECT b.opgave_id, b.regel, b.status FROM bevindingen b JOIN opgaven o ON o.id = b.opgave_id"
            " WHERE o.controlejaar < ?",
            (audit_year,),
        ):
            statuses[rid][rule] = Status(status)
        figures: dict[int, dict[str, float | None]] = defaultdict(dict)
        for rid, key, value in conn.execute(
            "SELECT k.opgave_id, k.kengetal, k.waarde FROM kengetallen k JOIN opgaven o ON o.id = k.opgave_id"
            " WHERE o.controlejaar < ?",
            (audit_year,),
        ):
            figures[rid][key] = value
        agreements = [
            StoredAgreement(row[0], row[1], row[2], row[3], row[4] or "", row[5] or "", row[6], row[7], row[8], row[9],
                            _date(row[10]))
            for row in conn.execute(
                "SELECT kvk_nummer, contract_sleutel, controlejaar, sleutel, regel, veld, onderwerp, afspraak, wie, termijn,"
                " afgesproken_op FROM afspraken WHERE controlejaar < ? ORDER BY id",
                (audit_year,),
            )
        ]
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise DossierError(dutch_reason(exc, dossier.path)) from exc
    except ValueError:  # a status or date that no kvcompliance wrote
        raise DossierError(f"Het dossier {dossier.name} bevat gegevens die kvcompliance niet kent; is het met de hand gewijzigd?") from None
    finally:
        conn.close()
    return Past(years, returns, dict(statuses), dict(figures), agreements)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def attach_history(result: "AuditResult", dossier: Dossier) -> "AuditResult":
    """``result`` with its :class:`DossierContext` (earlier years, agreements, escalation)."""
    context = build_context(result, read_past(dossier, result.audit_year), str(dossier.path))
    return replace(result, dossier=context)


# ------------------------------------------------------------------ joining
def _best(records: Iterable[StoredReturn]) -> StoredReturn:
    """Of several returns of one provider in one year: the one about that year, the newest."""
    return max(records, key=lambda r: (r.reported_year == r.year, r.id))


def build_context(result: "AuditResult", past: Past, path: str = "") -> DossierContext:
    """Join this audit's returns to the dossier's earlier years (pure: no database)."""
    catalogue = result.catalogue
    years = tuple(sorted(past.years | {result.audit_year}))
    grouped: dict[tuple[str, str, int], list[StoredReturn]] = defaultdict(list)
    for record in past.returns:
        if record.kvk:
            grouped[record.kvk, record.contract_key, record.year].append(record)
    exact = {key: _best(found) for key, found in grouped.items()}
    by_kvk: dict[tuple[str, int], list[StoredReturn]] = defaultdict(list)
    for (kvk, _, year), record in exact.items():
        by_kvk[kvk, year].append(record)
    agreements: dict[tuple[str, str, int], list[StoredAgreement]] = defaultdict(list)
    for agreement in past.agreements:
        agreements[agreement.kvk, agreement.contract_key, agreement.year].append(agreement)
    now_kvk = Counter(who.kvk for who in result.identities.values() if who.kvk)

    providers, officer = {}, {}
    for record in result.returns:
        rid = record.return_id
        who = result.identities[rid]
        key = contract_key(who.contract) if who.contract else ""
        rows: list[YearRecord] = []
        made: dict[int, list[StoredAgreement]] = {}
        changed: dict[str, list[int]] = defaultdict(list)
        for year in years[:-1]:  # the earlier years; this audit's year is last
            found, how = None, ""
            if who.kvk:
                found = exact.get((who.kvk, key, year))
                how = BY_CONTRACT
                if found is None and now_kvk[who.kvk] == 1 and len(by_kvk.get((who.kvk, year), ())) == 1:
                    found, how = by_kvk[who.kvk, year][0], BY_KVK
                    changed[found.contract].append(year)
            made[year] = agreements.get((who.kvk, found.contract_key if found else key, year), []) if who.kvk else []
            if found is None:
                rows.append(YearRecord(year, False))
                continue
            rows.append(YearRecord(year, True, found.contract, how, found.overall, found.content, found.delivery,
                                   past.statuses.get(found.id, {}), past.figures.get(found.id, {})))
        verdict = result.verdicts.get(rid)
        this = YearRecord(
            result.audit_year, True, who.contract, "", result.overall.get(rid), verdict.content if verdict else None,
            verdict.delivery if verdict else None, {f.rule_id: Status(f.status) for f in result.findings_for(rid)},
            dict(result.figures.get(rid, {})),
        )
        rows.append(this)
        last = [_check(a, this, result, rid) for a in made.get(result.audit_year - 1, [])]
        providers[rid] = ProviderHistory(tuple(rows), _notes(who.kvk, changed), tuple(last))
        officer[rid] = OfficerHistory(_red_years(rows), escalations(catalogue, rows, made))
    return DossierContext(path, years, providers, officer, catalogue.escalation)


def _check(agreement: StoredAgreement, this: YearRecord, result: "AuditResult", rid: str) -> AgreementCheck:
    """Where ``agreement`` stands in this year's audit."""
    now = None
    if agreement.rule_id:
        now = this.rules.get(agreement.rule_id)
        state = {Status.GROEN: REALISED, Status.NVT: NO_LONGER_APPLIES, Status.GRIJS: NOT_JUDGEABLE, None: NOT_CHECKED}.get(
            now, NOT_REALISED
        )
    elif agreement.field and agreement.field in result.frame.columns:
        from kvcompliance.normalise import plain

        given = plain(result.frame.at[rid, agreement.field]) is not None
        state = REALISED if given else NOT_REALISED
    else:
        state = NOT_CHECKED
    return AgreementCheck(agreement.year, agreement.key, agreement.rule_id, agreement.field, agreement.topic, agreement.agreement,
                          agreement.who, agreement.deadline, agreement.agreed_on, now, state)


def _notes(kvk: str, changed: dict[str, list[int]]) -> tuple[str, ...]:
    if not kvk:
        return ("Uw opgave heeft geen KvK-nummer; daarom is zij niet aan opgaven van eerdere jaren gekoppeld.",)
    notes = []
    for contract, years in changed.items():
        shown = join_years(years)
        notes.append(
            f"In {shown} stond uw opgave onder contractnummer {contract or 'onbekend'}. Omdat het contractnummer is veranderd,"
            f" is {'die opgave' if len(years) == 1 else 'zijn die opgaven'} op uw KvK-nummer aan deze opgave gekoppeld."
        )
    return tuple(notes)


def join_years(years: Sequence[int]) -> str:
    """'2023', '2023 en 2024', '2022, 2023 en 2024'."""
    texts = [str(y) for y in sorted(years)]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} en {texts[-1]}"


# ------------------------------------------------------------------ consecutive years
def _chain(rows: Sequence[YearRecord], counts) -> list[YearRecord]:
    """The years that count, newest first, running back from this year without a gap."""
    chain = []
    expected = rows[-1].year
    for row in reversed(rows):
        if row.year != expected or not row.present or not counts(row):
            break
        chain.append(row)
        expected -= 1
    return chain


def _red_years(rows: Sequence[YearRecord]) -> int:
    return len(_chain(rows, lambda row: row.content == Status.ROOD))


def escalations(catalogue: Catalogue, rows: Sequence[YearRecord], made: dict[int, list[StoredAgreement]]) -> tuple[EscalationMark, ...]:
    """The step each rule has reached (highest first); nothing for a rule that is not rood
    now and not oranje after an agreement."""
    ladder = catalogue.escalation
    if not ladder:
        return ()
    marks = []
    for rule in catalogue.active_rules:
        agreed = {year + 1 for year, found in made.items() if any(a.rule_id == rule.id for a in found)}

        def counts(row: YearRecord, rule_id: str = rule.id, agreed: set[int] = agreed) -> bool:
            status = row.rules.get(rule_id)
            return status == Status.ROOD or (status == Status.ORANJE and row.year in agreed)

        chain = _chain(rows, counts)
        if not chain:
            continue
        step = ladder[min(len(chain), len(ladder)) - 1]
        marks.append(EscalationMark(rule.id, step, tuple(r.year for r in reversed(chain)), _reason(chain, rule.id, agreed)))
    order = {rule.id: n for n, rule in enumerate(catalogue.rules)}
    return tuple(sorted(marks, key=lambda m: (-m.step.step, order.get(m.rule_id, 0))))


def _reason(chain: Sequence[YearRecord], rule_id: str, agreed: set[int]) -> str:
    """'rood in 2023 en 2024; in 2025 nog oranje na de afspraak uit het gesprek over 2024', or
    'rood in 2024 en 2025; de afspraak uit het gesprek over 2024 is niet nagekomen'."""
    rows = sorted(chain, key=lambda r: r.year)
    red = [row.year for row in rows if row.rules.get(rule_id) == Status.ROOD]
    parts = [f"rood in {join_years(red)}"] if red else []
    for row in rows:
        if row.rules.get(rule_id) != Status.ROOD:
            parts.append(f"in {row.year} nog oranje na de afspraak uit het gesprek over {row.year - 1}")
        elif row.year in agreed:
            parts.append(f"de afspraak uit het gesprek over {row.year - 1} is niet nagekomen")
    return "; ".join(parts)

