"""Loading the catalogue from ``schemas/`` (and a region's own rules file) and checking it
completely before anything else runs: every error names the file and the place.
"""

from __future__ import annotations

import copy
import math
import re
import stat
import string
import tomllib
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kvcompliance.catalogue.model import (
    BASIS_KINDS,
    FIELD_FORMAT,
    FIELD_TYPES,
    LEVEL_STATUSES,
    METRIC_FORMATS,
    OPERATORS,
    PARAM_FORMATS,
    Basis,
    Catalogue,
    Field,
    KeyFigure,
    Level,
    Metric,
    ParamSpec,
    Rule,
    Section,
    Sector,
    Status,
    StatusInfo,
)
from kvcompliance.catalogue.overrides import PLACE, apply_overrides, escalation_ladder
from kvcompliance.errors import CatalogueError, KvError
from kvcompliance.text import quoted

FIELDS_FILE = "velden.toml"
RULES_FILE = "regels.toml"
#: An own rules file larger than this is no rules file (it is read whole, before any return).
MAX_RULES_FILE = 1024 * 1024
#: Deepest nesting of tables and lists in a rules file (the catalogue itself needs 6).
MAX_DEPTH = 8
#: Placeholders every text may use, besides fields, metrics and parameters.
GLOBAL_PLACEHOLDERS = frozenset({"auditjaar", "einde_verslagjaar", "plicht", "voorwaarde", "geldt_voor", "afwijkend"})
#: Placeholders the global texts ([teksten]) use.
TEXT_PLACEHOLDERS = frozenset(
    {"ontbrekend", "veld", "getypt", "reden", "vastgesteld", "velden", "prevalentie", "jeugdigen", "sectorfactor", "sector"}
)


def schemas_dir() -> Path:
    """The folder holding the catalogue: packaged copy first, then the source tree."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / FIELDS_FILE).is_file():
            return candidate
    raise CatalogueError("De catalogus (schemas/velden.toml) is niet gevonden: installeer kvcompliance opnieuw.")


# --------------------------------------------------------------------------- reading
def read_toml(
    path: Path, limit: int | None = None, error: type[KvError] = CatalogueError, what: str = "regelbestand"
) -> dict[str, Any]:
    """A TOML file of the project (a rules or settings file): size-capped, nesting bounded,
    every problem an ``error`` with a Dutch message naming the file."""
    try:
        # A pipe or device is never opened (a pipe blocks; /dev/zero never ends), and at
        # most ``limit`` bytes are read: a size on disk can lie, what is read cannot.
        if not stat.S_ISREG(path.stat().st_mode):
            raise error(f"{path.name} is geen gewoon bestand (maar bijvoorbeeld een pipe of een apparaat); geef een {what} op.")
        with path.open("rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise error(f"{path.name} is te groot voor een {what} (meer dan {limit // 1024} kB).")
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise error(f"Het bestand {path} bestaat niet.") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path.name} is geen geldig TOML-bestand: {_dutch_toml_error(exc)}") from None
    except RecursionError:
        raise error(f"{path.name} is te diep genest om een {what} te zijn.") from None
    except UnicodeDecodeError:
        raise error(f"{path.name} is geen tekstbestand in UTF-8.") from None
    except OSError as exc:
        from kvcompliance.errors import os_reason

        raise error(f"{path.name} kan niet worden gelezen: {os_reason(exc, reading=True)}.") from None
    if _depth(data) > MAX_DEPTH:
        raise error(f"{path.name}: de tabellen zijn dieper genest dan {MAX_DEPTH} niveaus")
    return data


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


#: The TOML reader's (English) messages, by how they begin, in Dutch for the officer.
TOML_FAULTS = (
    ("Invalid initial character for a key part", "hier hoort een naam (sleutel) te beginnen"),
    ("Invalid value", "na = ontbreekt een geldige waarde (tekst tussen aanhalingstekens, een getal, true of false)"),
    ("Invalid statement", "deze regel is geen naam = waarde en geen [kop]"),
    ("Cannot overwrite a value", "een sleutel staat twee keer in het bestand"),
    ("Cannot declare", "een kop staat twee keer in het bestand"),
    ("Cannot mutate", "een kop staat twee keer in het bestand"),
    ("Expected ']'", "de ] aan het eind van de kop ontbreekt"),
    ("Expected '='", "na een naam hoort een ="),
    ("Expected newline or end of document", "na een waarde hoort een nieuwe regel te beginnen"),
    ("Illegal character '\\n'", "een tekst tussen aanhalingstekens is niet afgesloten"),
    ("Illegal character", "hier staat een teken dat in een TOML-bestand niet mag"),
    ("Unterminated string", "een tekst tussen aanhalingstekens is niet afgesloten"),
    ('Expected "\'"', "een tekst tussen aanhalingstekens is niet afgesloten"),
    ("Expected '\"'", "een tekst tussen aanhalingstekens is niet afgesloten"),
    ("Unclosed array", "een lijst [ ... ] is niet afgesloten"),
    ("Unclosed inline table", "een { ... } is niet afgesloten"),
    ("Unescaped '\\'", "een \\ in een tekst: schrijf \\\\ of zet de tekst tussen enkele aanhalingstekens"),
)


def _dutch_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """Where and what, in Dutch only: the reader's English stays out of what the officer reads."""
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if match:
        where = f"regel {match.group(1)}, kolom {match.group(2)}"
    else:
        where = "het eind van het bestand" if "(at end of document)" in text else "een onbekende plaats"
    what = next((dutch for start, dutch in TOML_FAULTS if text.startswith(start)), "de opbouw klopt hier niet")
    return f"fout op {where}: {what}"


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise CatalogueError(f"{where}: {message}")


