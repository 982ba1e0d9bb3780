"""The work folder of the web app: one sub-folder per audit, and the files to choose from.

::

    <werkmap>/                       (default: Documents/kvcompliance-web in the user's home)
      kvcompliance.toml, regels.toml, contracten.xlsx, ...   files the officer put there to choose
      controles/
        controle-2025/
          controle.json              what was chosen, and the last run (see :class:`Audit`)
          opgaven/                   the returns (names chosen by the server, see uploads)
          invoer/                    uploaded settings, rules, register, previous findings
          uitvoer/                   exactly what ``kvcompliance audit`` writes
          formulieren/               the blank and pre-filled forms
          downloads/                 zip files made for downloading (never in uitvoer/)

Every path the browser names is looked up among the entries listed here (a choice is an
id from :meth:`Workspace.choices`), never joined to a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kvcompliance.errors import KvError
from kvcompliance.outputs import FINDINGS_FILE

AUDITS_DIR = "controles"
RECORD_FILE = "controle.json"
INBOX_DIR = "opgaven"
INPUT_DIR = "invoer"
OUTPUT_DIR = "uitvoer"
FORMS_DIR = "formulieren"
DOWNLOADS_DIR = "downloads"
RECORD_VERSION = 1
#: The name of the work folder in the user's documents (or home) folder.
DEFAULT_NAME = "kvcompliance-web"
#: The dossier an audit can start in the work folder.
NEW_DOSSIER = "dossier.sqlite"

_AUDIT_ID = re.compile(r"^controle-(\d{4})(?:-(\d{1,4}))?$")


@dataclass(frozen=True)
class InputKind:
    """One of the files an audit can be given besides the returns."""

    key: str  # also the form field and the URL part
    label: str  # Dutch, on the pages
    suffixes: tuple[str, ...]
    stored_name: str  # the name an upload gets in invoer/ (its suffix added)
    none_label: str  # the choice 'nothing'
    help: str


INPUT_KINDS = (
    InputKind("instellingen", "Instellingen", (".toml",), "instellingen", "geen",
              "Afzender, verslagjaar en gespreksperiode (kvcompliance.toml). De werkboeken en formulieren noemen ze;"
              " zonder instellingen staat er ‘de gemeente’."),
    InputKind("regels", "Regels", (".toml",), "regels", "de standaardregels",
              "Een eigen regelbestand (TOML) met de normen van uw regio."),
    InputKind("contracten", "Contractregister", (".xlsx", ".xls", ".ods", ".csv"), "contracten", "geen",
              "Met een register ziet u wie niets inleverde, en kunt u vooraf ingevulde formulieren maken."),
    InputKind("vorige", "Vergelijken met vorig jaar", (".csv",), "vorige/" + FINDINGS_FILE, "niet vergelijken",
              "Een eerdere controle in de werkmap, of het bestand bevindingen.csv uit de uitvoermap van vorig jaar."),
    InputKind("dossier", "Dossier", (".sqlite", ".sqlite3", ".db"), "dossier", "geen dossier",
              "Het dossier (SQLite) dat elke controle bewaart, voor de historie per aanbieder. Zonder keuze: het"
              " dossier dat de instellingen noemen ([dossier] pad), als ze er een noemen; een naam zonder map"
              " staat in de werkmap."),
)
KINDS = {kind.key: kind for kind in INPUT_KINDS}


def default_root() -> Path:
    """``Documents/kvcompliance-web`` in the user's home folder (or the home folder itself
    when it has no Documents folder)."""
    home = Path.home()
    documents = home / "Documents"
    return (documents if documents.is_dir() else home) / DEFAULT_NAME


def _private_dir(path: Path) -> None:
    """Make ``path`` (and its parents); a folder made here is readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > 1024 * 1024:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Choice:
    """A file the officer can choose for an input: its id (what the browser sends back)
    and how the page names it."""

    id: str
    label: str
    path: Path | None = None  # a file; for 'vorige' the folder holding bevindingen.csv


