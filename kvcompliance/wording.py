"""Dutch text for one return: the values a rule's texts fill in, what is missing, and the
grondslag and herkomst of a verdict (DOMAIN §5.2).

Nothing here decides a status. Every sentence is a template from the catalogue; this
module fills it in for one provider: its values as it typed them when they could not be
understood, counts with the right word, numbers with enough decimals to stay on the right
side of a norm, and "wettelijk verplicht" only for a provider the law obliges.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from kvcompliance.catalogue import FIELD_FORMAT, Catalogue, Level, Rule
from kvcompliance.model import FieldIssue
from kvcompliance.values import EMPTY, format_date, format_near, format_number, format_percent, format_value, listing, plural

DUTY_STATUTORY, DUTY_CONTRACTUAL = "wettelijk", "contractueel"
RELATION_CONTRACT, RELATION_SUBSIDY = "contract", "subsidie"


# ------------------------------------------------------------------ what is missing
def missing_phrase(catalogue: Catalogue, key: str, issue: FieldIssue | None) -> str:
    """"‘Aantal fte’ is niet ingevuld" or "‘Aantal fte’ is niet te verwerken: ‘ca. 20’ is geen getal"."""
    label = catalogue.field(key).label
    if issue is not None:
        return catalogue.texts["veld_onbegrepen"].format(veld=label, reden=issue.reason)
    return catalogue.texts["veld_leeg"].format(veld=label)


def missing_list(catalogue: Catalogue, keys: Sequence[str], issues: Mapping[str, FieldIssue]) -> str:
    return join_clauses([missing_phrase(catalogue, key, issues.get(key)) for key in keys])


def join_clauses(clauses: Sequence[str]) -> str:
    return "; ".join(c for c in clauses if c)


# ------------------------------------------------------------------ values
def field_text(catalogue: Catalogue, key: str, value: Any, issue: FieldIssue | None) -> str:
    """A field as the provider will recognise it: its value, or what it typed in quotes."""
    if issue is not None:
        return f"‘{issue.raw}’"
    if value is None:
        return EMPTY
    field = catalogue.field(key)
    if field.type == "sector":
        sector = catalogue.sector(value)
        return sector.label if sector else str(value)
    if field.type in ("tekst", "code", "email", "janeenvt"):
        return str(value)
    return format_value(value, FIELD_FORMAT[field.type])


class FieldValues(dict):
    """One return's fields as text, made on first use. ``{key|one|many}`` gives a count."""

    def __init__(self, catalogue: Catalogue, columns: Mapping[str, Any], pos: int, issues: Mapping[str, FieldIssue]):
        super().__init__()
        self.catalogue, self.columns, self.pos, self.issues = catalogue, columns, pos, issues

    def raw(self, key: str) -> Any:
        return self.columns[key][self.pos] if key in self.columns else None

    def __missing__(self, key: str) -> str:
        if "|" in key:
            name, one, many = (key.split("|") + ["", ""])[:3]
            value = self.raw(name)
            text = plural(value, one, many) if isinstance(value, (int, float)) and not isinstance(value, bool) else self[name]
        else:
            text = field_text(self.catalogue, key, self.raw(key), self.issues.get(key))
        self[key] = text
        return text


def column_values(series: Any) -> list:
    """A frame column as plain values, every kind of missing (NA, NaN, NaT) as ``None``."""
    missing = series.isna().to_numpy(dtype=bool)
    return [None if gone else v for v, gone in zip(series.to_numpy(dtype=object), missing)]


class FrameColumns(dict):
    """The columns of a frame as plain values (:func:`column_values`), each made on first use."""

    def __init__(self, frame: Any):
        super().__init__()
        self.frame = frame

    def __contains__(self, key: object) -> bool:
        return key in self.frame.columns

    def __missing__(self, key: str) -> list:
        values = self[key] = column_values(self.frame[key])
        return values


def fill_fields(catalogue: Catalogue, template: str, columns: FrameColumns, pos: int, issues: Mapping[str, FieldIssue]) -> str:
    """``template`` with the fields of the return at row ``pos`` of the frame of ``columns``."""
    return template.format_map(FieldValues(catalogue, columns, pos, issues))


def param_text(catalogue: Catalogue, key: str, value: Any) -> str:
    """A rule parameter as shown inside a sentence: 5%, 1, ja, 'jeugdhulp, Wmo', or one value
    per sector ('jeugdhulp 0,5, jeugdgezondheidszorg 0,3'). Sectors are shown by their
    Dutch label from the catalogue (their keys stay in the TOML), as a Dutch list ('... en
    overig 0,1')."""
    spec = catalogue.params.get(key)
    fmt = spec.format if spec else "getal"
    if isinstance(value, dict):
        return listing([f"{_sector_in_sentence(catalogue, k)} {param_text(catalogue, key, v)}" for k, v in value.items()])
    if fmt == "sectoren":
        return listing([_sector_in_sentence(catalogue, s) for s in value])
    if fmt == "janee" or isinstance(value, bool):
        return "ja" if value else "nee"
    if fmt == "procent":
        return format_percent(float(value))
    if fmt == "geheel":
        return format_number(float(value), 0)
    return format_number(float(value))


def _sector_in_sentence(catalogue: Catalogue, key: str) -> str:
    sector = catalogue.sector(key)
    return sector.label_in_sentence if sector else key


def level_value_text(catalogue: Catalogue, rule: Rule, level: Level) -> str:
    """The boundary of a level as shown: '80%', '3', 'nee of n.v.t.'."""
    fmt = catalogue.column_format(rule, level.column)
    if level.op == "in":
        return " of ".join(str(v) for v in level.value)
    if level.op == "niet_patroon":
        return ""
    if fmt == "kans":
        return format_value(level.value, "procent")
    return format_value(level.value, fmt)