def _text(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    _require(isinstance(value, str), where, f"{key} ontbreekt of is geen tekst")
    return value


# --------------------------------------------------------------------------- fields
def _build_fields(data: dict[str, Any], where: str) -> tuple[tuple[Section, ...], tuple[Field, ...], tuple[Sector, ...]]:
    sections = tuple(Section(s["key"], s["titel"]) for s in data.get("sectie", []))
    section_keys = {s.key for s in sections}
    sectors = tuple(
        Sector(s["key"], s["label"], s.get("grondslag", ""), tuple(s.get("aliassen", ())), s.get("toezichthouder", ""),
               s.get("in_zin", ""))
        for s in data.get("sector", [])
    )
    fields = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("veld", []), start=1):
        here = f"{where}, veld {i} ({raw.get('key', '?')})"
        _require(raw.get("key") not in seen, here, "deze sleutel komt twee keer voor")
        _require(raw.get("type") in FIELD_TYPES, here, f"onbekend type {quoted(raw.get('type'))}")
        _require(raw.get("sectie") in section_keys, here, f"onbekende sectie {quoted(raw.get('sectie'))}")
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
                short=raw.get("kort", ""),
            )
        )
    return sections, tuple(fields), sectors


# --------------------------------------------------------------------------- rules
def _build_bases(raw: dict[str, Any]) -> dict[str, Basis]:
    bases = {}
    for key, spec in raw.items():
        here = f"{RULES_FILE}, grondslag {key}"
        _require(isinstance(spec, dict) and spec.get("soort") in BASIS_KINDS, here, f"soort moet een van {', '.join(BASIS_KINDS)} zijn")
        if spec["soort"] == "wet":
            _text(spec, "wet", here)
        if spec["soort"] == "handreiking":
            _text(spec, "passage", here)
        bases[key] = Basis(key, spec["soort"], spec.get("wet", ""), spec.get("passage", ""), spec.get("kort", ""))
    return bases


def _build_params(raw: dict[str, Any]) -> dict[str, ParamSpec]:
    specs = {}
    for key, spec in raw.items():
        here = f"{RULES_FILE}, parameter {key}"
        _require(isinstance(spec, dict) and isinstance(spec.get("label"), str), here, "label ontbreekt")
        _require(spec.get("opmaak") in PARAM_FORMATS, here, f"opmaak moet een van {', '.join(PARAM_FORMATS)} zijn")
        specs[key] = ParamSpec(key, spec["label"], spec["opmaak"])
    return specs


