"""One check function per rule that needs more than its fields: applicability and metrics.

A check function gets the typed frame (values not understood are already empty) and its
rule, and returns a :class:`RuleOutput`: when the rule applies (``pd.NA`` = cannot tell),
the metric columns its norm levels test, and extra text values for its Dutch texts. It
decides no status and writes no sentence of its own: the norm levels in the catalogue do
that, run by pandera in :mod:`kvcompliance.validate`.

Metrics use pandas' nullable types with Kleene logic, so a metric is missing exactly when
a missing input could change it: ``False & NA`` is ``False``, ``True & NA`` is ``NA``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Mapping

import pandas as pd

from kvcompliance.catalogue import Catalogue, Rule
from kvcompliance.model import FieldIssue

@dataclass
class RuleContext:
    frame: pd.DataFrame
    rule: Rule
    catalogue: Catalogue
    audit_year: int
    in_sector: pd.Series  # boolean, NA where the sector is unknown
    issues: Mapping[str, Mapping[str, FieldIssue]]  # return id -> field -> what was not understood

    def not_understood(self, key: str) -> pd.Series:
        """True for returns where the provider typed something in ``key`` that was not understood."""
        return pd.Series([key in self.issues.get(rid, {}) for rid in self.frame.index], index=self.frame.index, dtype="boolean")


@dataclass
class RuleOutput:
    applies: pd.Series  # nullable boolean
    metrics: dict[str, pd.Series] = field(default_factory=dict)
    texts: dict[str, pd.Series] = field(default_factory=dict)  # extra template values (already text)
    fields: pd.Series | None = None  # per return: the fields a failing outcome is about (tuples)
    #: fields that decide whether the rule applies; named when that cannot be told
    scope_fields: tuple[str, ...] = ()


CheckFunction = Callable[[RuleContext], RuleOutput]
CHECKS: dict[str, CheckFunction] = {}


def check(rule_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the check function of a rule."""

    def register(fn: CheckFunction) -> CheckFunction:
        CHECKS[rule_id] = fn
        return fn

    return register


def default_check(ctx: RuleContext) -> RuleOutput:
    """A rule whose levels test its fields directly applies in its sectors."""
    return RuleOutput(applies=ctx.in_sector, scope_fields=_sector_scope(ctx))


def _sector_scope(ctx: RuleContext, *fields: str) -> tuple[str, ...]:
    return (("sector",) if ctx.rule.sectors is not None else ()) + fields


def run_check(ctx: RuleContext) -> RuleOutput:
    return CHECKS.get(ctx.rule.id, default_check)(ctx)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("Float64")
    den = denominator.astype("Float64")
    return (num / den.where(den != 0)).astype("Float64")


def _bool(values: list, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype="boolean")


# ------------------------------------------------------------------------ the rules
@check("KV02")
def kv02_framework(ctx: RuleContext) -> RuleOutput:
    return RuleOutput(applies=ctx.in_sector & ctx.frame["meldcode_aanwezig"], scope_fields=_sector_scope(ctx, "meldcode_aanwezig"))


