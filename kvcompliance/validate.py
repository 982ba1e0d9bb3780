"""Validate all returns at once with one pandera schema derived from the catalogue.

Every norm level of every active rule becomes a pandera column check (on a field column
or on a metric column computed by the rule's check function), carrying
``<rule id>#<level number>`` as its ``error``. One lazy ``validate`` call over the whole
frame collects every level that holds for every return; :func:`resolve` turns those into
exactly one status per return and rule:

* the rule does not apply (``applies`` false) -> n.v.t.; cannot tell -> grijs;
* else the worst level that holds (rood > oranje > grijs), groen when none holds;
* but grijs when a missing or invalid input could have made it worse, and never groen
  when an input is missing (DOMAIN §5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kvcompliance.catalogue import FIELD_FORMAT, Catalogue, Level, Rule, Status
from kvcompliance.explain import norm_text
from kvcompliance.model import FieldIssue, Finding
from kvcompliance.normalise import DTYPES, EXTRA_COLUMNS
from kvcompliance.rules import RuleContext, RuleOutput, run_check
from kvcompliance.values import format_value

SEVERITY = {s: s.severity for s in Status}
BY_SEVERITY = {s.severity: s for s in Status}


def metric_column(rule: Rule, metric: str) -> str:
    return f"{rule.id}:{metric}"


def level_column(rule: Rule, level: Level) -> str:
    """The frame column a level tests: a field, or one of the rule's metrics."""
    if any(m.key == level.column for m in rule.metrics):
        return metric_column(rule, level.column)
    return level.column


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
class Evaluation:
    """Statuses per return and rule, and everything needed to explain them."""

    statuses: pd.DataFrame  # index return_id, one column per active rule id (Status values)
    findings: list[Finding]
    overall: dict[str, Status]
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

    issues_per_return: dict[str, list[tuple[str, str]]] = {}
    for issue in issues:
        issues_per_return.setdefault(issue.return_id, []).append((issue.field, issue.reason))

    outputs: dict[str, RuleOutput] = {}
    checked = frame.copy()
    metric_dtypes: dict[str, str] = {}
    for rule in catalogue.active_rules:
        ctx = RuleContext(frame, rule, catalogue, audit_year, _in_sector(frame, rule), issues_per_return)
        output = run_check(ctx)
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
    return resolve(checked, outputs, holds, catalogue, audit_year)


def resolve(
    checked: pd.DataFrame,
    outputs: dict[str, RuleOutput],
    holds: dict[str, np.ndarray],
    catalogue: Catalogue,
    audit_year: int,
) -> Evaluation:
    n = len(checked)
    statuses = {}
    reasons = {}
    for rule in catalogue.active_rules:
        output = outputs[rule.id]
        inputs = set(rule.inputs)
        metrics = {m.key for m in rule.metrics}
        certain = np.full(n, SEVERITY[Status.GROEN])
        possible = np.zeros(n, dtype=int)
        for i, level in enumerate(rule.levels):
            held = holds.get(level_error(rule, i), np.zeros(n, dtype=bool))
            certain = np.maximum(certain, np.where(held, SEVERITY[level.status], 0))
            if level.column in inputs or level.column in metrics:
                unknown = checked[level_column(rule, level)].isna().to_numpy()
                possible = np.maximum(possible, np.where(unknown, SEVERITY[level.status], 0))
        missing_input = np.zeros(n, dtype=bool)
        for key in rule.inputs:
            missing_input |= checked[key].isna().to_numpy()
        status = certain.copy()
        from_missing = (possible > certain) | ((certain == SEVERITY[Status.GROEN]) & missing_input)
        status[from_missing] = SEVERITY[Status.GRIJS]
        applies = output.applies
        not_applicable = applies.eq(False).fillna(False).to_numpy(dtype=bool)
        cannot_tell = applies.isna().to_numpy()
        status[cannot_tell] = SEVERITY[Status.GRIJS]
        status[not_applicable] = SEVERITY[Status.NVT]
        statuses[rule.id] = [BY_SEVERITY[s] for s in status]
        reasons[rule.id] = (from_missing | cannot_tell) & ~not_applicable
    status_frame = pd.DataFrame(statuses, index=checked.index)
    findings = list(_findings(checked, outputs, holds, status_frame, reasons, catalogue, audit_year))
    overall = {}
    for rid, row in zip(status_frame.index, status_frame.itertuples(index=False)):
        worst = max((SEVERITY[s] for s in row if s != Status.NVT), default=SEVERITY[Status.GROEN])
        overall[rid] = BY_SEVERITY[worst]
    return Evaluation(status_frame, findings, overall, checked, key_figures(checked, status_frame, catalogue))


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


class _FieldValues(dict):
    """One return's field values, formatted in Dutch on first use and then cached."""

    def __init__(self, catalogue: Catalogue, columns: dict[str, np.ndarray], pos: int):
        super().__init__()
        self._catalogue = catalogue
        self._columns = columns
        self._pos = pos

    def __missing__(self, key: str) -> str:
        if not self._catalogue.has_field(key):
            return "{" + key + "}"
        field = self._catalogue.field(key)
        value = self._columns[key][self._pos]
        if value is None:
            text = "(leeg)"
        elif field.type == "sector":
            sector = self._catalogue.sector(value)
            text = sector.label if sector else str(value)
        elif field.type in ("tekst", "code", "email", "janeenvt"):
            text = str(value)
        else:
            text = format_value(value, FIELD_FORMAT[field.type])
        self[key] = text
        return text