def _check_number(value: Any, where: str, *, fraction: bool = False) -> None:
    _require(isinstance(value, (int, float)) and not isinstance(value, bool), where, f"moet een getal zijn, niet {quoted(value)}")
    _require(math.isfinite(value), where, f"moet een eindig getal zijn, niet {quoted(value)}")
    _require(value >= 0, where, f"mag niet negatief zijn ({value})")
    if fraction:
        _require(value <= 1, where, f"moet tussen 0 en 1 liggen (een deel of kans), niet {value}")
    else:
        _require(value <= 1_000_000, where, f"is onwaarschijnlijk groot ({value})")


def check_param(key: str, spec: ParamSpec | None, value: Any, sector_keys: set[str], where: str) -> None:
    """A parameter value as its spec says: numbers finite and in range, lists of sectors known."""
    _require(spec is not None, where, f"parameter {quoted(key)} heeft geen label en opmaak in [parameters]")
    if isinstance(value, dict):
        for sub, subvalue in value.items():
            check_param(key, spec, subvalue, sector_keys, f"{where}.{sub}")
        return
    if spec.format == "janee":
        _require(isinstance(value, bool), where, f"moet true of false zijn, niet {quoted(value)}")
    elif spec.format == "sectoren":
        _require(isinstance(value, list), where, "moet een lijst met sectoren zijn")
        bad = [s for s in value if s not in sector_keys]
        _require(not bad, where, f"onbekende sector {', '.join(map(str, bad))}")
    else:
        _check_number(value, where, fraction=spec.format == "procent")


def _check_level_value(op: str, value: Any, kind: str, column: str, column_type: str, sector_keys: set[str], where: str) -> None:
    numeric = ("getal", "geheel", "procent", "kans", "jaar")
    if op in ("kleiner_dan", "groter_dan"):
        _require(kind in numeric, where, f"{column} is geen getal; gebruik gelijk_aan of in")
        _require(isinstance(value, (int, float)) and not isinstance(value, bool), where, f"moet een getal zijn, niet {quoted(value)}")
        _require(math.isfinite(value), where, f"moet een eindig getal zijn, niet {quoted(value)}")
        _check_level_range(value, kind, where)
    elif op in ("gelijk_aan", "niet_gelijk_aan"):
        if kind == "janee":
            _require(isinstance(value, bool), where, f"moet true of false zijn, niet {quoted(value)}")
        elif kind in numeric:
            _require(isinstance(value, (int, float)) and not isinstance(value, bool), where, f"moet een getal zijn, niet {quoted(value)}")
            _require(math.isfinite(value), where, f"moet een eindig getal zijn, niet {quoted(value)}")
            _check_level_range(value, kind, where)
        else:
            _require(isinstance(value, str), where, f"moet tekst zijn, niet {quoted(value)}")
    elif op == "in":
        _require(isinstance(value, list) and value, where, "moet een lijst met waarden zijn")
        if column_type == "sector":
            bad = [v for v in value if v not in sector_keys]
            _require(not bad, where, f"onbekende sector {', '.join(map(str, bad))}")
        if column_type == "janeenvt":
            bad = [v for v in value if v not in ("ja", "nee", "n.v.t.")]
            _require(not bad, where, f"toegestaan zijn ja, nee en n.v.t., niet {', '.join(map(str, bad))}")
    elif op == "niet_patroon":
        _require(isinstance(value, str), where, "moet een reguliere expressie (tekst) zijn")
        try:
            re.compile(value)
        except re.error as exc:
            raise CatalogueError(f"{where}: geen geldige reguliere expressie ({exc})") from None


