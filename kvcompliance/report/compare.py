"""What the workbooks show beside the findings, derived in ONE place and only rendered by the sheets.

- **Year on year** (``--vorige``): how a trend word is shown (text with ↑/↓ and a tone the
  sheets turn into a font colour), the sentence beside the overall status, and per rule
  the previous status and its trend.
- **The gespreksagenda**: which findings to discuss, in which order, with which question;
  a rule that worsened since last year is always on it, marked as such.
- **The sector comparison**: a provider's own figures beside the median of its sector in
  this audit, shown only when at least :data:`MIN_SECTOR_RETURNS` returns in the sector
  have a value, so that no other provider can be identified.

Nothing here decides a status: that is the rules' job. The render side (the classes and
:func:`trend_mark`) imports neither pandas nor :mod:`kvcompliance.history`, so the worker
processes that write provider workbooks stay light; the functions that read the audit
result import what they need when called.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.model import Finding
from kvcompliance.report.styles import AGENDA_STATUSES, TONE_DOWN, TONE_MUTED, TONE_PLAIN, TONE_UP
from kvcompliance.values import format_number, format_percent

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

    rule_id: str
    topic: str  # "KV07 Deskundigheid: bereik training"
    status: Status
    question: str
    worsened: bool = False  # marked WORSENED_MARK


def agenda(findings: Sequence[Finding], catalogue: Catalogue, worsened: set[str] | frozenset[str] = frozenset()) -> tuple[AgendaItem, ...]:
    """The points to discuss: rood, then oranje, then grijs; within a status the rules that
    worsened since last year first, then catalogue order. A rule that worsened is on the
    agenda whatever its status; its question is the rule's agenda text for its current
    status, else :data:`WORSENED_QUESTION`."""
    titles = {rule.id: rule.title for rule in catalogue.rules}
    rank = {status: n for n, status in enumerate(AGENDA_STATUSES)}
    chosen = [
        (n, f) for n, f in enumerate(findings) if Status(f.status) in rank or f.rule_id in worsened
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
    return tuple(items)


# ------------------------------------------------------------------ sector comparison
#: Fewer returns with a value than this in a sector: no median is shown (identifiability).
MIN_SECTOR_RETURNS = 5


def _column(frame, key: str):
    import numpy as np

    if key not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[key].to_numpy(dtype="float64", na_value=np.nan)


def _training(frame):
    import numpy as np

    trained, staff = _column(frame, "medewerkers_getraind"), _column(frame, "medewerkers")
    ok = (staff > 0) & (trained >= 0) & (trained <= staff)  # more trained than staff: not a value
    return np.where(ok, trained / np.where(ok, staff, 1), np.nan)


def _signals(frame):
    import numpy as np

    total = _column(frame, "meldingen_veilig_thuis") + _column(frame, "adviesvragen_veilig_thuis") + _column(frame, "signalen_verwijsindex")
    children = _column(frame, "clienten_minderjarig")
    ok = children > 0
    return np.where(ok, total / np.where(ok, children, 1) * 100, np.nan)


def _af_hours(frame):
    import numpy as np

    hours, staff = _column(frame, "af_uren_per_week"), _column(frame, "medewerkers")
    ok = staff > 0
    return np.where(ok, hours / np.where(ok, staff, 1) * 25, np.nan)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    explanation: str  # Dutch: how it is computed
    show: Callable[[float], str]
    compute: Callable[[Any], Any]  # typed frame -> float array (NaN: no value)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "bereik_training",
        "Bereik training meldcode",
        "Aandeel van de medewerkers met cliënt- of kindcontact dat de afgelopen 2 jaar in de meldcode is getraind.",
        format_percent,
        _training,
    ),
    Measure(
        "signalen_per_100",
        "Signalen per 100 bereikte jeugdigen",
        "Meldingen en adviesvragen bij Veilig Thuis plus signalen in de Verwijsindex, per 100 bereikte jeugdigen.",
        lambda v: format_number(v, 1),
        _signals,
    ),
    Measure(
        "af_uren_per_25",
        "Uren aandachtsfunctionaris per week per 25 medewerkers",
        "Beschikbare uren van de aandachtsfunctionaris(sen) per week, per 25 medewerkers met cliënt- of kindcontact.",
        lambda v: format_number(v, 1),
        _af_hours,
    ),
)

NOT_COMPUTABLE = "niet te berekenen"
NOT_SHOWN = "niet getoond"
FEW_RETURNS = (
    f"Minder dan {MIN_SECTOR_RETURNS} opgaven in deze sector: vergelijking niet getoond om herleidbaarheid te voorkomen."
)
NO_SECTOR = "Uw sector ontbreekt of is onbekend: er is geen vergelijking gemaakt."


@dataclass(frozen=True)
class SectorFigure:
    """One measure for one provider: its own value and, when allowed, its sector's median."""

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


