"""Dutch descriptions of rules and norms, derived from the catalogue.

Because the norm text is generated from the levels that are actually applied, a user's
rules file (``--regels``) can never leave a stale description behind.
"""

from __future__ import annotations

from typing import Any

from kvcompliance.catalogue import OPERATORS, Catalogue, Level, Rule, Status
from kvcompliance.values import format_value

def level_value_text(catalogue: Catalogue, rule: Rule, level: Level) -> str:
    fmt = catalogue.column_format(rule, level.column)
    if level.op == "in":
        return " of ".join(str(v) for v in level.value)
    if level.op == "niet_patroon":
        return ""
    if fmt == "kans":
        return format_value(level.value, "procent")
    return format_value(level.value, fmt)


def level_text(catalogue: Catalogue, rule: Rule, level: Level) -> str:
    """'aandeel getrainde medewerkers < 50%'."""
    label = catalogue.column_label(rule, level.column)
    op = OPERATORS[level.op].dutch
    value = level_value_text(catalogue, rule, level)
    return f"{label} {op} {value}".strip()


def norm_text(catalogue: Catalogue, rule: Rule) -> str:
    """The whole norm in one Dutch sentence, worst status first, ending in 'anders groen'."""
    parts = []
    for status in (Status.ROOD, Status.ORANJE, Status.GRIJS):
        conditions = [level_text(catalogue, rule, lvl) for lvl in rule.levels if lvl.status == status]
        if conditions:
            label = catalogue.status_info(status).label.lower()
            parts.append(f"{label} bij: {' of '.join(conditions)}")
    if not parts:
        return "Altijd groen."
    text = "; ".join(parts) + "; anders groen."
    return text[0].upper() + text[1:]


def scope_text(catalogue: Catalogue, rule: Rule) -> str:
    """For which providers the rule applies."""
    if rule.sectors is None:
        scope = "alle sectoren"
    else:
        labels = [s.label.lower() if s.key != "wmo" else "Wmo" for s in catalogue.sectors if s.key in rule.sectors]
        scope = ", ".join(labels) if labels else "geen enkele sector"
    if rule.params.get("ook_bij_volwassen_clienten"):
        scope += ", en elke aanbieder met volwassen cliënten"
    return scope


def params_text(catalogue: Catalogue, rule: Rule) -> str:
    """Parameters the rule's calculation uses, in Dutch."""
    parts = []
    for key, value in rule.params.items():
        if key == "ook_bij_volwassen_clienten":
            continue
        label = catalogue.param_labels[key]
        parts.append(f"{label}: {_param_value(value)}")
    return "; ".join(parts)


def _param_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_param_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return format_value(float(value), "getal")


def source_text(catalogue: Catalogue, rule: Rule) -> str:
    return catalogue.sources.get(rule.source, rule.source)


def rules_table(catalogue: Catalogue, width: int = 120) -> str:
    """The effective rules as a plain-text Dutch table (for ``kvcompliance regels``)."""
    import textwrap

    headers = ("Regel", "Titel", "Geldt voor", "Norm", "Bron")
    rows = []
    for rule in catalogue.rules:
        norm = norm_text(catalogue, rule) if rule.active else "UITGESCHAKELD"
        params = params_text(catalogue, rule)
        if params and rule.active:
            norm += f" ({params})"
        rows.append((rule.id, rule.title, scope_text(catalogue, rule), norm, catalogue.sources.get(rule.source, rule.source)))
    fixed = [5, 26, 22, 0, 24]
    fixed[3] = max(30, width - sum(fixed) - 2 * (len(fixed) - 1))
    lines = []

    def emit(cells):
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(cells, fixed)]
        for i in range(max(len(w) for w in wrapped)):
            lines.append("  ".join((w[i] if i < len(w) else "").ljust(fixed[j]) for j, w in enumerate(wrapped)).rstrip())

    emit(headers)
    lines.append("  ".join("-" * w for w in fixed))
    for row in rows:
        emit(row)
        lines.append("")
    title = "Regels en normen" + (f" (met {catalogue.rules_file})" if catalogue.rules_file else " (standaard)")
    return title + "\n\n" + "\n".join(lines).rstrip() + "\n"


def markdown_rules_table(catalogue: Catalogue) -> str:
    """The rules as a Markdown table, for the README (kept in sync by a test)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Regel | Titel | Geldt voor | Norm | Bron |", "|---|---|---|---|---|"]
    for rule in catalogue.rules:
        norm = norm_text(catalogue, rule)
        params = params_text(catalogue, rule)
        if params:
            norm += f" ({params})"
        lines.append(
            f"| {rule.id} | {cell(rule.title)} | {cell(scope_text(catalogue, rule))} | {cell(norm)} | {cell(source_text(catalogue, rule))} |"
        )
    return "\n".join(lines) + "\n"