def _check_level_range(value: float, kind: str, where: str) -> None:
    """A norm's limit in the range its column can have: a share or chance between 0 and 1,
    any other number within a million (a limit of 1e308 would make every return red)."""
    if kind in ("procent", "kans"):
        _require(0 <= value <= 1, where, f"moet tussen 0 en 1 liggen (een deel of kans), niet {value}")
    else:
        _require(abs(value) <= 1_000_000, where, f"is onwaarschijnlijk groot ({value})")


LEVEL_KEYS = {"status", "kolom", "als", "bevinding", "vraag"} | set(OPERATORS)


def build_level(raw: Any, where: str, columns: dict[str, str], column_types: dict[str, str], sector_keys: set[str]) -> Level:
    _require(isinstance(raw, dict), where, "een norm moet een tabel zijn")
    unknown = set(raw) - LEVEL_KEYS
    _require(not unknown, where, f"onbekende sleutel {', '.join(sorted(unknown))} (voorwaarden: {', '.join(OPERATORS)})")
    _require(raw.get("status") in {s.value for s in LEVEL_STATUSES}, where, f"status moet rood, oranje of grijs zijn, niet {quoted(raw.get('status'))}")
    column = raw.get("kolom")
    _require(column in columns, where, f"onbekende kolom {quoted(column)} (bekend: {', '.join(sorted(columns))})")
    ops = [op for op in OPERATORS if op in raw]
    _require(len(ops) == 1, where, f"geef precies één voorwaarde ({', '.join(OPERATORS)})")
    op = ops[0]
    value = raw[op]
    _check_level_value(op, value, columns[column], column, column_types.get(column, ""), sector_keys, f"{where}, {op}")
    for key in ("als", "bevinding", "vraag"):
        _require(isinstance(raw.get(key, ""), str), where, f"{key} moet tekst zijn")
    return Level(
        Status(raw["status"]),
        column,
        op,
        tuple(value) if isinstance(value, list) else value,
        when=raw.get("als", ""),
        finding=raw.get("bevinding", ""),
        question=raw.get("vraag", ""),
    )


TEXT_KEYS = {"groen", "oranje", "rood", "grijs", "nvt"}


