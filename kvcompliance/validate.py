"""Validate all returns at once with one pandera schema derived from the catalogue.

Every norm level of every active rule becomes a pandera column check (on a field column
or on a metric column computed by the rule's check function), carrying
``<rule id>#<level number>`` as its ``error``. One lazy ``validate`` call over the whole
frame collects every level that holds for every return; :func:`resolve` decides exactly
one status per return and rule (DOMAIN §5.1):

1. applicability first: the rule does not apply -> n.v.t., even when other inputs are
   missing; cannot tell whether it applies -> grijs;
2. a level whose column is missing (an input empty or not understood) and that is worse
   than what is certain could change the outcome -> grijs, naming those fields;
3. otherwise the worst level that holds; none: groen.

Then every return gets its two verdicts, *Inhoud* and *Aanlevering*, and the worst of
them, the *Eindoordeel*. The Dutch texts of the findings are made in
:mod:`kvcompliance.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kvcompliance.catalogue import GROUP_CONTENT, GROUP_DELIVERY, Catalogue, Level, Rule, Status, worst
from kvcompliance.model import FieldIssue, Finding, Verdict
from kvcompliance.normalise import DTYPES, EXTRA_COLUMNS
from kvcompliance.rules import RuleContext, RuleOutput, run_check

SEVERITY = {s: s.severity for s in Status}
BY_SEVERITY = {s.severity: s for s in Status}


def metric_column(rule: Rule, metric: str) -> str:
    return f"{rule.id}:{metric}"


def level_column(rule: Rule, level: Level) -> str:
    """The frame column a level tests: a field, or one of the rule's metrics."""
    return metric_column(rule, level.column) if rule.metric(level.column) else level.column


def level_error(rule: Rule, index: int) -> str:
    return f"{rule.id}#{index}"


def pandera_check(level: Level, error: str):
    """The pandera check that *fails* exactly where the level's condition holds."""
    import pandera.pandas as pa

    value = level.value
    if level.op == "kleiner_dan":
        return pa.Check.ge(value, error=error)
    if level.op == "groter_dan":
        return pa.Check.le(value, error=error)
    if level.op == "gelijk_aan":
        return pa.Check.ne(value, error=error)
    if level.op == "niet_gelijk_aan":
        return pa.Check.eq(value, error=error)
    if level.op == "in":
        return pa.Check.notin(list(value), error=error)
    if level.op == "niet_patroon":
        return pa.Check.str_matches(value, error=error)
    raise ValueError(level.op)  # pragma: no cover - the catalogue refuses other operators


def build_schema(catalogue: Catalogue, metric_dtypes: dict[str, str]):
    """The pandera schema: typed field columns, metric columns and every norm level."""
    import pandera.pandas as pa

    checks: dict[str, list] = {}
    for rule in catalogue.active_rules:
        for i, level in enumerate(rule.levels):
            checks.setdefault(level_column(rule, level), []).append(pandera_check(level, level_error(rule, i)))
    columns = {}
    for field in catalogue.fields:
        columns[field.key] = pa.Column(DTYPES[field.type], checks=checks.get(field.key, []), nullable=True)
    for name, dtype in EXTRA_COLUMNS.items():
        columns[name] = pa.Column(dtype, nullable=True)
    for name, dtype in metric_dtypes.items():
        columns[name] = pa.Column(dtype, checks=checks.get(name, []), nullable=True)
    return pa.DataFrameSchema(columns, strict=True, name="opgaven")


@dataclass
class Resolved:
    """How one rule came out for every return, before any text is written."""

    status: np.ndarray  # Status per return (object array)
    #: per return: the levels (indices) that hold at the final status
    holding: list[tuple[int, ...]]
    #: per return: fields whose being empty or not understood made the status grijs
    missing: list[tuple[str, ...]]
    scope_unknown: np.ndarray  # grijs because it cannot be told whether the rule applies


@dataclass
class Evaluation:
    """Statuses per return and rule, and everything needed to explain them."""

    statuses: pd.DataFrame  # index return_id, one column per active rule id (Status values)
    findings: list[Finding]
    overall: dict[str, Status]
    verdicts: dict[str, Verdict]
    checked: pd.DataFrame  # the validated frame: fields + metrics
    figures: dict[str, dict[str, float | None]]  # return id -> key figure -> value (None: none)


def _in_sector(frame: pd.DataFrame, rule: Rule) -> pd.Series:
    if rule.sectors is None:
        return pd.Series(True, index=frame.index, dtype="boolean")
    sector = frame["sector"]
    return sector.isin(list(rule.sectors)).astype("boolean").mask(sector.isna(), pd.NA)