@check("KV03")
def kv03_current(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    ages = [
        _age_in_years(d.date(), int(y)) if not (pd.isna(d) or pd.isna(y)) else None
        for d, y in zip(frame["meldcode_datum"], frame["verslagjaar"])
    ]
    return RuleOutput(
        applies=ctx.in_sector & frame["meldcode_aanwezig"],
        scope_fields=_sector_scope(ctx, "meldcode_aanwezig"),
        metrics={"ouderdom_jaren": pd.Series(ages, index=frame.index, dtype="Float64")},
    )


def _age_in_years(when: date, year: int) -> float:
    """Exact age of a date on 31 December of ``year``, in years (negative if later)."""
    end = date(year, 12, 31)
    if when > end:
        return -((when - end).days / 365.25)
    years = end.year - when.year
    try:
        anniversary = when.replace(year=when.year + years)
    except ValueError:  # 29 February
        anniversary = date(when.year + years, 3, 1)
    if anniversary > end:
        years -= 1
        try:
            anniversary = when.replace(year=when.year + years)
        except ValueError:
            anniversary = date(when.year + years, 3, 1)
    return years + (end - anniversary).days / 366.0


@check("KV04")
def kv04_childcheck(ctx: RuleContext) -> RuleOutput:
    """Wmo always; other sectors when they have adult clients, unless those are the parents."""
    applies = ctx.in_sector
    params = ctx.rule.params
    if params.get("ook_bij_volwassen_clienten", False):
        frame = ctx.frame
        parents = frame["sector"].isin(list(params.get("volwassenen_zijn_ouders_in", ()))).astype("boolean")
        parents = parents.mask(frame["sector"].isna(), pd.NA)
        # An empty answer gives no sign of adult clients; an answer not understood does not tell.
        adults = (frame["clienten_volwassen"] > 0).fillna(False).mask(ctx.not_understood("clienten_volwassen"), pd.NA)
        applies = applies | (~parents & adults)
    return RuleOutput(applies=applies, scope_fields=_sector_scope(ctx, "sector", "clienten_volwassen"))


def _more_staff_than(ctx: RuleContext) -> pd.Series:
    """True where the provider has colleagues to advise (more staff than a solo practice)."""
    return ctx.frame["medewerkers"] > int(ctx.rule.params.get("solo_tot_en_met", 1))


@check("KV05")
def kv05_present(ctx: RuleContext) -> RuleOutput:
    return RuleOutput(applies=ctx.in_sector & _more_staff_than(ctx), scope_fields=_sector_scope(ctx, "medewerkers"))


@check("KV06")
def kv06_functioning(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    minimum = float(ctx.rule.params["minimum_uren_per_week"])
    per_25 = float(ctx.rule.params["uren_per_25_medewerkers"])
    staff = frame["medewerkers"].astype("Float64")
    hours = frame["af_uren_per_week"].astype("Float64")
    norm = (staff * per_25 / 25).clip(lower=minimum)
    return RuleOutput(
        applies=ctx.in_sector & (frame["af_aantal"] >= 1) & _more_staff_than(ctx),
        scope_fields=_sector_scope(ctx, "af_aantal", "medewerkers"),
        metrics={
            "urennorm": norm,
            "af_uren_per_25": _ratio(hours, staff) * 25,
            "geen_inzet": (hours == 0) & (frame["af_consultaties"] == 0),
            "onder_urennorm": (hours > 0) & (hours < norm),
        },
    )


@check("KV07")
def kv07_training_reach(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    return RuleOutput(
        applies=ctx.in_sector & (frame["medewerkers"] != 0),
        scope_fields=_sector_scope(ctx, "medewerkers"),
        metrics={"aandeel_getraind": _ratio(frame["medewerkers_getraind"], frame["medewerkers"])},
    )


@check("KV08")
def kv08_training_hours(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    return RuleOutput(
        applies=ctx.in_sector & (frame["fte"] != 0),
        scope_fields=_sector_scope(ctx, "fte"),
        metrics={"uren_per_fte": _ratio(frame["trainingsuren"], frame["fte"])},
    )


@check("KV10")
def kv10_expected_signals(ctx: RuleContext) -> RuleOutput:
    """Signals against an expectation agreed beforehand (contract register) or estimated;
    DOMAIN §5.4. Only an agreed expectation can make a provider rood."""
    frame = ctx.frame
    params = ctx.rule.params
    factors = frame["sector"].map(lambda s: params["sectorfactor"].get(s) if isinstance(s, str) else None)
    estimate = frame["clienten_minderjarig"].astype("Float64") * float(params["prevalentie"]) * factors.astype("Float64")
    agreed_value = frame["verwacht_aantal_signalen"].astype("Float64")
    agreed = agreed_value.notna()
    expected = agreed_value.fillna(estimate)
    signals = (frame["meldingen_veilig_thuis"] + frame["adviesvragen_veilig_thuis"] + frame["signalen_verwijsindex"]).astype("Int64")
    chance = pd.Series(
        [poisson_cdf(int(k), float(lam)) if not (pd.isna(k) or pd.isna(lam)) else None for k, lam in zip(signals, expected)],
        index=frame.index,
        dtype="Float64",
    )
    substantial = (chance < float(params["kans_substantieel"])) & (signals < float(params["deel_substantieel"]) * expected)
    return RuleOutput(
        applies=ctx.in_sector & (expected >= float(params["minimum_verwachting"])),
        scope_fields=_sector_scope(ctx, "clienten_minderjarig", "sector"),
        metrics={
            "signalen": signals,
            "verwachting": expected,
            "kans": chance,
            "verhouding": _ratio(signals, expected),
            "signalen_per_100": _ratio(signals, frame["clienten_minderjarig"]) * 100,
            "achter_bij_afspraak": agreed & substantial,
            "onder_afspraak": agreed & (chance < float(params["kans_bespreken"])),
            "achter_bij_schatting": ~agreed & substantial,
        },
        texts={
            "verwachting_uitleg": pd.Series(
                [
                    _expectation_text(a, n, f, params["prevalentie"], ctx.catalogue, s)
                    for a, n, f, s in zip(agreed, frame["clienten_minderjarig"], factors, frame["sector"])
                ],
                index=frame.index,
                dtype="string",
            ),
            "kans_uitleg": pd.Series(
                [_chance_text(k, p) for k, p in zip(signals, chance)], index=frame.index, dtype="string"
            ),
        },
    )


def _expectation_text(agreed, children, factor, prevalence, catalogue: Catalogue, sector) -> str:
    """Where KV10's expectation comes from (catalogue texts): agreed in the register, or an
    estimate, which is never credited to the gemeente (its herkomst is the norm's)."""
    from kvcompliance.values import format_number, format_percent

    texts = catalogue.texts
    if agreed:
        return texts["verwachting_afgesproken"]
    if pd.isna(children) or factor is None or pd.isna(factor):
        return texts["verwachting_onbekend"]
    info = catalogue.sector(sector) if isinstance(sector, str) else None
    label = info.label_in_sentence if info else str(sector)
    return texts["verwachting_geschat"].format(
        prevalentie=format_percent(float(prevalence)),
        jeugdigen=format_number(float(children), 0),
        sectorfactor=format_number(float(factor)),
        sector=label,
    )


def _chance_text(signals, chance) -> str:
    from kvcompliance.values import format_probability, plural

    if pd.isna(signals) or pd.isna(chance):
        return ""
    what = "geen enkel signaal" if int(signals) == 0 else f"{plural(int(signals), 'signaal', 'signalen')} of minder"
    return f"Bij die verwachting is de kans op {what} {format_probability(float(chance))}."


@check("KV90")
def kv90_complete(ctx: RuleContext) -> RuleOutput:
    """Required fields that are empty or not understood (an optional field that is not
    understood makes only its own rules grijs)."""
    from kvcompliance.wording import missing_list

    frame = ctx.frame
    required = [f for f in ctx.catalogue.fields if f.required]
    empty = {f.key: frame[f.key].isna().to_numpy() for f in required}
    counts, texts, keys = [], [], []
    for i, rid in enumerate(frame.index):
        missing = [f.key for f in required if empty[f.key][i]]
        counts.append(len(missing))
        texts.append(missing_list(ctx.catalogue, missing, ctx.issues.get(rid, {})) if missing else "volledig")
        keys.append(tuple(missing))
    return RuleOutput(
        applies=ctx.in_sector,
        metrics={"onvolledig": pd.Series(counts, index=frame.index, dtype="Int64")},
        texts={"onvolledig_velden": pd.Series(texts, index=frame.index, dtype="string")},
        fields=pd.Series(keys, index=frame.index, dtype=object),
    )


@check("KV92")
def kv92_year(ctx: RuleContext) -> RuleOutput:
    return RuleOutput(
        applies=ctx.in_sector,
        metrics={"juist_jaar": (ctx.frame["verslagjaar"] == ctx.audit_year).astype("boolean")},
    )


#: KV93's contradictions: key (as in the catalogue's [tegenstrijdigheden]) -> where it holds.
CONTRADICTIONS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "keurmerk_zonder_meldcode": lambda f: (f["meldcode_aanwezig"] == False) & (f["keurmerk_meldcode"] == True),  # noqa: E712
    "training_zonder_meldcode": lambda f: (f["meldcode_aanwezig"] == False) & (f["medewerkers_getraind"] > 0),  # noqa: E712
    "consultaties_zonder_af": lambda f: (f["af_aantal"] == 0) & (f["af_consultaties"] > 0),
    "uren_zonder_af": lambda f: (f["af_aantal"] == 0) & (f["af_uren_per_week"] > 0),
    "signalen_zonder_verwijsindex": lambda f: (f["verwijsindex_aangesloten"] == "nee") & (f["signalen_verwijsindex"] > 0),
}


@check("KV93")
def kv93_coherence(ctx: RuleContext) -> RuleOutput:
    """Answers that contradict each other; a contradiction with a missing input is none."""
    from kvcompliance.wording import FrameColumns, fill_fields, join_clauses

    frame = ctx.frame
    found = {key: test(frame).fillna(False).to_numpy(dtype=bool) for key, test in CONTRADICTIONS.items()}
    columns = FrameColumns(frame)
    counts, texts = [], []
    for i, rid in enumerate(frame.index):
        keys = [key for key, holds in found.items() if holds[i]]
        counts.append(len(keys))
        texts.append(join_clauses([fill_fields(ctx.catalogue, ctx.catalogue.contradictions[k], columns, i, ctx.issues.get(rid, {})) for k in keys]))
    return RuleOutput(
        applies=ctx.in_sector,
        metrics={"tegenstrijdigheden": pd.Series(counts, index=frame.index, dtype="Int64")},
        texts={"tegenstrijdig": pd.Series(texts, index=frame.index, dtype="string")},
    )


# ------------------------------------------------------------------------ statistics
def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam), exactly, via the regularised upper gamma Q(k+1, lam)."""
    if k < 0:
        return 0.0
    if lam <= 0:
        return 1.0
    return _gamma_q(k + 1.0, lam)


def _gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma function Q(a, x) (Numerical Recipes 6.2)."""
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        # series for P(a, x)
        term = total = 1.0 / a
        n = a
        for _ in range(100000):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # continued fraction for Q(a, x) (modified Lentz)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