@dataclass(frozen=True)
class SectorStats:
    """Computed once per audit: every return's own values and per sector the allowed medians."""

    own: Mapping[str, Mapping[str, float | None]]  # return id -> measure -> value
    sector_of: Mapping[str, str | None]  # return id -> sector key
    medians: Mapping[str, Mapping[str, tuple[float | None, int]]]  # sector -> measure -> (median or None, n)


def sector_stats(result: "AuditResult") -> SectorStats:
    """The measures of every return and the medians per sector, computed once per result."""
    cached = result.extra.get("_sector_stats")
    if cached is not None:
        return cached
    frame = result.frame
    ids = [str(i) for i in frame.index]
    known = {sector.key for sector in result.catalogue.sectors}
    if "sector" in frame.columns:
        sectors = [str(s) if not _missing(s) and str(s) in known else None for s in frame["sector"]]
    else:
        sectors = [None] * len(ids)
    own: dict[str, dict[str, float | None]] = {rid: {} for rid in ids}
    medians: dict[str, dict[str, tuple[float | None, int]]] = {}
    for measure in MEASURES:
        values = measure.compute(frame) if len(frame) else []
        groups: dict[str, list[float]] = {}
        for rid, sector, value in zip(ids, sectors, values):
            value = float(value)
            own[rid][measure.key] = value if math.isfinite(value) else None
            if sector is not None and math.isfinite(value):
                groups.setdefault(sector, []).append(value)
        for sector in {s for s in sectors if s is not None}:
            found = groups.get(sector, [])
            median = statistics.median(found) if len(found) >= MIN_SECTOR_RETURNS else None
            medians.setdefault(sector, {})[measure.key] = (median, len(found))
    stats = SectorStats(own, dict(zip(ids, sectors)), medians)
    result.extra["_sector_stats"] = stats
    return stats


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NA
    except (TypeError, ValueError):
        return True


def sector_comparison(result: "AuditResult", return_id: str) -> tuple[SectorFigure, ...]:
    """One provider's figures beside its sector's medians; nothing of any other provider."""
    stats = sector_stats(result)
    sector = stats.sector_of.get(return_id)
    sector_info = result.catalogue.sector(sector) if sector else None
    own = stats.own.get(return_id, {})
    figures = []
    for measure in MEASURES:
        value = own.get(measure.key)
        median, count = stats.medians.get(sector, {}).get(measure.key, (None, 0)) if sector else (None, 0)
        if sector is None:
            note = NO_SECTOR
        elif median is None:
            note = FEW_RETURNS
        else:
            label = sector_info.label if sector_info else sector
            note = f"Mediaan van de {count} opgaven in de sector {label} in deze controle."
        note = f"{note} {measure.explanation}"
        figures.append(
            SectorFigure(
                key=measure.key,
                label=measure.label,
                explanation=measure.explanation,
                own_value=value,
                own=measure.show(value) if value is not None else NOT_COMPUTABLE,
                median_value=median,
                median=measure.show(median) if median is not None else NOT_SHOWN,
                note=note,
            )
        )
    return tuple(figures)