def build_rule(
    raw: dict[str, Any], catalogue_parts: dict[str, Any], where: str
) -> Rule:
    fields: dict[str, Field] = catalogue_parts["fields"]
    sector_keys: set[str] = catalogue_parts["sector_keys"]
    bases: dict[str, Basis] = catalogue_parts["bases"]
    params_spec: dict[str, ParamSpec] = catalogue_parts["params"]
    rule_id = raw.get("id", "?")
    here = f"{where}, regel {rule_id}"
    for key in ("titel", "waarde", "grondslag"):
        _text(raw, key, here)
    _require(raw["grondslag"] in bases, here, f"onbekende grondslag {quoted(raw['grondslag'])} (bekend: {', '.join(sorted(bases))})")
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
    _require(isinstance(active, bool), here, f"actief moet true of false zijn, niet {quoted(active)}")
    params = raw.get("parameters", {})
    _require(isinstance(params, dict), here, "parameters moet een tabel zijn")
    for key, value in params.items():
        check_param(key, params_spec.get(key), value, sector_keys, f"{here}, parameters.{key}")
    metrics = []
    for key, spec in raw.get("metrieken", {}).items():
        mwhere = f"{here}, metriek {key}"
        _require(isinstance(spec, dict) and "label" in spec, mwhere, "label ontbreekt")
        _require(spec.get("opmaak", "getal") in METRIC_FORMATS, mwhere, f"onbekende opmaak {quoted(spec.get('opmaak'))}")
        metric_inputs = spec.get("velden", [])
        _require(all(k in fields for k in metric_inputs), mwhere, "onbekend veld in velden")
        metrics.append(Metric(key, spec["label"], spec.get("opmaak", "getal"), tuple(metric_inputs)))
    columns = {k: FIELD_FORMAT.get(f.type, "tekst") for k, f in fields.items()}
    columns.update({m.key: m.format for m in metrics})
    column_types = {k: f.type for k, f in fields.items()}
    norm = raw.get("norm", [])
    _require(isinstance(norm, list), here, "norm moet een lijst niveaus zijn ([[regel.norm]])")
    levels = tuple(
        build_level({k: v for k, v in lvl.items() if k != PLACE} if isinstance(lvl, dict) else lvl,
                    f"{here}, {lvl.get(PLACE, f'norm {i}') if isinstance(lvl, dict) else f'norm {i}'}",
                    columns, column_types, sector_keys)
        for i, lvl in enumerate(norm, start=1)
    )
    for kind in ("tekst", "agenda"):
        table = raw.get(kind, {})
        _require(isinstance(table, dict), here, f"{kind} moet een tabel zijn")
        unknown = set(table) - TEXT_KEYS
        _require(not unknown, here, f"{kind}: onbekende status {', '.join(sorted(unknown))}")
        _require(all(isinstance(v, str) for v in table.values()), here, f"{kind}: elke tekst moet tekst zijn")
    adopted = raw.get("vastgesteld", "")
    _require(isinstance(adopted, str), here, "vastgesteld moet tekst zijn (wie, welk besluit, wanneer)")
    supervised = raw.get("toezicht", False)
    _require(isinstance(supervised, bool), here, "toezicht moet true of false zijn")
    check_texts = raw.get("controleteksten", [])
    _require(isinstance(check_texts, list) and all(isinstance(t, str) for t in check_texts), here, "controleteksten moet een lijst namen zijn")
    rule = Rule(
        id=rule_id,
        title=raw["titel"],
        basis=bases[raw["grondslag"]],
        article=_text(raw, "artikel", here, ""),
        explanation=_text(raw, "toelichting", here, ""),
        inputs=tuple(inputs),
        sectors=tuple(sectors) if sectors is not None else None,
        active=active,
        params=MappingProxyType(copy.deepcopy(params)),
        metrics=tuple(metrics),
        levels=levels,
        value_template=raw["waarde"],
        texts=MappingProxyType(dict(raw.get("tekst", {}))),
        agenda=MappingProxyType(dict(raw.get("agenda", {}))),
        check_texts=tuple(check_texts),
        adopted=adopted,
        supervised=supervised,
    )
    _check_placeholders(rule, set(fields), here)
    return rule


