"""The one catalogue: fields and rules, loaded from the TOML files in ``schemas/``.

Everything a user sees (the return form, the reader, validation, the ``regels`` command,
the workbooks) is derived from the objects defined here. This module imports only the
standard library so that ``kvcompliance --help`` stays fast.
"""

from __future__ import annotations

import copy
import re
import string
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from kvcompliance.errors import CatalogueError, UnreadableFile

FIELDS_FILE = "velden.toml"
RULES_FILE = "regels.toml"
#: Prefix of the workbook-level defined names in the form: ``kv_<field key>``.
NAME_PREFIX = "kv_"
#: Defined name holding the form version (written by the template, read by the reader).
VERSION_NAME = f"{NAME_PREFIX}formulierversie"


def schemas_dir() -> Path:
    """The folder holding the catalogue: packaged copy first, then the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / FIELDS_FILE).is_file():
            return candidate
    raise CatalogueError("De catalogus (schemas/velden.toml) is niet gevonden: installeer kvcompliance opnieuw.")


class Status(StrEnum):
    """The outcome of one rule for one return."""

    ROOD = "rood"
    ORANJE = "oranje"
    GRIJS = "grijs"
    GROEN = "groen"
    NVT = "nvt"

    @property
    def severity(self) -> int:
        """Higher is worse: rood > oranje > grijs > groen > n.v.t. (DOMAIN §5)."""
        return _SEVERITY[self]


_SEVERITY = {Status.NVT: 0, Status.GROEN: 1, Status.GRIJS: 2, Status.ORANJE: 3, Status.ROOD: 4}
#: Statuses a norm level may assign.
LEVEL_STATUSES = (Status.ROOD, Status.ORANJE, Status.GRIJS)

FIELD_TYPES = ("tekst", "code", "email", "sector", "jaar", "datum", "geheel", "getal", "janee", "janeenvt")
NUMERIC_TYPES = ("geheel", "getal", "jaar")
METRIC_FORMATS = ("getal", "geheel", "procent", "kans", "janee", "tekst")


@dataclass(frozen=True)
class Section:
    key: str
    title: str


@dataclass(frozen=True)
class Sector:
    key: str
    label: str
    legal_basis: str

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
    dutch: str


OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        "kleiner_dan": Operator("kleiner_dan", "<"),
        "groter_dan": Operator("groter_dan", ">"),
        "gelijk_aan": Operator("gelijk_aan", "="),
        "niet_gelijk_aan": Operator("niet_gelijk_aan", "≠"),
        "in": Operator("in", "="),
        "niet_patroon": Operator("niet_patroon", "heeft niet het juiste formaat"),
    }
)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    format: str


@dataclass(frozen=True)
class Level:
    """One norm level: when ``column <op> value`` holds, the return gets ``status``."""

    status: Status
    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    source: str
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

    @property
    def level_statuses(self) -> tuple[Status, ...]:
        """Every status this rule can give, worst first, always ending in groen."""
        found = {lvl.status for lvl in self.levels} | {Status.GROEN}
        return tuple(sorted(found, key=lambda s: -s.severity))


@dataclass(frozen=True)
class Catalogue:
    form_version: str
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    sectors: tuple[Sector, ...]
    statuses: tuple[StatusInfo, ...]
    sources: Mapping[str, str]
    texts: Mapping[str, str]
    rules: tuple[Rule, ...]
    rules_file: str | None = None
    _field_index: Mapping[str, Field] = field(default_factory=dict, repr=False, compare=False)

    def __reduce__(self):
        """Pickle as 'load the same catalogue again' (it holds read-only mappings)."""
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
        for metric in rule.metrics:
            if metric.key == column:
                return metric.label
        return self.field(column).label

    def column_format(self, rule: Rule, column: str) -> str:
        """How a level's column is formatted: a metric's format, else from the field type."""
        for metric in rule.metrics:
            if metric.key == column:
                return metric.format
        return FIELD_FORMAT.get(self.field(column).type, "tekst")


#: How a field value is shown, by field type.
FIELD_FORMAT = {
    "geheel": "geheel",
    "getal": "getal",
    "jaar": "jaar",
    "janee": "janee",
    "janeenvt": "tekst",
    "datum": "datum",
}


# --------------------------------------------------------------------------- loading
def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise CatalogueError(f"Het bestand {path} bestaat niet.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name} is geen geldig TOML-bestand: {_dutch_toml_error(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path.name} kan niet worden gelezen ({exc.__class__.__name__}).") from None


def _dutch_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    where = f"regel {match.group(1)}, kolom {match.group(2)}" if match else "onbekende plaats"
    what = re.sub(r"\s*\(at .*\)$", "", text)
    return f"fout op {where} ({what})"


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise CatalogueError(f"{where}: {message}")


def _build_fields(data: dict[str, Any], where: str) -> tuple[tuple[Section, ...], tuple[Field, ...], tuple[Sector, ...]]:
    sections = tuple(Section(s["key"], s["titel"]) for s in data.get("sectie", []))
    section_keys = {s.key for s in sections}
    sectors = tuple(Sector(s["key"], s["label"], s.get("grondslag", "")) for s in data.get("sector", []))
    fields = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("veld", []), start=1):
        here = f"{where}, veld {i} ({raw.get('key', '?')})"
        _require(raw.get("key") not in seen, here, "deze sleutel komt twee keer voor")
        _require(raw.get("type") in FIELD_TYPES, here, f"onbekend type {raw.get('type')!r}")
        _require(raw.get("sectie") in section_keys, here, f"onbekende sectie {raw.get('sectie')!r}")
        seen.add(raw["key"])
        fields.append(
            Field(
                key=raw["key"],
                label=raw["label"],
                section=raw["sectie"],
                type=raw["type"],
                required=bool(raw.get("verplicht", False)),
                help=raw.get("hulp", ""),
                digits=raw.get("cijfers"),
            )
        )
    return sections, tuple(fields), sectors


RULE_KEYS = {
    "id", "titel", "bron", "toelichting", "velden", "sectoren", "actief", "parameters",
    "metrieken", "norm", "waarde", "tekst", "agenda",
}
LEVEL_KEYS = {"status", "kolom"} | set(OPERATORS)
TEXT_KEYS = {"groen", "oranje", "rood", "grijs", "nvt"}


def _merge_rule(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    """Apply one override entry to a default rule: tables merge, lists and values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        _require(key in RULE_KEYS, where, f"onbekende sleutel {key!r} (toegestaan: {', '.join(sorted(RULE_KEYS))})")
        if key in ("parameters", "tekst", "agenda", "metrieken") and isinstance(value, dict):
            _require(isinstance(merged.get(key, {}), dict), where, f"{key} moet een tabel zijn")
            target = merged.setdefault(key, {})
            for sub, subvalue in value.items():
                if isinstance(subvalue, dict) and isinstance(target.get(sub), dict):
                    target[sub] = {**target[sub], **subvalue}
                else:
                    target[sub] = subvalue
        else:
            merged[key] = value
    return merged