def evaluate(frame: pd.DataFrame, issues: list[FieldIssue], catalogue: Catalogue, audit_year: int) -> Evaluation:
    """Run every active rule over all returns at once."""
    import pandera.pandas as pa

    from kvcompliance.findings import findings

    by_return: dict[str, dict[str, FieldIssue]] = {}
    for issue in issues:
        by_return.setdefault(issue.return_id, {})[issue.field] = issue

    outputs: dict[str, RuleOutput] = {}
    checked = frame.copy()
    metric_dtypes: dict[str, str] = {}
    for rule in catalogue.active_rules:
        output = run_check(RuleContext(frame, rule, catalogue, audit_year, _in_sector(frame, rule), by_return))
        outputs[rule.id] = output
        for metric in rule.metrics:
            series = output.metrics[metric.key]
            name = metric_column(rule, metric.key)
            checked[name] = series
            metric_dtypes[name] = str(series.dtype)

    schema = build_schema(catalogue, metric_dtypes)
    holds: dict[str, np.ndarray] = {}
    positions = pd.Series(np.arange(len(frame)), index=frame.index)
    try:
        schema.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        unexpected = cases[~cases["check"].astype(str).str.contains("#", regex=False)]
        if not unexpected.empty:  # a dtype or column problem: a bug in normalise, not bad input
            raise RuntimeError(f"validatie van het frame mislukt: {unexpected.to_dict('records')[:5]}") from exc
        for error, group in cases.groupby("check"):
            mask = np.zeros(len(frame), dtype=bool)
            mask[positions.loc[group["index"].to_numpy()].to_numpy()] = True
            holds[str(error)] = mask
    resolved = {rule.id: resolve(rule, checked, outputs[rule.id], holds, catalogue) for rule in catalogue.active_rules}
    statuses = pd.DataFrame({rule_id: r.status for rule_id, r in resolved.items()}, index=checked.index)
    per_return = verdicts(statuses, catalogue)
    return Evaluation(
        statuses=statuses,
        findings=findings(checked, outputs, resolved, by_return, catalogue, audit_year),
        overall={rid: v.overall for rid, v in per_return.items()},
        verdicts=per_return,
        checked=checked,
        figures=key_figures(checked, statuses, catalogue),
    )


def _unknown(rule: Rule, level: Level, checked: pd.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """Where a level cannot be told: its column is missing. A format check on an optional
    field is about what was filled in: there an empty field is simply not wrong."""
    missing = checked[level_column(rule, level)].isna().to_numpy()
    if level.op == "niet_patroon" and catalogue.has_field(level.column) and not catalogue.field(level.column).required:
        return np.zeros(len(checked), dtype=bool)
    return missing


def resolve(rule: Rule, checked: pd.DataFrame, output: RuleOutput, holds: dict[str, np.ndarray], catalogue: Catalogue) -> Resolved:
    """One status per return for ``rule`` (see the module docstring)."""
    n = len(checked)
    groen, grijs = SEVERITY[Status.GROEN], SEVERITY[Status.GRIJS]
    held = [holds.get(level_error(rule, i), np.zeros(n, dtype=bool)) for i in range(len(rule.levels))]
    unknown = [_unknown(rule, level, checked, catalogue) for level in rule.levels]
    certain = np.full(n, groen)
    for level, mask in zip(rule.levels, held):
        certain = np.maximum(certain, np.where(mask, SEVERITY[level.status], 0))
    possible = np.zeros(n, dtype=int)
    for level, mask in zip(rule.levels, unknown):
        possible = np.maximum(possible, np.where(mask, SEVERITY[level.status], 0))
    from_missing = possible > certain
    severity = np.where(from_missing, grijs, certain)
    applies = output.applies
    not_applicable = applies.eq(False).fillna(False).to_numpy(dtype=bool)
    scope_unknown = applies.isna().to_numpy() & ~not_applicable
    severity = np.where(scope_unknown, grijs, severity)
    severity = np.where(not_applicable, SEVERITY[Status.NVT], severity)
    status = np.array([BY_SEVERITY[s] for s in severity], dtype=object)

    na = {key: checked[key].isna().to_numpy() for key in checked.columns if catalogue.has_field(key)}
    holding: list[tuple[int, ...]] = []
    missing: list[tuple[str, ...]] = []
    for pos in range(n):
        final = severity[pos]
        holding.append(tuple(i for i, (lvl, mask) in enumerate(zip(rule.levels, held)) if mask[pos] and SEVERITY[lvl.status] == final))
        if scope_unknown[pos]:
            fields = [key for key in output.scope_fields if na[key][pos]]
        elif from_missing[pos] and not not_applicable[pos]:
            fields = [
                key
                for level, mask in zip(rule.levels, unknown)
                if mask[pos] and SEVERITY[level.status] > certain[pos]
                for key in catalogue.column_inputs(rule, level.column)
                if key in na and na[key][pos]
            ]
        else:
            fields = []
        missing.append(tuple(f.key for f in catalogue.fields if f.key in fields))
    return Resolved(status, holding, missing, scope_unknown)


def verdicts(statuses: pd.DataFrame, catalogue: Catalogue) -> dict[str, Verdict]:
    """Inhoud, Aanlevering and Eindoordeel per return, from its status per rule."""
    groups = {GROUP_CONTENT: [], GROUP_DELIVERY: []}
    for rule in catalogue.active_rules:
        groups[rule.group].append(rule.id)
    found = {}
    for rid, row in zip(statuses.index, statuses.to_dict("records")):
        content = worst(row[r] for r in groups[GROUP_CONTENT])
        delivery = worst(row[r] for r in groups[GROUP_DELIVERY])
        found[rid] = Verdict(content, delivery, worst((content, delivery)))
    return found


def key_figures(checked: pd.DataFrame, statuses: pd.DataFrame, catalogue: Catalogue) -> dict[str, dict[str, float | None]]:
    """The catalogue's key figures per return: the rule metrics they name, as computed for
    the rules. A figure has no value where its rule is grijs (the data cannot be judged,
    such as more staff trained than there are) or its rule is switched off."""
    figures: dict[str, dict[str, float | None]] = {rid: {} for rid in checked.index}
    active = {rule.id: rule for rule in catalogue.active_rules}
    for figure in catalogue.key_figures:
        rule = active.get(figure.rule)
        if rule is None:
            values = [None] * len(checked)
        else:
            column = checked[metric_column(rule, figure.metric)].astype("Float64")
            unusable = column.isna() | (statuses[rule.id] == Status.GRIJS)
            values = [None if bad else float(v) for v, bad in zip(column.to_numpy(dtype=object, na_value=None), unusable)]
        for rid, value in zip(checked.index, values):
            figures[rid][figure.key] = value if value is None or np.isfinite(value) else None
    return figures