@dataclass
class Audit:
    """One audit's folder and its record (``controle.json``)."""

    root: Path  # the work folder
    id: str
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.root / AUDITS_DIR / self.id

    @property
    def inbox(self) -> Path:
        return self.folder / INBOX_DIR

    @property
    def inputs_dir(self) -> Path:
        return self.folder / INPUT_DIR

    @property
    def output(self) -> Path:
        return self.folder / OUTPUT_DIR

    @property
    def forms(self) -> Path:
        return self.folder / FORMS_DIR

    @property
    def downloads(self) -> Path:
        return self.folder / DOWNLOADS_DIR

    @property
    def year(self) -> int | None:
        year = self.record.get("jaar")
        return year if isinstance(year, int) else None

    @property
    def title(self) -> str:
        number = _AUDIT_ID.match(self.id)
        suffix = f" ({number.group(2)})" if number and number.group(2) else ""
        return f"Controle {self.year}{suffix}" if self.year else "Controle"

    @property
    def last_run(self) -> dict[str, Any] | None:
        run = self.record.get("laatste")
        return run if isinstance(run, dict) else None

    def run_day(self) -> str:
        """The day of the last finished run in words ('29 november 2026'; '' when none)."""
        from kvcompliance.settings import date_in_words

        try:
            return date_in_words(datetime.fromisoformat(str((self.last_run or {}).get("datum"))).date())
        except ValueError:
            return ""

    def input(self, key: str) -> dict[str, Any] | None:
        """What was chosen for input ``key``: {'pad': path relative to the work folder,
        'naam': how it is shown, 'fout': Dutch error or None}; None when nothing is."""
        value = self.record.get("invoer", {}).get(key)
        return value if isinstance(value, dict) and isinstance(value.get("pad"), str) else None

    def input_path(self, key: str) -> Path | None:
        """The chosen file of input ``key`` (for 'vorige': the folder), inside the work folder."""
        chosen = self.input(key)
        if chosen is None:
            return None
        path = (self.root / chosen["pad"]).resolve()
        if not path.is_relative_to(self.root.resolve()):
            return None
        if not path.exists() and key != "dossier":  # a new dossier is made by the first audit
            return None
        return path

    def settings(self) -> Any:
        """The audit's settings (none chosen: none), a relative ``[dossier] pad`` taken from
        the work folder, not from the audit's own folder where the file is kept: so every
        year's audit finds the same dossier, next to the settings file an officer put there."""
        from kvcompliance.settings import Settings, load_settings

        path = self.input_path("instellingen")
        return load_settings(path, base=self.root) if path is not None else Settings()

    def failing_inputs(self) -> list[InputKind]:
        """The inputs whose chosen file did not pass its check."""
        return [KINDS[k] for k in KINDS if (v := self.input(k)) and v.get("fout")]

    def input_errors(self) -> list[str]:
        return [f"{kind.label}: {self.input(kind.key)['fout']}" for kind in self.failing_inputs()]

    def inbox_files(self) -> list[os.DirEntry]:
        """The returns in this audit, by name (hidden work files left out)."""
        try:
            with os.scandir(self.inbox) as entries:
                files = [e for e in entries if e.is_file(follow_symlinks=False) and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        return sorted(files, key=lambda e: e.name.casefold())

    def fingerprint(self) -> str:
        """Changes when a return is added, removed or replaced."""
        digest = hashlib.sha256()
        for entry in self.inbox_files():
            stat = entry.stat(follow_symlinks=False)
            digest.update(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def input_fingerprints(self) -> dict[str, str]:
        """Per chosen input, what changes when another file is chosen or the file itself
        changes (the findings file of a folder). A dossier counts by its place only: every
        audit writes into it."""
        found = {}
        for key in KINDS:
            chosen, path = self.input(key), self.input_path(key)
            if chosen is None:
                continue
            if path is not None and path.is_dir():
                path = path / FINDINGS_FILE
            try:
                stat = path.stat() if path is not None and key != "dossier" else None
            except OSError:
                stat = None
            found[key] = f"{chosen['pad']}\0{stat.st_size}\0{stat.st_mtime_ns}" if stat else chosen["pad"]
        return found

    def has_output(self) -> bool:
        return (self.output / FINDINGS_FILE).is_file()

    def changed_since_run(self) -> bool:
        """Whether the returns changed after the last finished run (so its files are stale)."""
        run = self.last_run
        return run is not None and run.get("vingerafdruk") != self.fingerprint()

    def inputs_changed_since_run(self) -> list[InputKind]:
        """The inputs chosen otherwise, or changed, after the last finished run (a run
        recorded before inputs were fingerprinted: none)."""
        run = self.last_run
        if run is None or not isinstance(run.get("invoer"), dict):
            return []
        now = self.input_fingerprints()
        return [kind for key, kind in KINDS.items() if run["invoer"].get(key) != now.get(key)]


class Workspace:
    """The work folder: its audits and the files in it an officer can choose."""

    def __init__(self, root: Path):
        self.root = Path(root).expanduser().resolve()
        self._lock = threading.RLock()
        try:
            _private_dir(self.root / AUDITS_DIR)
        except OSError as exc:
            from kvcompliance.report.xlsx import os_reason

            raise KvError(f"De werkmap {self.root} kan niet worden gemaakt: {os_reason(exc)}.") from None

    # ------------------------------------------------------------------ audits
    def audits(self) -> list[Audit]:
        """Every audit in the work folder, newest year first, then newest made first."""
        found = []
        for folder in (self.root / AUDITS_DIR).iterdir():
            if folder.is_dir() and _AUDIT_ID.match(folder.name):
                record = _read_json(folder / RECORD_FILE)
                if record is not None:
                    found.append(Audit(self.root, folder.name, record))
        return sorted(found, key=lambda a: (a.year or 0, str(a.record.get("aangemaakt", ""))), reverse=True)

    def audit(self, audit_id: str) -> Audit | None:
        """The audit with this id, or None (an id that is not an audit's name is never a path)."""
        if not _AUDIT_ID.match(audit_id):
            return None
        record = _read_json(self.root / AUDITS_DIR / audit_id / RECORD_FILE)
        return Audit(self.root, audit_id, record) if record is not None else None

    def create(self, year: int) -> Audit:
        """A new, empty audit for ``year``: controle-2025, controle-2025-2, ..."""
        with self._lock:
            number = 1
            while True:
                audit_id = f"controle-{year}" if number == 1 else f"controle-{year}-{number}"
                folder = self.root / AUDITS_DIR / audit_id
                try:
                    folder.mkdir(mode=0o700)
                    break
                except FileExistsError:
                    number += 1
            audit = Audit(self.root, audit_id, {
                "versie": RECORD_VERSION,
                "jaar": year,
                "aangemaakt": datetime.now().isoformat(timespec="seconds"),
                "invoer": {},
            })
            for sub in (INBOX_DIR, INPUT_DIR, OUTPUT_DIR):
                _private_dir(folder / sub)
            self.save(audit)
            return audit

    def save(self, audit: Audit) -> None:
        with self._lock:
            _write_json(audit.folder / RECORD_FILE, audit.record)

    def update(self, audit_id: str, **changes: Any) -> Audit:
        """Change top-level keys of an audit's record (read fresh, written atomically)."""
        with self._lock:
            audit = self.audit(audit_id)
            if audit is None:
                raise KvError("Deze controle bestaat niet (meer).")
            audit.record.update(changes)
            self.save(audit)
            return audit

    def set_input(self, audit_id: str, key: str, path: Path | None, name: str = "", error: str | None = None) -> Audit:
        """Record the file chosen for input ``key`` (None: nothing), with its check's error."""
        with self._lock:
            audit = self.audit(audit_id)
            if audit is None:
                raise KvError("Deze controle bestaat niet (meer).")
            inputs = dict(audit.record.get("invoer", {}))
            if path is None:
                inputs.pop(key, None)
            else:
                relative = Path(path).resolve().relative_to(self.root).as_posix()
                inputs[key] = {"pad": relative, "naam": name, "fout": error}
            audit.record["invoer"] = inputs
            self.save(audit)
            return audit

    # ------------------------------------------------------------------ choices
    def choices(self, key: str, exclude: str | None = None) -> list[Choice]:
        """The files in the work folder an officer can choose for input ``key``: the files
        at its top, then the inputs of earlier audits; for 'vorige' the earlier audits
        with an output (``exclude``: the audit being set up)."""
        kind = KINDS[key]
        found: list[Choice] = []
        if key == "vorige":
            for audit in self.audits():
                if audit.id != exclude and audit.has_output():
                    found.append(Choice(f"controle:{audit.id}", f"{audit.title}, uitvoer van {audit.run_day()}", audit.output))
            return found
        if key == "dossier" and not (self.root / NEW_DOSSIER).exists():
            found.append(Choice(f"nieuw:{NEW_DOSSIER}", f"nieuw dossier: {NEW_DOSSIER} in de werkmap", self.root / NEW_DOSSIER))
        for entry in sorted(self.root.iterdir(), key=lambda p: p.name.casefold()):
            if entry.is_file() and entry.suffix.lower() in kind.suffixes and not entry.name.startswith((".", "~$")):
                found.append(Choice(f"werkmap:{entry.name}", entry.name, entry))
        for audit in self.audits():
            if audit.id == exclude:
                continue
            chosen = audit.input_path(key)
            if chosen is not None and chosen.is_file() and chosen.is_relative_to(audit.folder):
                found.append(Choice(f"controle:{audit.id}", f"{audit.input(key)['naam']} (uit {audit.title})", chosen))
        return found

    def choice(self, key: str, choice_id: str, exclude: str | None = None) -> Choice | None:
        """The choice with this id among :meth:`choices` (None when it is not one of them)."""
        return next((c for c in self.choices(key, exclude) if c.id == choice_id), None)