def _check_param_types(default: Any, given: Any, where: str) -> None:
    if isinstance(default, dict):
        _require(isinstance(given, dict), where, "moet een tabel zijn")
        for key, value in given.items():
            _require(key in default, where, f"onbekende parameter {key!r}")
            _check_param_types(default[key], value, f"{where}.{key}")
    elif isinstance(default, bool):
        _require(isinstance(given, bool), where, f"moet true of false zijn, niet {given!r}")
    elif isinstance(default, (int, float)):
        _require(isinstance(given, (int, float)) and not isinstance(given, bool), where, f"moet een getal zijn, niet {given!r}")
        _require(given >= 0, where, f"mag niet negatief zijn ({given})")


def _build_level(raw: Any, rule_id: str, index: int, columns: dict[str, str], sector_keys: set[str], where: str) -> Level:
    here = f"{where}, regel {rule_id}, norm {index}"
    _require(isinstance(raw, dict), here, "een norm moet een tabel zijn")
    unknown = set(raw) - LEVEL_KEYS
    _require(not unknown, here, f"onbekende sleutel {', '.join(sorted(unknown))} (voorwaarden: {', '.join(OPERATORS)})")
    _require(raw.get("status") in {s.value for s in LEVEL_STATUSES}, here, f"status moet rood, oranje of grijs zijn, niet {raw.get('status')!r}")
    column = raw.get("kolom")
    _require(column in columns, here, f"onbekende kolom {column!r} (bekend: {', '.join(sorted(columns))})")
    ops = [op for op in OPERATORS if op in raw]
    _require(len(ops) == 1, here, f"geef precies één voorwaarde ({', '.join(OPERATORS)})")
    op = ops[0]
    value = raw[op]
    kind = columns[column]
    opwhere = f"{here}, {op}"
    if op in ("kleiner_dan", "groter_dan"):
        _require(kind in ("getal", "geheel", "procent", "kans", "jaar"), opwhere, f"{column} is geen getal; gebruik gelijk_aan of in")
        _require(isinstance(value, (int, float)) and not isinstance(value, bool), opwhere, f"moet een getal zijn, niet {value!r}")
    elif op in ("gelijk_aan", "niet_gelijk_aan"):
        if kind == "janee":
            _require(isinstance(value, bool), opwhere, f"moet true of false zijn, niet {value!r}")
        elif kind in ("getal", "geheel", "procent", "kans", "jaar"):
            _require(isinstance(value, (int, float)) and not isinstance(value, bool), opwhere, f"moet een getal zijn, niet {value!r}")
        else:
            _require(isinstance(value, str), opwhere, f"moet tekst zijn, niet {value!r}")
    elif op == "in":
        _require(isinstance(value, list) and value, opwhere, "moet een lijst met waarden zijn")
        if column == "sector":
            bad = [v for v in value if v not in sector_keys]
            _require(not bad, opwhere, f"onbekende sector {', '.join(map(str, bad))}")
        if kind == "tekst" and column in ("meldcode_kindcheck", "verwijsindex_aangesloten", "kwaliteitskader_smb"):
            bad = [v for v in value if v not in ("ja", "nee", "n.v.t.")]
            _require(not bad, opwhere, f"toegestaan zijn ja, nee en n.v.t., niet {', '.join(map(str, bad))}")
    elif op == "niet_patroon":
        _require(isinstance(value, str), opwhere, "moet een reguliere expressie (tekst) zijn")
        try:
            re.compile(value)
        except re.error as exc:
            raise CatalogueError(f"{opwhere}: geen geldige reguliere expressie ({exc})") from None
    return Level(Status(raw["status"]), column, op, tuple(value) if isinstance(value, list) else value)


