"""What the catalogue is made of: fields, sectors, statuses, grondslagen and rules.

Plain frozen data, built by :mod:`kvcompliance.catalogue.load` from ``schemas/``. This
module imports only the standard library so that ``kvcompliance --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Mapping

#: Prefix of the workbook-level defined names in the form: ``kv_<field key>``.
NAME_PREFIX = "kv_"
#: Defined name holding the form version (written by the template, read by the reader).
VERSION_NAME = f"{NAME_PREFIX}formulierversie"


class Status(StrEnum):
    """The outcome of one rule for one return."""

    ROOD = "rood"
    ORANJE = "oranje"
    GRIJS = "grijs"
    GROEN = "groen"
    NVT = "nvt"

    @property
    def severity(self) -> int:
        """Higher is worse: rood > oranje > grijs > groen > n.v.t. (DOMAIN §5.1)."""
        return _SEVERITY[self]


_SEVERITY = {Status.NVT: 0, Status.GROEN: 1, Status.GRIJS: 2, Status.ORANJE: 3, Status.ROOD: 4}
#: Statuses a norm level may assign.
LEVEL_STATUSES = (Status.ROOD, Status.ORANJE, Status.GRIJS)


def worst(statuses: Any) -> Status:
    """The most severe of ``statuses`` ignoring n.v.t.; groen when there is none."""
    found = [s for s in statuses if s != Status.NVT]
    return max(found, key=lambda s: s.severity) if found else Status.GROEN


FIELD_TYPES = ("tekst", "code", "email", "sector", "jaar", "datum", "geheel", "getal", "janee", "janeenvt")
NUMERIC_TYPES = ("geheel", "getal", "jaar")
METRIC_FORMATS = ("getal", "geheel", "procent", "kans", "janee", "tekst")
PARAM_FORMATS = ("getal", "geheel", "procent", "janee", "sectoren")
#: How a field value is shown, by field type.
FIELD_FORMAT = {"geheel": "geheel", "getal": "getal", "jaar": "jaar", "janee": "janee", "janeenvt": "tekst", "datum": "datum"}
#: Kinds of grondslag (DOMAIN §5.2).
BASIS_KINDS = ("wet", "handreiking", "voorwaarde", "aanlevering")
#: The two verdicts a return gets (DOMAIN §5.1.5): what it says, and how it was delivered.
GROUP_CONTENT, GROUP_DELIVERY = "inhoud", "aanlevering"


@dataclass(frozen=True)
class Section:
    key: str
    title: str


@dataclass(frozen=True)
class Sector:
    key: str
    label: str
    legal_basis: str  # the statute that obliges a meldcode; '' when only contractual
    aliases: tuple[str, ...] = ()
    supervisor: str = ""  # who supervises the statutory duty (DOMAIN §5.5)
    in_sentence: str = ""  # the label inside a sentence ('jeugdhulp', 'Wmo'); '' = label in lower case

    @property
    def label_in_sentence(self) -> str:
        return self.in_sentence or self.label.lower()

    @property
    def statutory(self) -> bool:
        return bool(self.legal_basis)

    @property
    def obligation(self) -> str:
        """Dutch: whether the meldcode obligation is statutory or only contractual."""
        return f"wettelijk ({self.legal_basis})" if self.legal_basis else "contractueel"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    section: str
    type: str
    required: bool
    help: str
    digits: int | None = None
    short: str = ""  # column header in the workbooks ('' = the label)

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def defined_name(self) -> str:
        """The workbook-level defined name of this field's input cell in the form."""
        return f"{NAME_PREFIX}{self.key}"


@dataclass(frozen=True)
class StatusInfo:
    status: Status
    label: str
    meaning: str
    colour: str
    light: str


@dataclass(frozen=True)
class Operator:
    key: str
    dutch: str  # as a condition: "kleiner is dan"


OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        "kleiner_dan": Operator("kleiner_dan", "kleiner is dan"),
        "groter_dan": Operator("groter_dan", "groter is dan"),
        "gelijk_aan": Operator("gelijk_aan", "gelijk is aan"),
        "niet_gelijk_aan": Operator("niet_gelijk_aan", "niet gelijk is aan"),
        "in": Operator("in", "een van deze waarden is:"),
        "niet_patroon": Operator("niet_patroon", "niet het juiste formaat heeft"),
    }
)


@dataclass(frozen=True)
class Basis:
    """A grondslag: why a gemeente may ask this at all (DOMAIN §5.2)."""

    key: str
    kind: str  # one of BASIS_KINDS
    law: str = ""  # kind 'wet': the statute, or 'sector' (the provider's sector law)
    passage: str = ""  # kind 'handreiking': the passage
    short: str = ""  # a short citation, for every finding ('' = the passage)


@dataclass(frozen=True)
class ParamSpec:
    key: str
    label: str
    format: str  # one of PARAM_FORMATS


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    format: str
    inputs: tuple[str, ...] = ()  # the fields it is computed from


