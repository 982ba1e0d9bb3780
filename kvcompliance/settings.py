"""The officer's settings: who sends, about which year, when the conversations are.

``kvcompliance.toml`` in the working folder, or ``--instellingen FILE`` on every command.
Its keys are declared once, in ``schemas/instellingen.toml``: that declaration checks the
file (before any return is read, every error naming the key), writes the commented
example of ``kvcompliance init``, and documents the keys. Without a settings file every
command works as before, with neutral wording ("de gemeente").
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from kvcompliance.errors import KvError
from kvcompliance.mail.addresses import SENDABLE
from kvcompliance.text import quoted

DEFAULT_FILE = "kvcompliance.toml"
SCHEMA_FILE = "instellingen.toml"
MAX_SIZE = 256 * 1024
TYPES = ("tekst", "email", "jaar", "datum", "pad", "brief")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november",
          "december")


class SettingsError(KvError):
    """The settings file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class SettingKey:
    key: str
    type: str
    help: str
    example: Any


@dataclass(frozen=True)
class Placeholder:
    """A ``{name}`` the texts of a section may use; ``only_in``: the keys it may appear in
    (empty: every key of the section)."""

    key: str
    help: str
    only_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettingSection:
    key: str
    help: str
    keys: tuple[SettingKey, ...]
    placeholders: tuple[Placeholder, ...] = ()

    def allowed(self, key: str) -> frozenset[str]:
        """The placeholder names the text of ``key`` may use (none: the key is no template)."""
        return frozenset(p.key for p in self.placeholders if not p.only_in or key in p.only_in)

    def setting(self, key: str) -> SettingKey:
        for spec in self.keys:
            if spec.key == key:
                return spec
        raise KeyError(key)


@lru_cache(maxsize=1)
def settings_schema() -> tuple[SettingSection, ...]:
    """The declared sections and keys (``schemas/instellingen.toml``)."""
    from kvcompliance.catalogue import schemas_dir

    with (schemas_dir() / SCHEMA_FILE).open("rb") as handle:
        data = tomllib.load(handle)
    sections = []
    for raw in data["sectie"]:
        keys = tuple(SettingKey(k["key"], k["type"], k["uitleg"], _strip(k["voorbeeld"])) for k in raw.get("sleutel", []))
        unknown = [k.key for k in keys if k.type not in TYPES]
        if unknown:
            raise KvError(f"{SCHEMA_FILE}: onbekend type bij {', '.join(unknown)}: installeer kvcompliance opnieuw.")
        marks = tuple(Placeholder(p["key"], p["uitleg"], tuple(p.get("alleen_in", ()))) for p in raw.get("plaatshouder", []))
        sections.append(SettingSection(raw["key"], raw["uitleg"], keys, marks))
    return tuple(sections)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def section_schema(key: str) -> SettingSection:
    """The declared section ``key`` (a KeyError for an undeclared one: a programming error)."""
    for section in settings_schema():
        if section.key == key:
            return section
    raise KeyError(key)


def default_text(section: str, key: str) -> str:
    """The declared text of a template key (its example): what holds when the settings omit it."""
    return section_schema(section).setting(key).example


@dataclass(frozen=True)
class Settings:
    """The checked settings. ``values[section][key]`` holds typed values (date, int, str, Path)."""

    path: str | None = None
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.values.get(section, {}).get(key, default)

    def audit_year(self, given: int | None, given_how: str) -> tuple[int | None, str]:
        """The audit year and where it came from: ``given`` (said as ``given_how``), else
        [uitvraag] verslagjaar of these settings, else None (the returns decide)."""
        year = self.get("uitvraag", "verslagjaar")
        if given is None and year is not None:
            return year, f"uit de instellingen ({Path(self.path).name})"
        return given, given_how

    def letterhead(self) -> "Letterhead":
        """What a provider sees about who sends and when (plain and picklable)."""
        get = self.get
        return Letterhead(
            name=get("afzender", "naam", ""),
            department=get("afzender", "afdeling", ""),
            contact=get("afzender", "contactpersoon", ""),
            email=get("afzender", "email", ""),
            phone=get("afzender", "telefoon", ""),
            year=get("uitvraag", "verslagjaar"),
            deadline=get("uitvraag", "uiterlijk"),
            period=get("gesprek", "periode", ""),
            respond_by=get("gesprek", "reageren_voor"),
        )


@dataclass(frozen=True)
class Letterhead:
    """The sender and the dates, as shown to providers. Empty strings / None when unset."""

    name: str = ""
    department: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    year: int | None = None
    deadline: date | None = None
    period: str = ""
    respond_by: date | None = None

    @property
    def sender(self) -> str:
        """'Regio Eemvallei, Inkoop sociaal domein', or 'de gemeente' when unset."""
        parts = [p for p in (self.name, self.department) if p]
        return ", ".join(parts) if parts else "de gemeente"

    @property
    def contact_line(self) -> str:
        """'A. de Vries · inkoop@eemvallei.example · 033 123 45 67' ('' when unset)."""
        return " · ".join(p for p in (self.contact, self.email, self.phone) if p)


def date_in_words(when: date) -> str:
    """'1 maart 2026'."""
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


