"""The contract register (``--contracten``): which providers should have sent a return.

Columns: contractnummer, aanbieder_naam, kvk_nummer, sector, contact_email and optionally
verwacht_aantal_signalen (the expectation agreed beforehand, used by KV10), relatie
(contract or subsidie: how the texts name the condition) and meldcodeplicht (wettelijk or
contractueel: overrides what the sector says, e.g. for welzijn work that is no Wmo
voorziening; DOMAIN §5.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kvcompliance.catalogue import Catalogue
from kvcompliance.errors import RegisterError, UnreadableFile, os_reason
from kvcompliance.normalise import sector_lookup
from kvcompliance.tabular import read_rows
from kvcompliance.text import after_colon, quoted, squash
from kvcompliance.values import NotUnderstood, parse_amount, parse_code, parse_text, plural

COLUMNS = ("contractnummer", "aanbieder_naam", "kvk_nummer", "sector", "contact_email")
OPTIONAL_COLUMNS = ("verwacht_aantal_signalen", "relatie", "meldcodeplicht")
RELATIONS = ("contract", "subsidie")
DUTIES = ("wettelijk", "contractueel")
#: Largest register read: a register of 10,000 contracts is about 1 MB.
REGISTER_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Contract:
    row: int  # 1-based row number in the register file (header = 1)
    contractnummer: str
    aanbieder_naam: str
    kvk_nummer: str
    sector: str
    contact_email: str
    expected_signals: float | None = None
    relation: str | None = None  # 'contract' or 'subsidie'
    duty: str | None = None  # 'wettelijk' or 'contractueel': overrides the sector

    @property
    def key(self) -> str:
        return contract_key(self.contractnummer)


def contract_key(number: Any) -> str:
    """Contract numbers match regardless of case, and of spaces, dashes and underscores
    used as separators ('jh 2025 001' = 'JH-2025-001'); dots and slashes still count."""
    return re.sub(r"[\s\-_]+", "-", str(number).strip()).strip("-").upper()


@dataclass
class Register:
    path: str
    contracts: list[Contract]

    def by_key(self) -> dict[str, Contract]:
        return {c.key: c for c in self.contracts}


#: How a return relates to the register, as the overview shows it.
IN_REGISTER = "in register"
NOT_IN_REGISTER = "niet in register"
KVK_DIFFERS = "KvK wijkt af"


@dataclass
class RegisterMatch:
    """How the audited returns relate to the register."""

    matched: dict[str, Contract] = field(default_factory=dict)  # return id -> contract
    unmatched: list[str] = field(default_factory=list)  # return ids with no contract
    kvk_differs: set[str] = field(default_factory=set)  # matched, but another KvK-nummer
    missing: list[Contract] = field(default_factory=list)  # contracts without a return

    def expectations(self) -> dict[str, float]:
        return {rid: c.expected_signals for rid, c in self.matched.items() if c.expected_signals is not None}

    def relations(self) -> dict[str, str]:
        return {rid: c.relation for rid, c in self.matched.items() if c.relation is not None}

    def duties(self) -> dict[str, str]:
        return {rid: c.duty for rid, c in self.matched.items() if c.duty is not None}

    def state(self, return_id: str) -> str:
        """:data:`IN_REGISTER`, :data:`NOT_IN_REGISTER` or :data:`KVK_DIFFERS` for one return."""
        if return_id not in self.matched:
            return NOT_IN_REGISTER
        return KVK_DIFFERS if return_id in self.kvk_differs else IN_REGISTER


def _header_index(header: list[Any], path: Path) -> dict[str, int]:
    names = {squash(str(h)) if h is not None else "": i for i, h in reversed(list(enumerate(header)))}
    index = {}
    for column in COLUMNS + OPTIONAL_COLUMNS:
        position = names.get(squash(column))
        if position is None and column in COLUMNS:
            raise RegisterError(
                f"Het contractregister {path.name} mist de kolom {quoted(column)}. Nodig zijn: {', '.join(COLUMNS)}"
                f" (en eventueel {', '.join(OPTIONAL_COLUMNS)})."
            )
        if position is not None:
            index[column] = position
    return index


def load_register(path: Path, catalogue: Catalogue) -> Register:
    """Read and check the register; any bad row is refused with its row number."""
    path = Path(path)
    if not path.is_file():
        if path.exists():
            raise RegisterError(f"Het contractregister {path} is geen gewoon bestand (maar bijvoorbeeld een map, een pipe "
                                "of een apparaat); geef het bestand met het register op.")
        raise RegisterError(f"Het contractregister {path} bestaat niet.")
    try:
        size = path.stat().st_size
        if size > REGISTER_MAX_BYTES:
            raise RegisterError(
                f"Het contractregister {path.name} is te groot ({size // 2**20} MB; de grens is "
                f"{REGISTER_MAX_BYTES // 2**20} MB). Is dit het goede bestand?"
            )
        rows = _read_rows_bounded(path)
    except UnreadableFile as exc:
        raise RegisterError(f"Het contractregister {path.name} kan niet worden gelezen: {after_colon(exc.reason, catalogue.proper_names)}") from None
    except OSError as exc:
        raise RegisterError(f"Het contractregister {path.name} kan niet worden gelezen: {os_reason(exc, reading=True)}.") from None
    rows = [r for r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise RegisterError(f"Het contractregister {path.name} is leeg.")
    index = _header_index(rows[0], path)
    sectors = sector_lookup(catalogue)
    contracts: list[Contract] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        def cell(column: str) -> Any:
            i = index.get(column)
            return row[i] if i is not None and i < len(row) else None

        try:
            contract = _contract(number, cell, sectors)
        except NotUnderstood as exc:
            problems.append(f"rij {number}: {exc.reason}")
            continue
        if contract.key in seen:
            problems.append(f"rij {number}: contractnummer {contract.contractnummer} staat ook op rij {seen[contract.key]}")
            continue
        seen[contract.key] = number
        contracts.append(contract)
    if problems:
        rest = len(problems) - 10
        shown = "; ".join(problems[:10]) + (f"; en nog {plural(rest, 'fout', 'fouten')}" if rest > 0 else "")
        raise RegisterError(f"Het contractregister {path.name} bevat fouten: {shown}.")
    return Register(str(path), contracts)


def _read_rows_bounded(path: Path) -> list[list[Any]]:
    """The register's rows. A workbook is read in a separate process with a memory limit:
    calamine reserves room for a sheet's whole extent, so one cell in XFD1048576 would
    make it ask for half a terabyte and abort this process (a CSV is size-capped instead)."""
    if path.suffix.lower() in (".csv", ".txt"):
        return read_rows(path)
    from contextlib import closing

    from kvcompliance.parallel import ordered_map

    with closing(ordered_map(_rows_in_reader, [str(path)], 1, isolate=True, on_crash=_reader_died)) as results:
        kind, value = next(iter(results))
    if kind == "fout":
        raise UnreadableFile(value)
    if kind == "te_groot":
        raise RegisterError(
            f"Het contractregister {path.name} is te groot om te lezen: het vraagt meer werkgeheugen dan een "
            "contractregister ooit nodig heeft (vaak staat er iets in een cel ver buiten de tabel). "
            "Sla het register op als CSV of verwijder wat buiten de tabel staat."
        )
    return value


def _rows_in_reader(path: str) -> tuple[str, Any]:
    """In the reader process: limit its memory, keep calamine's crash report off the
    officer's terminal, and read the rows (an unreadable file as its Dutch reason)."""
    import os

    from kvcompliance.ingest.worker import limit_memory

    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    limit_memory()
    try:
        return "rijen", read_rows(Path(path))
    except UnreadableFile as exc:
        return "fout", exc.reason
    except MemoryError:
        return "te_groot", None


