"""What the workbooks show beside the findings, derived in ONE place and only rendered by the sheets.

- **Year on year** (``--vorige``): how a trend word is shown (text with ↑/↓ and a tone the
  sheets turn into a font colour), the sentence beside the overall status, and per rule
  the previous status and its trend.
- **The gespreksagenda**: which findings to discuss, in which order, with which question;
  a rule that worsened since last year is always on it, marked as such.
- **The sector comparison**: a provider's key figures (computed by the rules) beside the
  median of the other providers in its sector, shown only when at least
  :data:`MIN_OTHER_PROVIDERS` other providers have a value, so that no other provider can
  be recognised.

Nothing here decides a status: that is the rules' job. The render side (the classes and
:func:`trend_mark`) imports neither pandas nor :mod:`kvcompliance.history`, so the worker
processes that write provider workbooks stay light; the functions that read the audit
result import what they need when called.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.model import FieldIssue, Finding
from kvcompliance.report.styles import AGENDA_STATUSES, TONE_DOWN, TONE_MUTED, TONE_PLAIN, TONE_UP
from kvcompliance.values import format_number

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.model import AuditResult

# ------------------------------------------------------------------ year on year
#: history.WORSENED, spelled out so that this module need not import history (a test
#: keeps the words in step).
_WORSENED = "verslechterd"

#: How each trend word of :mod:`kvcompliance.history` is shown: (text, tone).
TREND_LOOK = {
    "verbeterd": ("↑ verbeterd", TONE_UP),
    _WORSENED: ("↓ verslechterd", TONE_DOWN),
    "gelijk": ("gelijk", TONE_PLAIN),
    "nieuw": ("nieuw", TONE_MUTED),
    "niet te vergelijken": ("niet te vergelijken", TONE_MUTED),
}


@dataclass(frozen=True)
class TrendMark:
    """A trend as shown: the word (history's), the text with its arrow, and a tone."""

    word: str
    text: str
    tone: str


def trend_mark(word: str) -> TrendMark:
    text, tone = TREND_LOOK.get(word, (word, TONE_MUTED))
    return TrendMark(word, text, tone)


@dataclass(frozen=True)
class YearOnYear:
    """One return compared with its return in the previous audit (plain and picklable)."""

    previous_overall: Status | None  # None: no return last year
    overall: TrendMark
    sentence: str  # Dutch, shown after the trend text beside the overall status
    rules: Mapping[str, tuple[Status | None, TrendMark]] = field(default_factory=dict)  # empty when new

    def worsened(self) -> set[str]:
        return {rule_id for rule_id, (_, mark) in self.rules.items() if mark.word == _WORSENED}


def year_on_year(result: "AuditResult", return_id: str) -> YearOnYear | None:
    """The comparison of one return with last year, or None without ``--vorige``."""
    if result.trends is None:
        return None
    from kvcompliance import history

    trend = result.trends.get(return_id)
    if trend is None:
        trend = history.Trend(None, history.NEW)
    rules = {rule_id: (prev, trend_mark(word)) for rule_id, (prev, word) in trend.rules.items()}
    sentence = {
        history.IMPROVED: "het eindoordeel is beter dan vorig jaar.",
        history.WORSENED: "het eindoordeel is slechter dan vorig jaar.",
        history.SAME: "het eindoordeel is hetzelfde als vorig jaar.",
        history.NOT_COMPARABLE: "een van beide eindoordelen is grijs (niet te beoordelen).",
        history.NEW: "er is geen opgave van vorig jaar gevonden met hetzelfde KvK-nummer en contractnummer.",
    }.get(trend.overall, "")
    if rules:
        counts = {word: sum(1 for _, mark in rules.values() if mark.word == word) for word in (history.IMPROVED, history.WORSENED, history.SAME)}
        sentence += (
            f" Per regel: {counts[history.IMPROVED]} verbeterd, {counts[history.WORSENED]} verslechterd,"
            f" {counts[history.SAME]} gelijk."
        )
    return YearOnYear(trend.previous_overall, trend_mark(trend.overall), sentence, rules)


def trend_counts(result: "AuditResult") -> dict[str, int]:
    """How many returns improved, worsened, ... (in the order history defines them)."""
    from kvcompliance import history

    words = (history.IMPROVED, history.WORSENED, history.SAME, history.NEW, history.NOT_COMPARABLE)
    counts = dict.fromkeys(words, 0)
    for trend in (result.trends or {}).values():
        counts[trend.overall] = counts.get(trend.overall, 0) + 1
    return counts


# ------------------------------------------------------------------ agenda
WORSENED_MARK = "(verslechterd t.o.v. vorig jaar)"
WORSENED_QUESTION = "Deze regel is verslechterd ten opzichte van vorig jaar: wat is er veranderd?"


@dataclass(frozen=True)
class AgendaItem:
    """One point for the accountgesprek."""

    rule_id: str  # the rule; for a missing field, every rule that needs it ("KV08, KV90")
    topic: str  # "KV07 Bereik training", or "‘Aantal fte van deze medewerkers’"
    status: Status
    question: str
    worsened: bool = False  # marked WORSENED_MARK
    field: str = ""  # the field key, for a point about a missing or unreadable answer
    agreed: bool = False  # the question opens with an agreement of last year not (yet) realised


def agenda(
    findings: Sequence[Finding],
    catalogue: Catalogue,
    worsened: set[str] | frozenset[str] = frozenset(),
    issues: Sequence[FieldIssue] = (),
    agreements: Sequence[Any] = (),
) -> tuple[AgendaItem, ...]:
    """The points to discuss: rood, then oranje, then grijs; within a status the rules that
    worsened since last year first, then catalogue order. A rule that worsened is on the
    agenda whatever its status. Answers that are missing or cannot be read are one point
    per field, after the rules, however many rules need them (DOMAIN §5, texts).

    ``agreements`` (:class:`kvcompliance.dossier.model.AgreementCheck`, from the dossier):
    each agreement of last year that is not realised opens the question of its rule's or
    field's point ("Afgesproken op …: … — nog niet gerealiseerd."), or becomes a point of
    its own after the rules when its rule has none."""
    titles = {rule.id: rule.title for rule in catalogue.rules}
    rank = {status: n for n, status in enumerate(AGENDA_STATUSES)}
    chosen = [
        (n, f) for n, f in enumerate(findings)
        if (Status(f.status) in rank and not f.missing) or f.rule_id in worsened
    ]
    chosen.sort(key=lambda item: (rank.get(Status(item[1].status), len(rank)), item[1].rule_id not in worsened, item[0]))
    items = []
    for _, finding in chosen:
        was_worse = finding.rule_id in worsened
        title = titles.get(finding.rule_id)
        question = finding.agenda or (WORSENED_QUESTION if was_worse else finding.message)
        items.append(
            AgendaItem(
                rule_id=finding.rule_id,
                topic=f"{finding.rule_id} {title}" if title else finding.rule_id,
                status=Status(finding.status),
                question=question,
                worsened=was_worse,
            )
        )
    needed: dict[str, list[str]] = {}
    for finding in findings:
        if Status(finding.status) == Status.GRIJS:
            for key in finding.missing:
                needed.setdefault(key, []).append(finding.rule_id)
    typed = {issue.field: issue for issue in issues}
    for fld in catalogue.fields:
        if fld.key not in needed:
            continue
        issue = typed.get(fld.key)
        if issue is not None:
            question = catalogue.texts["agenda_veld_onbegrepen"].format(veld=fld.label, getypt=issue.raw, reden=issue.reason)
        else:
            question = catalogue.texts["agenda_veld_leeg"].format(veld=fld.label)
        rules = ", ".join(dict.fromkeys(needed[fld.key]))
        items.append(AgendaItem(rule_id=rules, topic=f"‘{fld.label}’ (nodig voor {rules})", status=Status.GRIJS,
                                question=question, field=fld.key))
    return _with_agreements(items, agreements, titles) if agreements else tuple(items)


def agreement_line(check: Any) -> str:
    """'Afgesproken op 14 mei 2025: alle medewerkers getraind (wie: P. Jansen; termijn: 1 december
    2025) — nog niet gerealiseerd.'"""
    from kvcompliance.dossier.model import NOT_REALISED
    from kvcompliance.settings import date_in_words

    when = f"op {date_in_words(check.agreed_on)}" if check.agreed_on else f"in het gesprek over {check.year}"
    extra = "; ".join(part for part in (f"wie: {check.who}" if check.who else "",
                                        f"termijn: {deadline_text(check.deadline)}" if check.deadline else "") if part)
    state = NOT_REALISED if check.state == NOT_REALISED else "niet vast te stellen of dit is gerealiseerd"
    return f"Afgesproken {when}: {check.agreement}{f' ({extra})' if extra else ''} — {state}."


def deadline_text(deadline: str) -> str:
    """A deadline as stored (an ISO date, or text as typed) in Dutch words."""
    from datetime import date

    from kvcompliance.settings import date_in_words

    try:
        return date_in_words(date.fromisoformat(deadline))
    except ValueError:
        return deadline


def _with_agreements(items: list[AgendaItem], agreements: Sequence[Any], titles: Mapping[str, str]) -> tuple[AgendaItem, ...]:
    first_field = next((n for n, item in enumerate(items) if item.field), len(items))
    extra = []
    for check in agreements:
        if not check.on_agenda or not (check.rule_id or check.field):
            continue
        line = agreement_line(check)
        at = next((n for n, item in enumerate(items)
                   if (check.field and item.field == check.field) or (check.rule_id and not item.field and item.rule_id == check.rule_id)), None)
        if at is not None:
            item = items[at]
            items[at] = replace(item, question=f"{line} {item.question}", agreed=True)
        elif check.rule_id:
            title = titles.get(check.rule_id, "")
            extra.append(AgendaItem(check.rule_id, f"{check.rule_id} {title}".strip(), Status(check.now or Status.GRIJS),
                                    f"{line} Hoe staat het ermee?", agreed=True))
    return tuple(items[:first_field] + extra + items[first_field:])


# ------------------------------------------------------------------ sector comparison
#: Fewer other providers (distinct KvK-nummers) with a value than this in a sector: no
#: median is shown, so that no other provider can be recognised in it.
MIN_OTHER_PROVIDERS = 5

NOT_COMPUTABLE = "niet te berekenen"
NOT_SHOWN = "niet getoond"
FEW_PROVIDERS = (
    f"Minder dan {MIN_OTHER_PROVIDERS} andere aanbieders in deze sector met een waarde: vergelijking niet getoond,"
    " zodat geen andere aanbieder herkenbaar is."
)
NO_SECTOR = "Uw sector ontbreekt of is onbekend: er is geen vergelijking gemaakt."


@dataclass(frozen=True)
class SectorFigure:
    """One key figure for one provider: its own value and, when allowed, the median of the
    other providers in its sector."""

    key: str
    label: str
    explanation: str
    own_value: float | None
    own: str  # formatted, or NOT_COMPUTABLE
    median_value: float | None  # None when not shown
    median: str  # formatted, or NOT_SHOWN
    note: str  # Dutch: what the median is, or why it is not shown

    @property
    def shown(self) -> bool:
        return self.median_value is not None


def _show(catalogue: Catalogue, figure: Any, value: float) -> str:
    """A key figure's value in its metric's format."""
    from kvcompliance.values import format_value

    rule = catalogue.rule(figure.rule)
    fmt = next((m.format for m in rule.metrics if m.key == figure.metric), "getal")
    if fmt == "getal":
        return format_number(value, 1)
    return format_value(value, fmt)


def median_without(ordered: Sequence[float], index: int | None) -> float:
    """The median of the sorted values ``ordered`` without the one at ``index`` (None: all),
    as :func:`statistics.median` gives it."""
    n = len(ordered) - (index is not None)

    def at(j: int) -> float:
        return ordered[j if index is None or j < index else j + 1]

    return at(n // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2


def sector_comparisons(result: "AuditResult") -> dict[str, tuple[SectorFigure, ...]]:
    """Per return its key figures beside the median of the OTHER providers in its sector.

    Providers are counted by KvK-nummer: a provider with several contracts counts once
    (the median of its own returns), and a return without a KvK-nummer is not counted
    (it might be any provider). A median is shown only with at least
    :data:`MIN_OTHER_PROVIDERS` other providers, so no workbook shows another provider's
    figures.
    """
    catalogue = result.catalogue
    per_sector: dict[str, dict[str, dict[str, list[float]]]] = {}  # sector -> figure -> kvk -> values
    for rid, who in result.identities.items():
        if who.sector_key is None or not who.kvk:
            continue
        for key, value in result.figures.get(rid, {}).items():
            if value is not None:
                per_sector.setdefault(who.sector_key, {}).setdefault(key, {}).setdefault(who.kvk, []).append(value)
    # Per sector and figure each provider's median, sorted once: the median of the others
    # is then read off for every return (recomputing it per return took 71 s for 10,000).
    providers = {
        (sector, key): (by_kvk, sorted(by_kvk.values()))
        for sector, figures in per_sector.items()
        for key, values in figures.items()
        for by_kvk in [{kvk: statistics.median(v) for kvk, v in values.items()}]
    }
    comparisons = {}
    for record in result.returns:
        rid = record.return_id
        who = result.identities[rid]
        own = result.figures.get(rid, {})
        figures = []
        for figure in catalogue.key_figures:
            value = own.get(figure.key)
            median = None
            if who.sector_key is None:
                note = NO_SECTOR
            else:
                by_kvk, ordered = providers.get((who.sector_key, figure.key), ({}, []))
                left_out = bisect.bisect_left(ordered, by_kvk[who.kvk]) if who.kvk in by_kvk else None
                count = len(ordered) - (left_out is not None)
                if count >= MIN_OTHER_PROVIDERS:
                    median = median_without(ordered, left_out)
                    note = f"Mediaan van {count} andere aanbieders in de sector {catalogue.sector(who.sector_key).label_in_sentence} in deze controle."
                else:
                    note = FEW_PROVIDERS
            figures.append(
                SectorFigure(
                    key=figure.key,
                    label=figure.label,
                    explanation=figure.explanation,
                    own_value=value,
                    own=_show(catalogue, figure, value) if value is not None else NOT_COMPUTABLE,
                    median_value=median,
                    median=_show(catalogue, figure, median) if median is not None else NOT_SHOWN,
                    note=f"{note} {figure.explanation}",
                )
            )
        comparisons[rid] = tuple(figures)
    return comparisons