@dataclass(frozen=True)
class Level:
    """One norm level: when ``column <op> value`` holds, the return gets ``status``."""

    status: Status
    column: str
    op: str
    value: Any
    when: str = ""  # 'als' clause: the condition in Dutch, {waarde} is the value
    finding: str = ""  # 'bevinding': what is the matter, for a return where it holds
    question: str = ""  # 'vraag' for the agenda, when it holds ('' = the rule's)


@dataclass(frozen=True)
class KeyFigure:
    """A rule metric that the workbooks compare with the sector and follow over the years."""

    key: str
    label: str
    rule: str
    metric: str
    explanation: str


@dataclass(frozen=True)
class EscalationStep:
    """One step of the escalation ladder (``[[escalatie]]``): reached after ``step``
    consecutive years with the same rule rood, or an agreement about it not kept."""

    step: int
    name: str  # 'verbeterplan'
    explanation: str = ""  # 'de aanbieder levert een verbeterplan met termijnen'

    @property
    def text(self) -> str:
        """'2 verbeterplan (de aanbieder levert een verbeterplan met termijnen)'."""
        return f"{self.step} {self.name}" + (f" ({self.explanation})" if self.explanation else "")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    basis: Basis
    article: str  # the precise article or part, '' when none
    explanation: str
    inputs: tuple[str, ...]
    sectors: tuple[str, ...] | None
    active: bool
    params: Mapping[str, Any]
    metrics: tuple[Metric, ...]
    levels: tuple[Level, ...]
    value_template: str
    texts: Mapping[str, str]
    agenda: Mapping[str, str]
    check_texts: tuple[str, ...] = ()  # extra text values its check function provides
    adopted: str = ""  # who set its norm and when ('' = kvcompliance's default norm)
    supervised: bool = False  # rood at a statutorily obliged provider goes on the Toezicht sheet

    @property
    def group(self) -> str:
        """:data:`GROUP_DELIVERY` for the rules about the delivery, else :data:`GROUP_CONTENT`."""
        return GROUP_DELIVERY if self.basis.kind == "aanlevering" else GROUP_CONTENT

    @property
    def level_statuses(self) -> tuple[Status, ...]:
        """Every status this rule can give, worst first, always ending in groen."""
        found = {lvl.status for lvl in self.levels} | {Status.GROEN}
        return tuple(sorted(found, key=lambda s: -s.severity))

    def metric(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The whole catalogue. Equal only to itself (so it can key a cache while it lives)."""

    form_version: str
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    sectors: tuple[Sector, ...]
    statuses: tuple[StatusInfo, ...]
    bases: Mapping[str, Basis]
    texts: Mapping[str, str]
    rules: tuple[Rule, ...]
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    contradictions: Mapping[str, str] = field(default_factory=dict)
    key_figures: tuple[KeyFigure, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()  # the ladder, first step first
    names: tuple[str, ...] = ()  # proper names that keep their capital inside a sentence ('Veilig Thuis')
    rules_file: str | None = None
    warnings: tuple[str, ...] = ()  # Dutch: what an own rules file may not have meant
    _field_index: Mapping[str, Field] = field(default_factory=dict, repr=False)

    def __reduce__(self):
        """Pickle as 'load the same catalogue again' (it holds read-only mappings)."""
        from kvcompliance.catalogue.load import load_catalogue

        return (load_catalogue, (self.rules_file,))

    def field(self, key: str) -> Field:
        return self._field_index[key]

    def has_field(self, key: str) -> bool:
        return key in self._field_index

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def proper_names(self) -> tuple[str, ...]:
        """Names that keep their capital inside a sentence: the declared ones ('Veilig Thuis',
        'Verwijsindex') and every sector whose label does ('Wmo')."""
        sectors = tuple(s.label_in_sentence for s in self.sectors if s.label_in_sentence[:1].isupper())
        return self.names + tuple(n for n in sectors if n not in self.names)

    @property
    def active_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.active)

    def status_info(self, status: Status | str) -> StatusInfo:
        for info in self.statuses:
            if info.status == status:
                return info
        raise KeyError(status)

    def sector(self, key: str) -> Sector | None:
        for sector in self.sectors:
            if sector.key == key:
                return sector
        return None

    def fields_in(self, section: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.section == section)

    def column_label(self, rule: Rule, column: str) -> str:
        """Dutch label of a field or of one of the rule's metrics."""
        metric = rule.metric(column)
        return metric.label if metric else self.field(column).label

    def column_format(self, rule: Rule, column: str) -> str:
        """How a level's column is formatted: a metric's format, else from the field type."""
        metric = rule.metric(column)
        return metric.format if metric else FIELD_FORMAT.get(self.field(column).type, "tekst")

    def column_inputs(self, rule: Rule, column: str) -> tuple[str, ...]:
        """The fields a level's column depends on: the field itself, or a metric's inputs."""
        metric = rule.metric(column)
        return metric.inputs if metric else (column,)