def _build_rule(raw: dict[str, Any], fields: dict[str, Field], sector_keys: set[str], source_keys: set[str], where: str) -> Rule:
    rule_id = raw.get("id", "?")
    here = f"{where}, regel {rule_id}"
    for key in ("titel", "bron", "waarde"):
        _require(isinstance(raw.get(key), str), here, f"{key} ontbreekt of is geen tekst")
    _require(raw["bron"] in source_keys, here, f"onbekende bron {raw['bron']!r} (bekend: {', '.join(sorted(source_keys))})")
    inputs = raw.get("velden", [])
    _require(isinstance(inputs, list), here, "velden moet een lijst zijn")
    bad = [k for k in inputs if k not in fields]
    _require(not bad, here, f"onbekend veld {', '.join(map(str, bad))}")
    sectors = raw.get("sectoren")
    if sectors == "alle":
        sectors = None
    if sectors is not None:
        _require(isinstance(sectors, list), here, "sectoren moet \"alle\" zijn of een lijst, bijvoorbeeld [\"jeugdhulp\", \"wmo\"]")
        bad = [s for s in sectors if s not in sector_keys]
        _require(not bad, here, f"onbekende sector {', '.join(map(str, bad))} (bekend: {', '.join(sorted(sector_keys))})")
    active = raw.get("actief", True)
    _require(isinstance(active, bool), here, f"actief moet true of false zijn, niet {active!r}")
    metrics = []
    for key, spec in raw.get("metrieken", {}).items():
        _require(isinstance(spec, dict) and "label" in spec, f"{here}, metriek {key}", "label ontbreekt")
        _require(spec.get("opmaak", "getal") in METRIC_FORMATS, f"{here}, metriek {key}", f"onbekende opmaak {spec.get('opmaak')!r}")
        metrics.append(Metric(key, spec["label"], spec.get("opmaak", "getal")))
    columns = {k: FIELD_FORMAT.get(f.type, "tekst") for k, f in fields.items()}
    columns.update({m.key: m.format for m in metrics})
    norm = raw.get("norm", [])
    _require(isinstance(norm, list), here, "norm moet een lijst niveaus zijn ([[regel.norm]])")
    levels = tuple(_build_level(lvl, rule_id, i, columns, sector_keys, where) for i, lvl in enumerate(norm, start=1))
    for kind in ("tekst", "agenda"):
        table = raw.get(kind, {})
        _require(isinstance(table, dict), here, f"{kind} moet een tabel zijn")
        unknown = set(table) - TEXT_KEYS
        _require(not unknown, here, f"{kind}: onbekende status {', '.join(sorted(unknown))}")
    return Rule(
        id=rule_id,
        title=raw["titel"],
        source=raw["bron"],
        explanation=raw.get("toelichting", ""),
        inputs=tuple(inputs),
        sectors=tuple(sectors) if sectors is not None else None,
        active=active,
        params=MappingProxyType(copy.deepcopy(raw.get("parameters", {}))),
        metrics=tuple(metrics),
        levels=levels,
        value_template=raw["waarde"],
        texts=MappingProxyType(dict(raw.get("tekst", {}))),
        agenda=MappingProxyType(dict(raw.get("agenda", {}))),
    )