def _reader_died(path: str) -> tuple[str, Any]:
    return "te_groot", None


def _contract(number: int, cell, sectors: dict[str, str]) -> Contract:
    contractnummer = parse_text(cell("contractnummer"))
    if not contractnummer:
        raise NotUnderstood("contractnummer ontbreekt")
    name = parse_text(cell("aanbieder_naam"))
    if not name:
        raise NotUnderstood("aanbieder_naam ontbreekt")
    kvk = parse_code(cell("kvk_nummer"), 8) or ""
    if not re.fullmatch(r"\d{8}", kvk):
        raise NotUnderstood(f"kvk_nummer {quoted(cell('kvk_nummer') or '')} is geen 8 cijfers")
    sector_text = parse_text(cell("sector")) or ""
    sector = sectors.get(squash(sector_text))
    if sector is None:
        raise NotUnderstood(f"onbekende sector {quoted(sector_text)}")
    email = parse_text(cell("contact_email")) or ""
    expected_raw = cell("verwacht_aantal_signalen")
    try:
        expected = parse_amount(expected_raw)
    except NotUnderstood as exc:
        raise NotUnderstood(f"verwacht_aantal_signalen: {exc.reason}") from None
    relation = _choice(cell("relatie"), RELATIONS, "relatie")
    duty = _choice(cell("meldcodeplicht"), DUTIES, "meldcodeplicht")
    return Contract(number, contractnummer, name, kvk, sector, email, expected, relation, duty)


def _choice(value: Any, allowed: tuple[str, ...], column: str) -> str | None:
    text = parse_text(value)
    if text is None:
        return None
    word = text.strip().lower()
    if word not in allowed:
        raise NotUnderstood(f"{column} {quoted(text)} is niet {' of '.join(allowed)}")
    return word


def match_returns(register: Register, frame) -> RegisterMatch:
    """Match returns (the normalised frame) to contracts by contractnummer."""
    import pandas as pd

    contracts = register.by_key()
    result = RegisterMatch()
    used: set[str] = set()
    for rid, number, kvk in zip(frame.index, frame["contractnummer"], frame["kvk_nummer"]):
        contract = None if pd.isna(number) else contracts.get(contract_key(number))
        if contract is None:
            result.unmatched.append(rid)
            continue
        result.matched[rid] = contract
        used.add(contract.key)
        if pd.isna(kvk) or str(kvk) != contract.kvk_nummer:
            result.kvk_differs.add(rid)
    result.missing = [c for c in register.contracts if c.key not in used]
    return result
