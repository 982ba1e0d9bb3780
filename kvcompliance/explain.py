"""Dutch descriptions of rules and norms, derived from the catalogue.

Because the norm text is generated from the levels that are actually applied, a user's
rules file (``--regels``) can never leave a stale description behind. A norm reads as a
short Dutch sentence: "Rood als minder dan 50% van de medewerkers ... is getraind;
oranje als ...; anders groen."
"""

from __future__ import annotations

from kvcompliance.catalogue import OPERATORS, Catalogue, Level, Rule, Status
from kvcompliance.values import listing
from kvcompliance.wording import level_value_text, origin_text, param_text


def level_when(catalogue: Catalogue, rule: Rule, level: Level) -> str:
    """The condition of a level as a Dutch clause (the catalogue's 'als', else generated)."""
    value = level_value_text(catalogue, rule, level)
    if level.when:
        values = {key: param_text(catalogue, key, v) for key, v in rule.params.items()}
        return level.when.format_map({**values, "waarde": value})
    label = catalogue.column_label(rule, level.column)
    return f"{label} {OPERATORS[level.op].dutch} {value}".strip()


def norm_text(catalogue: Catalogue, rule: Rule) -> str:
    """The whole norm in one Dutch sentence, worst status first, ending in 'anders groen'."""
    parts = []
    for status in (Status.ROOD, Status.ORANJE, Status.GRIJS):
        conditions = [level_when(catalogue, rule, lvl) for lvl in rule.levels if lvl.status == status]
        if conditions:
            label = catalogue.status_info(status).label.lower()
            parts.append(f"{label} als {' of als '.join(conditions)}")
    if not parts:
        return "Altijd groen."
    text = "; ".join(parts) + "; anders groen."
    return text[0].upper() + text[1:]


def scope_text(catalogue: Catalogue, rule: Rule) -> str:
    """For which providers the rule applies."""
    if rule.sectors is None:
        scope = "alle sectoren"
    else:
        labels = [s.label_in_sentence for s in catalogue.sectors if s.key in rule.sectors]
        scope = listing(labels) if labels else "geen enkele sector"
    if rule.params.get("ook_bij_volwassen_clienten"):
        parents = rule.params.get("volwassenen_zijn_ouders_in", ())
        scope += " en elke aanbieder met volwassen cliënten"
        if parents:
            scope += f" buiten {param_text(catalogue, 'volwassenen_zijn_ouders_in', parents)} (daar zijn de volwassenen de ouders)"
    if "solo_tot_en_met" in rule.params:
        scope += f"; niet bij {param_text(catalogue, 'solo_tot_en_met', rule.params['solo_tot_en_met'])} medewerker of minder"
    return scope


def params_text(catalogue: Catalogue, rule: Rule) -> str:
    """Parameters the rule's calculation uses, in Dutch (scope parameters are in the scope)."""
    parts = []
    for key, value in rule.params.items():
        if key in ("ook_bij_volwassen_clienten", "volwassenen_zijn_ouders_in", "solo_tot_en_met"):
            continue
        parts.append(f"{catalogue.params[key].label}: {param_text(catalogue, key, value)}")
    return "; ".join(parts)


def sector_laws(catalogue: Catalogue) -> str:
    """Each sector with a statutory meldcode duty and its law: 'jeugdhulp: Jeugdwet art. 4.1.7; ...'."""
    return "; ".join(
        f"{s.label_in_sentence}: {s.legal_basis}" for s in catalogue.sectors if s.legal_basis
    )


def basis_summary(catalogue: Catalogue, rule: Rule) -> str:
    """The grondslag of a rule, for every provider at once (Normen sheet, README, regels)."""
    basis = rule.basis
    if basis.kind == "wet":
        law = f"de wet van de sector ({sector_laws(catalogue)})" if basis.law == "sector" else basis.law
        if rule.article and basis.law != "sector":
            law += f" ({rule.article})"
        return f"Wet: {law}, voor aanbieders met een wettelijke meldcodeplicht; voor de andere een contract- of subsidievoorwaarde."
    if basis.kind == "handreiking":
        return f"{basis.passage}."
    if basis.kind == "voorwaarde":
        return "Contract- of subsidievoorwaarde (regionale afspraak)."
    return "Eis aan de aanlevering."


def rules_table(catalogue: Catalogue, width: int = 120) -> str:
    """The effective rules as a plain-text Dutch table (for ``kvcompliance regels``)."""
    import textwrap

    headers = ("Regel", "Titel", "Geldt voor", "Norm en herkomst", "Grondslag")
    rows = []
    for rule in catalogue.rules:
        norm = f"{norm_text(catalogue, rule)} {origin_text(catalogue, rule)}" if rule.active else "UITGESCHAKELD"
        params = params_text(catalogue, rule)
        if params and rule.active:
            norm += f" ({params})"
        rows.append((rule.id, rule.title, scope_text(catalogue, rule), norm, basis_summary(catalogue, rule)))
    fixed = [5, 22, 22, 0, 34]
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
    return title + "\n\n" + "\n".join(lines).rstrip() + "\n\n" + escalation_text(catalogue)


def escalation_text(catalogue: Catalogue) -> str:
    """The escalation ladder in plain Dutch, one line per step (for ``kvcompliance regels``)."""
    lines = ["Escalatie bij herhaling (met --dossier; de gemeente beslist, het overzicht toont de bereikte trede):"]
    lines += [f"  trede {step.text}" for step in catalogue.escalation]
    return "\n".join(lines) + "\n"


def markdown_rules_table(catalogue: Catalogue) -> str:
    """The rules as a Markdown table, for the README (kept in sync by a test)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Regel | Titel | Geldt voor | Norm | Grondslag |", "|---|---|---|---|---|"]
    for rule in catalogue.rules:
        norm = norm_text(catalogue, rule) if rule.active else "Standaard uitgeschakeld; een regio zet de regel aan. " + norm_text(catalogue, rule)
        params = params_text(catalogue, rule)
        if params:
            norm += f" ({params})"
        lines.append(
            f"| {rule.id} | {cell(rule.title)} | {cell(scope_text(catalogue, rule))} | {cell(norm)} | {cell(basis_summary(catalogue, rule))} |"
        )
    return "\n".join(lines) + "\n"