def _apply_overrides(rules: list[dict[str, Any]], override: dict[str, Any], where: str) -> list[dict[str, Any]]:
    unknown_top = set(override) - {"regel"}
    _require(not unknown_top, where, f"onbekende sleutel {', '.join(sorted(unknown_top))}; een regelbestand bevat alleen [[regel]]-blokken")
    entries = override.get("regel", [])
    _require(isinstance(entries, list), where, "gebruik [[regel]]-blokken")
    by_id = {r["id"]: i for i, r in enumerate(rules)}
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        here = f"{where}, [[regel]] nummer {n}"
        _require(isinstance(entry, dict) and "id" in entry, here, "id ontbreekt")
        rule_id = entry["id"]
        _require(rule_id in by_id, here, f"onbekende regel {rule_id!r} (bekend: {', '.join(by_id)})")
        _require(rule_id not in seen, here, f"regel {rule_id} staat twee keer in het bestand")
        seen.add(rule_id)
        base = rules[by_id[rule_id]]
        if "parameters" in entry:
            _check_param_types(base.get("parameters", {}), entry["parameters"], f"{where}, regel {rule_id}, parameters")
        rules[by_id[rule_id]] = _merge_rule(base, entry, f"{where}, regel {rule_id}")
    return rules


def load_catalogue(rules_file: str | None = None) -> Catalogue:
    """Load fields and rules; ``rules_file`` (a user's ``--regels``) overrides the defaults.

    Cached per file and modification time, so an edited rules file is read again.
    """
    stamp = None
    if rules_file is not None:
        try:
            info = Path(rules_file).stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
    return _load_catalogue(None if rules_file is None else str(rules_file), stamp)


@lru_cache(maxsize=8)
def _load_catalogue(rules_file: str | None, stamp: tuple[int, int] | None) -> Catalogue:
    base = schemas_dir()
    field_data = _read_toml(base / FIELDS_FILE)
    rule_data = _read_toml(base / RULES_FILE)
    sections, fields, sectors = _build_fields(field_data, FIELDS_FILE)
    field_index = {f.key: f for f in fields}
    sector_keys = {s.key for s in sectors}
    source_keys = set(rule_data.get("bronnen", {}))
    raw_rules = list(rule_data.get("regel", []))
    where = RULES_FILE
    if rules_file is not None:
        path = Path(rules_file)
        where = path.name
        raw_rules = _apply_overrides(copy.deepcopy(raw_rules), _read_toml(path), where)
    ids = [r.get("id") for r in raw_rules]
    _require(len(ids) == len(set(ids)), RULES_FILE, "een regel-id komt twee keer voor")
    rules = tuple(_build_rule(r, field_index, sector_keys, source_keys, where) for r in raw_rules)
    statuses = tuple(
        StatusInfo(Status(s["key"]), s["label"], s["betekenis"], s["kleur"], s["licht"]) for s in rule_data.get("status", [])
    )
    _require({s.status for s in statuses} == set(Status), RULES_FILE, "elke status moet precies één keer beschreven zijn")
    return Catalogue(
        form_version=str(field_data["formulierversie"]),
        sections=sections,
        fields=fields,
        sectors=sectors,
        statuses=statuses,
        sources=MappingProxyType(dict(rule_data.get("bronnen", {}))),
        texts=MappingProxyType(dict(rule_data.get("teksten", {}))),
        rules=rules,
        rules_file=str(rules_file) if rules_file else None,
        _field_index=MappingProxyType(field_index),
    )


