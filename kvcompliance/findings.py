"""The findings: every rule's outcome for every return, in Dutch.

:mod:`kvcompliance.validate` decides the statuses; this module writes what a provider
reads about them, from the catalogue's templates (:mod:`kvcompliance.wording` fills them
in): its value as it typed it, the norm as a sentence, what is the matter, the question
for the conversation, why the gemeente may ask it (grondslag) and who set the norm
(herkomst).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Mapping

import pandas as pd

from kvcompliance.catalogue import Catalogue, Rule, Status
from kvcompliance.explain import norm_text, scope_text
from kvcompliance.model import FieldIssue, Finding
from kvcompliance.wording import (
    FieldValues,
    FrameColumns,
    RuleValues,
    basis_text,
    column_values,
    condition_word,
    duty_phrase,
    join_clauses,
    level_value_text,
    missing_list,
    origin_text,
    year_end_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.rules import RuleOutput
    from kvcompliance.validate import Resolved


def findings(
    checked: pd.DataFrame,
    outputs: Mapping[str, "RuleOutput"],
    resolved: Mapping[str, "Resolved"],
    issues: Mapping[str, Mapping[str, FieldIssue]],
    catalogue: Catalogue,
    audit_year: int,
) -> list[Finding]:
    """One Finding per return and active rule: returns in order, rules in catalogue order."""
    from kvcompliance.validate import metric_column

    columns = FrameColumns(checked)  # only the columns a text or metric needs are converted
    plan = []
    for rule in catalogue.active_rules:
        output = outputs[rule.id]
        metrics = {m.key: (columns[metric_column(rule, m.key)], m.format) for m in rule.metrics}
        metrics.update({key: (column_values(series), "") for key, series in output.texts.items()})
        reads = tuple(dict.fromkeys(list(rule.inputs) + [k for lvl in rule.levels for k in catalogue.column_inputs(rule, lvl.column)]))
        own_fields = output.fields.tolist() if output.fields is not None else None
        plan.append((rule, metrics, resolved[rule.id], norm_text(catalogue, rule), origin_text(catalogue, rule), reads,
                     scope_text(catalogue, rule), own_fields))
    out = []
    for pos, rid in enumerate(checked.index):
        own_issues = issues.get(rid, {})
        fields = FieldValues(catalogue, columns, pos, own_issues)
        year = columns["verslagjaar"][pos]
        duty, relation, sector = columns["meldcodeplicht"][pos], columns["relatie"][pos], columns["sector"][pos]
        for rule, metrics, result, norm, origin, reads, scope, own_fields in plan:
            base = {
                "auditjaar": str(audit_year),
                "einde_verslagjaar": year_end_text(None if year is None else int(year)),
                "plicht": duty_phrase(catalogue, rule, duty, relation, sector),
                "voorwaarde": condition_word(relation),
                "geldt_voor": scope,
            }
            values = RuleValues(rule, {k: (v[pos], f) for k, (v, f) in metrics.items()}, fields, base)
            finding = _finding(rid, rule, result, pos, values, own_issues, catalogue, norm, origin, reads,
                               basis_text(catalogue, rule, duty, relation, sector))
            if own_fields is not None and finding.status.severity >= Status.GRIJS.severity and not finding.missing:
                # the check knows which fields this is about; for a grijs finding they are what is missing
                missing = own_fields[pos] if finding.status == Status.GRIJS else ()
                finding = replace(finding, fields=own_fields[pos], missing=missing)
            out.append(finding)
    return out


def _finding(rid, rule: Rule, result, pos: int, values: RuleValues, issues, catalogue: Catalogue, norm: str, origin: str,
             reads: tuple[str, ...], basis: str) -> Finding:
    status = Status(result.status[pos])
    missing = result.missing[pos]
    levels = [rule.levels[i] for i in result.holding[pos]]
    texts = catalogue.texts
    agenda = None
    if status == Status.GRIJS and (missing or result.scope_unknown[pos]):
        values["ontbrekend"] = missing_list(catalogue, missing, issues) or "een of meer gegevens ontbreken"
        template = texts["grijs_toepassing"] if result.scope_unknown[pos] else texts["grijs_ontbrekend"]
        message = template.format_map(values)
        fields = missing
    else:
        values["afwijkend"] = join_clauses([
            level.finding.format_map(_with_value(values, catalogue, rule, level)) if level.finding else ""
            for level in levels
        ])
        template = rule.texts.get(status.value)
        if template is None:
            template = "Niet van toepassing." if status == Status.NVT else catalogue.status_info(status).meaning + "."
        message = template.format_map(values)
        if status.severity >= Status.GRIJS.severity:
            questions = [level.question for level in levels if level.question]
            agenda_template = " ".join(questions) if questions else rule.agenda.get(status.value)
            agenda = agenda_template.format_map(values) if agenda_template else None
            fields = tuple(dict.fromkeys(k for level in levels for k in catalogue.column_inputs(rule, level.column))) or rule.inputs
        else:
            fields = reads
    return Finding(
        return_id=rid,
        rule_id=rule.id,
        status=status,
        fields=tuple(fields),
        value=rule.value_template.format_map(values),
        norm=norm,
        message=_sentence(message),
        agenda=_sentence(agenda) if agenda else None,
        basis=basis,
        origin=origin,
        missing=tuple(missing),
        levels=tuple(result.holding[pos]),
    )


def _with_value(values: RuleValues, catalogue: Catalogue, rule: Rule, level) -> RuleValues:
    values["waarde"] = level_value_text(catalogue, rule, level)
    return values


def _sentence(text: str) -> str:
    """Start with a capital, whatever a template put first (an 'afwijkend' clause)."""
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] if text else text
