"""One check function per rule that needs more than its fields: applicability and metrics.

A check function gets the typed frame (values not understood are already empty) and its
rule, and returns a :class:`RuleOutput`: when the rule applies (``pd.NA`` = cannot tell),
the metric columns its norm levels test, and extra values for its Dutch texts. It
decides no status and formats nothing: the norm levels in the catalogue do that, run by
pandera in :mod:`kvcompliance.validate`.

Functions use pandas' nullable types, so a missing input yields a missing metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import pandas as pd

from kvcompliance.catalogue import Catalogue, Rule


@dataclass
class RuleContext:
    frame: pd.DataFrame
    rule: Rule
    catalogue: Catalogue
    audit_year: int
    in_sector: pd.Series  # boolean, NA where the sector is unknown
    issues_per_return: dict[str, list[tuple[str, str]]]  # return id -> [(field, reason)]


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


def _not_understood(ctx: RuleContext, key: str) -> pd.Series:
    """True for returns where the provider typed something in ``key`` that was not understood."""
    flagged = {rid for rid, problems in ctx.issues_per_return.items() if any(f == key for f, _ in problems)}
    return pd.Series([rid in flagged for rid in ctx.frame.index], index=ctx.frame.index, dtype="boolean")


def run_check(ctx: RuleContext) -> RuleOutput:
    return CHECKS.get(ctx.rule.id, default_check)(ctx)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("Float64")
    den = denominator.astype("Float64")
    return (num / den.where(den != 0)).astype("Float64")


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
    applies = ctx.in_sector
    if ctx.rule.params.get("ook_bij_volwassen_clienten", False):
        # An empty answer gives no sign of adult clients; an answer not understood does not tell.
        adults = ctx.frame["clienten_volwassen"] > 0
        adults = adults.fillna(False).mask(_not_understood(ctx, "clienten_volwassen"), pd.NA)
        applies = applies | adults
    return RuleOutput(applies=applies, scope_fields=_sector_scope(ctx, "clienten_volwassen"))


@check("KV06")
def kv06_functioning(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    minimum = float(ctx.rule.params["minimum_uren_per_week"])
    per_25 = float(ctx.rule.params["uren_per_25_medewerkers"])
    staff = frame["medewerkers"].astype("Float64")
    norm = (staff * per_25 / 25).clip(lower=minimum)
    return RuleOutput(
        applies=ctx.in_sector & (frame["af_aantal"] >= 1),
        scope_fields=_sector_scope(ctx, "af_aantal"),
        metrics={
            "urennorm": norm,
            "uren_tov_norm": _ratio(frame["af_uren_per_week"], norm),
            "uren_per_25_medewerkers": _ratio(frame["af_uren_per_week"], staff) * 25,
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
    frame = ctx.frame
    params = ctx.rule.params
    factors = frame["sector"].map(lambda s: params["sectorfactor"].get(s) if isinstance(s, str) else None)
    estimate = frame["clienten_minderjarig"].astype("Float64") * float(params["prevalentie"]) * factors.astype("Float64")
    explicit = frame["verwacht_aantal_signalen"].astype("Float64")
    expected = explicit.fillna(estimate)
    signals = (
        frame["meldingen_veilig_thuis"] + frame["adviesvragen_veilig_thuis"] + frame["signalen_verwijsindex"]
    ).astype("Int64")
    chance = pd.Series(
        [poisson_cdf(int(k), float(lam)) if not (pd.isna(k) or pd.isna(lam)) else None for k, lam in zip(signals, expected)],
        index=frame.index,
        dtype="Float64",
    )
    source = pd.Series(
        [
            _expectation_source(e, n, f, params["prevalentie"])
            for e, n, f in zip(explicit, frame["clienten_minderjarig"], factors)
        ],
        index=frame.index,
        dtype="string",
    )
    return RuleOutput(
        applies=ctx.in_sector & (expected >= float(params["minimum_verwachting"])),
        scope_fields=_sector_scope(ctx, "clienten_minderjarig", "sector"),
        metrics={
            "signalen": signals,
            "verwachting": expected,
            "kans": chance,
            "verhouding": _ratio(signals, expected),
            "signalen_per_100": _ratio(signals, frame["clienten_minderjarig"]) * 100,
        },
        texts={"verwachting_bron": source},
    )


def _expectation_source(explicit, children, factor, prevalence) -> str:
    from kvcompliance.values import format_number, format_percent

    if not pd.isna(explicit):
        return "vooraf vastgesteld in het contractregister"
    if pd.isna(children) or factor is None or pd.isna(factor):
        return "niet te schatten"
    return (
        f"geschat: {format_percent(float(prevalence))} van {format_number(float(children), 0)} bereikte jeugdigen"
        f" × sectorfactor {format_number(float(factor))}"
    )


@check("KV90")
def kv90_complete(ctx: RuleContext) -> RuleOutput:
    frame = ctx.frame
    missing = {f.key: frame[f.key].isna().to_numpy() for f in ctx.catalogue.fields if f.required}
    counts, texts, keys = [], [], []
    for i, rid in enumerate(frame.index):
        problems = dict(ctx.issues_per_return.get(rid, ()))
        parts, fields = [], []
        for f in ctx.catalogue.fields:
            if f.key in problems:
                parts.append(f"{f.label} ({problems[f.key]})")
            elif f.key in missing and missing[f.key][i]:
                parts.append(f"{f.label} (niet ingevuld)")
            else:
                continue
            fields.append(f.key)
        counts.append(len(parts))
        texts.append("; ".join(parts) if parts else "volledig")
        keys.append(tuple(fields))
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