# ------------------------------------------------------------------ loading and checking
def load_settings(path: Path | None = None, folder: Path | None = None, *, base: Path | None = None) -> Settings:
    """The settings from ``path``, else from ``kvcompliance.toml`` in ``folder`` (the
    working folder), else none. Everything is checked; an error names the key.

    A relative path in the file (``[dossier] pad``) is taken from ``base``, by default the
    folder the file is in. The web app keeps an officer's settings file inside an audit's
    own folder, and passes its work folder: there one dossier serves every year."""
    if path is None:
        candidate = Path(folder or Path.cwd()) / DEFAULT_FILE
        if not candidate.is_file():
            return Settings()
        path = candidate
    from kvcompliance.catalogue.load import read_toml

    path = Path(path)
    data = read_toml(path, MAX_SIZE, SettingsError, "instellingenbestand")
    return Settings(str(path), _check(data, path, Path(base) if base is not None else path.parent))


def _check(data: dict[str, Any], path: Path, base: Path) -> dict[str, dict[str, Any]]:
    schema = {section.key: section for section in settings_schema()}
    values: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        section = schema.get(name)
        if section is None:
            raise SettingsError(f"{path.name}: onbekende sectie [{name}] (bekend: {', '.join('[' + s + ']' for s in schema)}).")
        if not isinstance(table, dict):
            raise SettingsError(f"{path.name}: {name} moet een sectie zijn, geschreven als [{name}].")
        keys = {k.key: k for k in section.keys}
        values[name] = {}
        for key, value in table.items():
            spec = keys.get(key)
            if spec is None:
                raise SettingsError(f"{path.name}: onbekende sleutel {quoted(key)} in [{name}] (bekend: {', '.join(keys)}).")
            values[name][key] = _typed(spec, value, f"{path.name}: [{name}] {key}", base)
            if section.allowed(key):
                check_template(values[name][key], section.allowed(key), f"{path.name}: [{name}] {key}")
    return values


def check_template(text: str, allowed: frozenset[str], where: str) -> None:
    """Refuse a text whose ``{placeholders}`` are not all in ``allowed``, naming the key."""
    from kvcompliance.catalogue import placeholders
    from kvcompliance.errors import CatalogueError

    try:
        placeholders(text)  # refuses stray braces and {naam:opmaak}
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except CatalogueError as exc:
        raise SettingsError(f"{where}: {exc}; schrijf een accolade die als tekst bedoeld is dubbel ({{{{ of }}}}).") from None
    bad = sorted({n for n in names if n not in allowed})
    if bad:
        shown = ", ".join("{" + b + "}" for b in bad)
        known = ", ".join("{" + a + "}" for a in sorted(allowed))
        raise SettingsError(f"{where}: onbekende plaatshouder {shown}. Hier kunnen: {known}.")


def _typed(spec: SettingKey, value: Any, where: str, base: Path) -> Any:
    if spec.type == "jaar":
        if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2100:
            raise SettingsError(f"{where} moet een jaartal zijn, bijvoorbeeld {spec.example}; nu: {quoted(value)}.")
        return value
    if spec.type == "datum":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            from kvcompliance.values import NotUnderstood, parse_date

            try:
                parsed = parse_date(value)
            except NotUnderstood:
                parsed = None
            if parsed is not None:
                return parsed
        raise SettingsError(f"{where} moet een datum zijn, bijvoorbeeld {spec.example}; nu: {quoted(value)}.")
    if not isinstance(value, str):
        raise SettingsError(f"{where} moet tekst zijn (tussen aanhalingstekens); nu: {quoted(value)}.")
    if spec.type != "brief" and (_CONTROL.search(value) or "\n" in value or len(value) > 200):
        raise SettingsError(f"{where} moet één korte regel tekst zijn (hoogstens 200 tekens).")
    if spec.type == "brief" and (_CONTROL.search(value.replace("\n", "").replace("\t", "")) or len(value) > 20_000):
        raise SettingsError(f"{where} bevat tekens die niet in een brief horen, of is te lang.")
    if spec.type == "email" and not SENDABLE.match(value):
        raise SettingsError(f"{where} is geen geldig e-mailadres: {quoted(value)}.")
    if spec.type == "pad":
        return (base / value).resolve() if not Path(value).is_absolute() else Path(value)
    return value.strip()


def example_text() -> str:
    """The commented example settings file that ``kvcompliance init`` writes."""
    lines = [
        "# Instellingen van kvcompliance: wie verstuurt, over welk jaar, wanneer het gesprek is.",
        "# Dit bestand heet kvcompliance.toml en staat in de map waarin u kvcompliance draait;",
        "# een ander bestand geeft u mee met --instellingen BESTAND. Pas de waarden aan; regels",
        "# die met # beginnen zijn uitleg. Een sleutel die u weglaat, wordt niet getoond.",
    ]
    for section in settings_schema():
        lines += ["", f"# {section.help}"]
        if section.placeholders:
            lines.append("# Plaatshouders:")
            for mark in section.placeholders:
                where = f" (alleen in {', '.join(mark.only_in)})" if mark.only_in else ""
                lines.append(f"#   {{{mark.key}}}: {mark.help}{where}")
        lines.append(f"[{section.key}]")
        for key in section.keys:
            value = _toml_value(key.example)
            if "\n" in value:
                lines += [f"# {key.help}", f"{key.key} = {value}"]
            else:
                lines.append(f"{key.key} = {value}".ljust(43) + f" # {key.help}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        if "\n" in value:
            return '"""\n' + value.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, int, float)):
        return value.isoformat() if isinstance(value, date) else str(value)
    raise TypeError(value)