def placeholders(template: str) -> list[str]:
    """The placeholder names in ``template`` (for ``{key|one|many}``: the key)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise CatalogueError(
            f"ongeldige accolades in {quoted(template[:60])}: elke {{ hoort bij een }} rond een naam; schrijf {{{{ of }}}} voor een losse accolade"
        ) from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion:
            raise CatalogueError(f"in {quoted(template[:60])}: gebruik {{naam}} zonder opmaak (geen ‘:’ of ‘!’)")
        names.append(name.split("|", 1)[0])
    return names


def _check_placeholders(rule: Rule, field_keys: set[str], where: str) -> None:
    known = field_keys | GLOBAL_PLACEHOLDERS | {m.key for m in rule.metrics} | set(rule.params) | set(rule.check_texts)
    templates = [("waarde", rule.value_template)]
    templates += [(f"tekst.{k}", v) for k, v in rule.texts.items()] + [(f"agenda.{k}", v) for k, v in rule.agenda.items()]
    for n, level in enumerate(rule.levels, start=1):
        templates += [(f"norm {n}, als", level.when), (f"norm {n}, bevinding", level.finding), (f"norm {n}, vraag", level.question)]
    for name, template in templates:
        try:
            names = placeholders(template)
        except CatalogueError as exc:
            raise CatalogueError(f"{where}, {name}: {exc}") from None
        allowed = known | ({"waarde"} if name.startswith("norm") else set())
        bad = sorted({n for n in names if n not in allowed or not n.isidentifier()})
        _require(not bad, f"{where}, {name}", f"onbekende plaatshouder {', '.join('{' + b + '}' for b in bad)}")


def _build_key_figures(raw: list[dict[str, Any]], rules: dict[str, Rule]) -> tuple[KeyFigure, ...]:
    figures = []
    for n, entry in enumerate(raw, start=1):
        here = f"{RULES_FILE}, kengetal {n} ({entry.get('key', '?')})"
        for key in ("key", "label", "regel", "metriek", "uitleg"):
            _text(entry, key, here)
        rule = rules.get(entry["regel"])
        _require(rule is not None, here, f"onbekende regel {quoted(entry['regel'])}")
        _require(rule.metric(entry["metriek"]) is not None, here, f"regel {rule.id} heeft geen metriek {quoted(entry['metriek'])}")
        figures.append(KeyFigure(entry["key"], entry["label"], entry["regel"], entry["metriek"], entry["uitleg"]))
    return tuple(figures)


# --------------------------------------------------------------------------- the catalogue
def load_catalogue(rules_file: str | None = None) -> Catalogue:
    """Load fields and rules; ``rules_file`` (a user's ``--regels``) adapts the defaults.

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
    field_data = read_toml(base / FIELDS_FILE)
    rule_data = read_toml(base / RULES_FILE)
    sections, fields, sectors = _build_fields(field_data, FIELDS_FILE)
    field_index = {f.key: f for f in fields}
    parts = {
        "fields": field_index,
        "sector_keys": {s.key for s in sectors},
        "bases": _build_bases(rule_data.get("grondslagen", {})),
        "params": _build_params(rule_data.get("parameters", {})),
    }
    raw_rules = list(rule_data.get("regel", []))
    where, warnings = RULES_FILE, []
    ladder = escalation_ladder(rule_data.get("escalatie"), RULES_FILE)
    if rules_file is not None:
        path = Path(rules_file)
        where = path.name
        own = read_toml(path, MAX_RULES_FILE)
        raw_rules, warnings = apply_overrides(copy.deepcopy(raw_rules), own, where)
        if "escalatie" in own:
            ladder = escalation_ladder(own["escalatie"], where)
    ids = [r.get("id") for r in raw_rules]
    _require(len(ids) == len(set(ids)), RULES_FILE, "een regel-id komt twee keer voor")
    rules = tuple(build_rule(r, parts, where) for r in raw_rules)
    statuses = tuple(
        StatusInfo(Status(s["key"]), s["label"], s["betekenis"], s["kleur"], s["licht"]) for s in rule_data.get("status", [])
    )
    _require({s.status for s in statuses} == set(Status), RULES_FILE, "elke status moet precies één keer beschreven zijn")
    texts = dict(rule_data.get("teksten", {}))
    for key, template in texts.items():
        bad = [n for n in placeholders(template) if n not in TEXT_PLACEHOLDERS]
        _require(not bad, f"{RULES_FILE}, teksten.{key}", f"onbekende plaatshouder {', '.join(bad)}")
    contradictions = dict(rule_data.get("tegenstrijdigheden", {}))
    for key, template in contradictions.items():
        bad = [n for n in placeholders(template) if n not in field_index]
        _require(not bad, f"{RULES_FILE}, tegenstrijdigheden.{key}", f"onbekende plaatshouder {', '.join(bad)}")
    names = field_data.get("eigennamen", [])
    _require(isinstance(names, list) and all(isinstance(n, str) and n.strip() for n in names), FIELDS_FILE,
             "eigennamen moet een lijst met namen zijn, bijvoorbeeld [\"Veilig Thuis\"]")
    return Catalogue(
        form_version=str(field_data["formulierversie"]),
        names=tuple(names),
        sections=sections,
        fields=fields,
        sectors=sectors,
        statuses=statuses,
        bases=MappingProxyType(parts["bases"]),
        texts=MappingProxyType(texts),
        rules=rules,
        params=MappingProxyType(parts["params"]),
        contradictions=MappingProxyType(contradictions),
        key_figures=_build_key_figures(rule_data.get("kengetal", []), {r.id: r for r in rules}),
        escalation=ladder,
        rules_file=str(rules_file) if rules_file else None,
        warnings=tuple(warnings),
        _field_index=MappingProxyType(field_index),
    )