def thresholds(rule: Rule, column: str) -> tuple[float, ...]:
    """The numeric boundaries the rule's levels draw on ``column``."""
    return tuple(
        float(level.value)
        for level in rule.levels
        if level.column == column and level.op in ("kleiner_dan", "groter_dan", "gelijk_aan")
        and isinstance(level.value, (int, float)) and not isinstance(level.value, bool)
    )


class RuleValues(dict):
    """What one rule's texts fill in for one return: its metrics (with enough decimals to
    stay on the right side of its norm), its check's texts, its parameters, the return's
    fields and the values every text may use."""

    def __init__(self, rule: Rule, metrics: Mapping[str, tuple[Any, str]], fields: FieldValues, base: Mapping[str, str]):
        super().__init__(base)
        self.rule, self.metrics, self.fields = rule, metrics, fields

    def __missing__(self, key: str) -> str:
        name = key.split("|", 1)[0]
        if name in self.metrics:
            value, fmt = self.metrics[name]
            if "|" in key:
                one, many = (key.split("|")[1:] + ["", ""])[:2]
                text = plural(value, one, many) if value is not None else self.fields.catalogue.texts["niet_te_bepalen"]
            elif not fmt:
                text = "" if value is None else str(value)
            elif value is None:
                text = self.fields.catalogue.texts["niet_te_bepalen"]
            elif fmt in ("getal", "procent"):
                text = format_near(float(value), fmt, thresholds(self.rule, name))
            else:
                text = format_value(value, fmt)
        elif name in self.rule.params:
            value = self.rule.params[name]
            text = plural(value, *(key.split("|")[1:] + ["", ""])[:2]) if "|" in key else param_text(self.fields.catalogue, name, value)
        else:
            return self.fields[key]
        self[key] = text
        return text


# ------------------------------------------------------------------ duty, grondslag, herkomst
def condition_word(relation: str | None) -> str:
    """'contractvoorwaarde', 'subsidievoorwaarde' or 'contract- of subsidievoorwaarde'."""
    return {RELATION_CONTRACT: "contractvoorwaarde", RELATION_SUBSIDY: "subsidievoorwaarde"}.get(
        relation or "", "contract- of subsidievoorwaarde"
    )


def condition_phrase(relation: str | None) -> str:
    """'een voorwaarde in uw contract' (subsidie; contract of subsidie)."""
    return {RELATION_CONTRACT: "een voorwaarde in uw contract", RELATION_SUBSIDY: "een voorwaarde in uw subsidie"}.get(
        relation or "", "een voorwaarde in uw contract of subsidie"
    )


def law_text(catalogue: Catalogue, rule: Rule, sector_key: str | None) -> str:
    """The statute a 'wet' rule rests on; for the meldcode duty itself, the sector's law."""
    if rule.basis.law == "sector":
        sector = catalogue.sector(sector_key) if sector_key else None
        return sector.legal_basis if sector and sector.legal_basis else "de wet van uw sector"
    return f"{rule.basis.law} {rule.article}" if rule.article else rule.basis.law


def duty_phrase(catalogue: Catalogue, rule: Rule, duty: str | None, relation: str | None, sector_key: str | None) -> str:
    """{plicht}: 'wettelijk verplicht (Jeugdwet art. 4.1.7)' only when the law obliges this
    provider; otherwise the condition in its contract or subsidy."""
    if duty == DUTY_STATUTORY:
        return f"wettelijk verplicht ({law_text(catalogue, rule, sector_key)})"
    if duty == DUTY_CONTRACTUAL:
        return condition_phrase(relation)
    return f"wettelijk verplicht of {condition_phrase(relation)}"


def basis_text(catalogue: Catalogue, rule: Rule, duty: str | None, relation: str | None, sector_key: str | None) -> str:
    """Why the gemeente may ask this of this provider (the 'Grondslag' column)."""
    kind = rule.basis.kind
    word = condition_word(relation)
    if kind == "wet":
        law = law_text(catalogue, rule, sector_key)
        if duty == DUTY_STATUTORY:
            return f"Wettelijke plicht: {law}."
        if duty == DUTY_CONTRACTUAL:
            if rule.basis.law == "sector":
                return f"{word.capitalize()}: voor uw sector is de meldcode geen wettelijke plicht."
            return f"{word.capitalize()}; voor organisaties met een wettelijke meldcodeplicht staat dit in het {law}."
        return f"Wettelijke plicht ({law}) of {word}, afhankelijk van de sector."
    if kind == "handreiking":
        return f"{rule.basis.short or rule.basis.passage}; als {word}."
    if kind == "voorwaarde":
        return f"{word.capitalize()} (regionale afspraak)."
    return "Eis aan de aanlevering van de opgave."


def origin_text(catalogue: Catalogue, rule: Rule) -> str:
    """Who set the norm: the region (named in its rules file) or kvcompliance's default."""
    if rule.basis.kind == "aanlevering":
        return "Eis van het uitvraagformulier."
    if rule.adopted:
        return catalogue.texts["vastgesteld"].format(vastgesteld=rule.adopted)
    return catalogue.texts["standaardnorm"]


def year_end_text(year: Any) -> str:
    """{einde_verslagjaar}: '31-12-2025', or in words when the year is unknown."""
    from datetime import date

    if isinstance(year, int) and 1900 <= year <= 2100:
        return format_date(date(year, 12, 31))
    return "31 december van het verslagjaar"
