"""Year-on-year follow-up (``--vorige``): compare with a previous audit's output folder.

The previous audit is read from its ``bevindingen.csv`` (one row per return × rule), and
returns are matched by KvK-nummer + contractnummer. Only groen, oranje and rood are
compared: grijs means "unknown" and n.v.t. "does not apply", so those are not a trend.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.errors import KvError, os_reason
from kvcompliance.outputs import FINDINGS_FILE, is_output_folder, settled_output
from kvcompliance.register import contract_key
from kvcompliance.tabular import allow_long_fields, open_csv_text

COMPARABLE = (Status.GROEN, Status.ORANJE, Status.ROOD)

IMPROVED = "verbeterd"
WORSENED = "verslechterd"
SAME = "gelijk"
NOT_COMPARABLE = "niet te vergelijken"
NEW = "nieuw"

#: Who holds a previous audit's output folder while it is read, in the words of the message
#: an audit that wants to write there meanwhile gets.
PREVIOUS_READER = "een controle die deze map als vorige controle (--vorige) leest"
#: Largest previous findings file read (10,000 returns with long answers stay far below).
FINDINGS_MAX_BYTES = 512 * 1024 * 1024


@dataclass
class PreviousReturn:
    statuses: dict[str, Status] = field(default_factory=dict)

    @property
    def overall(self) -> Status:
        worst = max((s for s in self.statuses.values() if s != Status.NVT), key=lambda s: s.severity, default=Status.GROEN)
        return worst


@dataclass
class Trend:
    previous_overall: Status | None
    overall: str  # one of IMPROVED, WORSENED, SAME, NOT_COMPARABLE, NEW
    rules: dict[str, tuple[Status | None, str]] = field(default_factory=dict)  # rule id -> (previous, trend)


def _key(kvk: str, contract: str) -> tuple[str, str]:
    return (str(kvk).lstrip("'").strip(), contract_key(str(contract).lstrip("'")))


def load_previous(folder: Path, catalogue: Catalogue, own_output: Path | None = None) -> dict[tuple[str, str], PreviousReturn]:
    """Statuses per (KvK-nummer, contractnummer) from a previous audit's output folder.

    The folder is read as its last audit left it: while it is read, its lock is held (an
    audit running there is refused, and refuses to start) and a swap that an audit died in
    is put back first, as ``kvcompliance verzend`` does. ``own_output``: the output folder
    of this run, which this run holds and has put back already (``--vorige`` may name it).
    """
    folder = Path(folder)
    if not is_output_folder(folder) or (own_output is not None and _same_folder(folder, Path(own_output))):
        return _read_previous(folder, catalogue)
    with settled_output(folder, PREVIOUS_READER, reading=True):
        return _read_previous(folder, catalogue)


def _same_folder(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return one.resolve() == other.resolve()


def _read_previous(folder: Path, catalogue: Catalogue) -> dict[tuple[str, str], PreviousReturn]:
    path = folder / FINDINGS_FILE
    if not path.is_file():
        raise KvError(f"In {folder} staat geen {FINDINGS_FILE}: is dit de uitvoermap van een eerdere controle?")
    labels = {info.label.lower(): info.status for info in catalogue.statuses}
    needed = {"kvk_nummer", "contractnummer", "regel", "status"}
    previous: dict[tuple[str, str], PreviousReturn] = {}
    reader = None
    try:
        size = path.stat().st_size
        if size > FINDINGS_MAX_BYTES:
            raise KvError(
                f"{path} is te groot voor een bevindingenbestand ({size // 2**20} MB; de grens is "
                f"{FINDINGS_MAX_BYTES // 2**20} MB). Is dit de uitvoermap van een eerdere controle?"
            )
        allow_long_fields(FINDINGS_MAX_BYTES)
        with open_csv_text(path) as handle:  # streamed: one row in memory at a time
            reader = csv.DictReader(handle, delimiter=";")
            if not needed <= set(reader.fieldnames or ()):
                raise KvError(f"{path} heeft niet de kolommen van een bevindingenbestand ({', '.join(sorted(needed))}).")
            for row in reader:
                status = labels.get((row["status"] or "").strip().lower())
                if status is None:
                    continue
                entry = previous.setdefault(_key(row["kvk_nummer"], row["contractnummer"]), PreviousReturn())
                entry.statuses[row["regel"]] = status
    except csv.Error:
        where = f" (regel {reader.line_num})" if reader is not None else ""
        raise KvError(
            f"{path} kan niet als CSV-bestand worden gelezen{where}: de kolommen lopen niet goed (bijvoorbeeld een "
            "aanhalingsteken dat niet wordt afgesloten). Is het bestand na de controle bewerkt?"
        ) from None
    except OSError as exc:
        raise KvError(f"{path} kan niet worden gelezen: {os_reason(exc, reading=True)}.") from None
    return previous


def trend_of(before: Status | None, now: Status) -> str:
    if before is None:
        return NEW
    if before == now == Status.NVT:  # did not apply either year: nothing changed
        return SAME
    if before not in COMPARABLE or now not in COMPARABLE:
        return NOT_COMPARABLE
    if now.severity < before.severity:
        return IMPROVED
    if now.severity > before.severity:
        return WORSENED
    return SAME


def compare(frame, statuses, overall: dict[str, Status], previous: dict[tuple[str, str], PreviousReturn]) -> dict[str, Trend]:
    """A Trend per return id; ``statuses`` is the evaluation's status frame."""
    import pandas as pd

    trends = {}
    for rid, kvk, contract in zip(frame.index, frame["kvk_nummer"], frame["contractnummer"]):
        before = None if pd.isna(kvk) or pd.isna(contract) else previous.get(_key(kvk, contract))
        if before is None:
            trends[rid] = Trend(None, NEW)
            continue
        rules = {}
        for rule_id, now in statuses.loc[rid].items():
            prev = before.statuses.get(rule_id)
            rules[rule_id] = (prev, trend_of(prev, now))
        trends[rid] = Trend(before.overall, trend_of(before.overall, overall[rid]), rules)
    return trends