class _RuleValues(dict):
    """Template values for one rule and return: its metrics and texts, then the fields."""

    def __init__(self, rule_columns: dict[str, tuple[np.ndarray, str]], fields: _FieldValues, pos: int, base: dict[str, str]):
        super().__init__(base)
        self._rule_columns = rule_columns
        self._fields = fields
        self._pos = pos

    def __missing__(self, key: str) -> str:
        found = self._rule_columns.get(key)
        if found is None:
            return self._fields[key]
        values, fmt = found
        value = values[self._pos]
        if not fmt:
            return "" if value is None else str(value)
        return format_value(value, fmt)


def _findings(checked, outputs, holds, status_frame, reasons, catalogue: Catalogue, audit_year: int):
    texts = catalogue.texts
    field_labels = {f.key: f.label for f in catalogue.fields}
    columns = {key: checked[key].to_numpy(dtype=object, na_value=None) for key in checked.columns}
    na = {key: checked[key].isna().to_numpy() for key in field_labels}
    year = str(audit_year)
    plan = []
    for rule in catalogue.active_rules:
        output = outputs[rule.id]
        rule_columns: dict[str, tuple[np.ndarray, str]] = {
            m.key: (columns[metric_column(rule, m.key)], m.format) for m in rule.metrics
        }
        for key, series in output.texts.items():
            rule_columns[key] = (series.to_numpy(dtype=object, na_value=None), "")
        statuses = status_frame[rule.id].to_numpy(dtype=object)
        # a passing outcome is about every field the rule reads or tests
        all_fields = tuple(dict.fromkeys(list(rule.inputs) + [l.column for l in rule.levels if l.column in field_labels]))
        plan.append((rule, output, rule_columns, statuses, reasons[rule.id], norm_text(catalogue, rule), all_fields))
    # Findings are grouped per return (all rules of R0001, then R0002 ...).
    for pos, rid in enumerate(checked.index):
        field_values = _FieldValues(catalogue, columns, pos)
        for rule, output, rule_columns, statuses, from_missing, norm, all_fields in plan:
            status = statuses[pos]
            base = {"auditjaar": year}
            if status == Status.GRIJS and from_missing[pos]:
                missing = [key for key in rule.inputs if na[key][pos]]
                missing += [key for key in output.scope_fields if key not in missing and na[key][pos]]
                base.update(_missing_phrases([field_labels[k] for k in missing]))
                values = _RuleValues(rule_columns, field_values, pos, base)
                sector_only = missing == ["sector"] and rule.sectors is not None
                message = (texts["grijs_sector"] if sector_only else texts["grijs_ontbrekend"]).format_map(values)
                agenda = texts["agenda_grijs"].format_map(values)
                fields = tuple(missing)
            else:
                if status.severity >= Status.GRIJS.severity:
                    fields = _fields_of_levels(rule, output, holds, pos)
                    base["afwijkend"] = "; ".join(
                        f"{field_labels[k]}: {field_values[k]}" for k in fields if k in field_labels
                    )
                else:
                    fields = all_fields
                values = _RuleValues(rule_columns, field_values, pos, base)
                template = rule.texts.get(status.value)
                if template is None:
                    template = "Niet van toepassing." if status == Status.NVT else catalogue.status_info(status).meaning + "."
                message = template.format_map(values)
                agenda_template = rule.agenda.get(status.value) if status.severity >= Status.GRIJS.severity else None
                agenda = agenda_template.format_map(values) if agenda_template else None
            yield Finding(
                return_id=rid,
                rule_id=rule.id,
                status=status,
                fields=fields,
                value=rule.value_template.format_map(values),
                norm=norm,
                message=message,
                agenda=agenda,
            )


def _missing_phrases(labels: list[str]) -> dict[str, str]:
    """Dutch phrases for missing fields: {ontbrekend} (a clause) and {velden} (a list)."""
    quoted = [f"‘{label}’" for label in labels]
    if not quoted:
        return {"ontbrekend": "een of meer gegevens ontbreken of zijn niet begrepen", "velden": "de ontbrekende gegevens"}
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " en " + quoted[-1]
    if len(quoted) == 1:
        return {"ontbrekend": f"het veld {listed} is leeg of niet begrepen", "velden": f"het veld {listed}"}
    return {"ontbrekend": f"de velden {listed} zijn leeg of niet begrepen", "velden": f"de velden {listed}"}


def _fields_of_levels(rule: Rule, output: RuleOutput, holds: dict[str, np.ndarray], pos: int) -> tuple[str, ...]:
    """The fields a failing finding is about: the fields its holding levels test."""
    if output.fields is not None:
        return tuple(output.fields.iat[pos])
    fields: list[str] = []
    metrics = {m.key for m in rule.metrics}
    for i, level in enumerate(rule.levels):
        held = holds.get(level_error(rule, i))
        if held is None or not held[pos]:
            continue
        fields.extend(rule.inputs if level.column in metrics else [level.column])
    return tuple(dict.fromkeys(fields or rule.inputs))