# --------------------------------------------------------------------------- rejected files
#: Why a file was not audited: its kinds, reasons and the words they use (schemas/bestanden.toml).
FILES_FILE = "bestanden.toml"


@dataclass(frozen=True)
class FileReason:
    """One reason a file is not audited: its short kind and its Dutch text with placeholders."""

    key: str
    kind: str  # the short Dutch category the overview and the log show: 'te groot', 'beveiligd', ...
    template: str


@dataclass(frozen=True)
class FileReasons:
    """Every reason the reader (and the audit) gives for not auditing a file."""

    kinds: Mapping[str, str]  # kind -> what it means (Dutch)
    reasons: Mapping[str, FileReason]
    phrases: Mapping[str, str]  # [zin]: sentences a template may name, filled in everywhere
    what: Mapping[str, str]  # [wat]: what a file is ('een pdf-document')
    causes: Mapping[str, str]  # [oorzaak]: why a file could not be opened ('geen leesrechten')

    def text(self, key: str, **values: Any) -> str:
        """The Dutch reason ``key`` with its placeholders filled in."""
        return self.reasons[key].template.format_map({**self.phrases, **values})

    def kind(self, key: str) -> str:
        return self.reasons[key].kind

    def describe(self, what: str, **values: Any) -> str:
        """What a file is, in Dutch ([wat]); ``values`` fill its placeholders."""
        return self.what[what].format_map(values)

    def unreadable(self, key: str, **values: Any) -> UnreadableFile:
        """The exception that refuses a file for reason ``key``."""
        return UnreadableFile(self.text(key, **values), self.kind(key))


def _build_file_reasons(data: dict[str, Any], where: str) -> FileReasons:
    kinds = {}
    for i, raw in enumerate(data.get("soort", []), start=1):
        _require(isinstance(raw, dict) and isinstance(raw.get("key"), str), f"{where}, soort {i}", "key ontbreekt")
        _require(raw["key"] not in kinds, f"{where}, soort {raw['key']}", "deze soort komt twee keer voor")
        kinds[raw["key"]] = str(raw.get("betekenis", ""))
    tables = {}
    for table in ("zin", "wat", "oorzaak"):
        tables[table] = data.get(table, {})
        _require(all(isinstance(v, str) for v in tables[table].values()), f"{where}, [{table}]", "elke waarde moet tekst zijn")
    reasons = {}
    for key, raw in data.get("reden", {}).items():
        here = f"{where}, reden {key}"
        _require(isinstance(raw, dict) and isinstance(raw.get("tekst"), str), here, "tekst ontbreekt")
        _require(raw.get("soort") in kinds, here, f"onbekende soort {raw.get('soort')!r} (bekend: {', '.join(kinds)})")
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(raw["tekst"]) if name}
        except ValueError as exc:
            raise CatalogueError(f"{here}: de tekst is geen geldig sjabloon ({exc})") from None
        _require(all(name.isidentifier() for name in names), here, "gebruik {naam} voor een waarde die wordt ingevuld")
        reasons[key] = FileReason(key, raw["soort"], raw["tekst"])
    return FileReasons(
        kinds=MappingProxyType(kinds),
        reasons=MappingProxyType(reasons),
        phrases=MappingProxyType(dict(tables["zin"])),
        what=MappingProxyType(dict(tables["wat"])),
        causes=MappingProxyType(dict(tables["oorzaak"])),
    )


@lru_cache(maxsize=1)
def load_file_reasons() -> FileReasons:
    """The reasons for not auditing a file, read once from ``schemas/bestanden.toml``."""
    return _build_file_reasons(_read_toml(schemas_dir() / FILES_FILE), FILES_FILE)
