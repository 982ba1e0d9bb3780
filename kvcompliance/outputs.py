"""The output folder of an audit as one transaction: staging, manifest, lock, swap.

The folder always holds one whole run: the previous one (after an interruption, a full
disk, a crash) or the new one, never a mix. How:

* **Lock.** :class:`OutputFolder` first creates ``.kvcompliance.lock`` with ``O_EXCL``
  (process id, host, process start time). A second run into the same folder is refused
  with a Dutch message, not queued: the officer sees at once that a run is going on. A
  lock whose process is gone (same host) is stale and taken over.
* **Staging.** Every file of the run is written into ``.kvcompliance-nieuw-<run>/``
  inside the folder (same file system, so moving a file is a rename).
* **Manifest.** ``.kvcompliance.json`` lists the files the tool wrote (run id, date,
  files, and the SHA-256 of each). Only those are ever replaced or removed, and only as
  they were written: an officer's own files in the folder survive every run, and so does
  a file of the tool that the officer changed since (agreements typed into a workbook);
  a file of the tool's name that it did not write, or that was changed, is refused.
* **Swap with a journal.** ``.kvcompliance.wissel.json`` records what moves where; then
  the old files move into ``.kvcompliance-oud-<run>/``, the new ones into place, the new
  manifest last; removing the journal commits the run. A failure or an interruption
  during the swap moves everything back at once; after a hard crash the next run finds
  the journal and rolls back the same way (a run that did not finish never counts).
  Staging and backup folders left by a killed run are removed by the next run.
* **Readers.** Whatever reads an earlier run's folder (``verzend``, the web app's e-mail
  drafts and downloads, ``afspraken``, ``audit --vorige``) holds its lock meanwhile and first rolls back
  a swap that a run died in (:func:`settled_output`): it reads the last whole run.

The files the tool writes and the names it keeps for itself are defined here, once (the
lock's name, the prefix of its work folders and the JSON helpers in
:mod:`kvcompliance.folderlock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import time
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from kvcompliance import __version__
from kvcompliance.errors import OutputError, os_reason
from kvcompliance.folderlock import LOCK_FILE, PROGRAM, WORK_PREFIX
from kvcompliance.folderlock import FolderLock as _Lock
from kvcompliance.values import listing
from kvcompliance.folderlock import read_json as _read_json
from kvcompliance.folderlock import sync_dir as _sync_dir
from kvcompliance.folderlock import write_json as _write_json
from kvcompliance.stops import LateStops

OVERVIEW_FILE = "overzicht.xlsx"
FINDINGS_FILE = "bevindingen.csv"
LOG_FILE = "verwerking.jsonl"
MAILING_FILE = "verzendlijst.csv"
PROVIDER_DIR = "accountgesprek"
#: The files every run writes at the top of the output folder.
RUN_FILES = (OVERVIEW_FILE, FINDINGS_FILE, MAILING_FILE, LOG_FILE)
#: Drafts and the log of what was sent (``kvcompliance verzend``): never written by the audit.
MAIL_DIR = "verzending"
SENT_LOG = "verzonden.jsonl"

MANIFEST_FILE = ".kvcompliance.json"
JOURNAL_FILE = ".kvcompliance.wissel.json"
#: Staging, backup and temporary entries of a run start with this; the next run removes them.
STAGING_PREFIX = WORK_PREFIX + "nieuw-"
BACKUP_PREFIX = WORK_PREFIX + "oud-"
#: Manifest key of the files of earlier runs that were changed since and are kept.
KEPT_KEY = "bewaard"


def is_internal_name(name: str) -> bool:
    """Whether an entry of a folder is the tool's own bookkeeping (lock, manifest, journal,
    staging, backup, temporary files): never a return, never an officer's file."""
    return name in (MANIFEST_FILE, LOCK_FILE, JOURNAL_FILE) or name.startswith(WORK_PREFIX)


def is_output_folder(path: Path) -> bool:
    """Whether ``path`` is (or is becoming) an output folder of this tool, whatever its
    name: it has the tool's manifest, or a run's journal or lock."""
    path = Path(path)
    manifest = _read_json(path / MANIFEST_FILE, "programma")
    if manifest is not None and manifest["programma"] == PROGRAM:
        return True
    return any(os.path.lexists(path / name) for name in (JOURNAL_FILE, LOCK_FILE))


class EarlierOutputs:
    """Recognises the files earlier runs wrote, by the manifests of their output folders,
    whatever those folders are called: ``path in EarlierOutputs()``.

    A run writes only in its output folder and in its ``accountgesprek/``, so a file's
    own folder and the one above are the only places to look; each manifest is read once
    per instance. Only files a manifest lists count: an officer's own file next to them
    is not one.
    """

    def __init__(self) -> None:
        self._owned: dict[Path, frozenset[str]] = {}

    def __contains__(self, path: object) -> bool:
        path = Path(str(path))
        for folder in (path.parent, path.parent.parent):
            if folder not in self._owned:
                self._owned[folder] = _owned_files(folder) | _owned_files(folder, KEPT_KEY)
            owned = self._owned[folder]  # with the ones kept as changed: still no returns
            if owned and path.relative_to(folder).as_posix() in owned:
                return True
        return False


def written_names() -> tuple[str, ...]:
    """Every top-level name a run writes or replaces in the output folder."""
    return (*RUN_FILES, PROVIDER_DIR)


def check_separate(inbox: Path, out_dir: Path) -> None:
    """Refuse an output folder that would touch the inbox, before anything is read.

    An output folder inside the inbox is fine (it is not read as returns); the inbox
    inside the output folder is fine unless it is (or is inside) something a run writes
    or replaces there. Raises :class:`OutputError` with a Dutch message.
    """
    inbox_r, out_r = Path(inbox).resolve(), Path(out_dir).resolve()
    same = inbox_r == out_r
    if not same and inbox_r.exists() and out_r.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(inbox_r, out_r)
    if same:
        raise OutputError(
            f"De uitvoermap {out_dir} is de map met opgaven zelf. De uitvoer zou tussen de opgaven komen te staan; "
            f"kies met -o een andere map, bijvoorbeeld {out_r.parent / (out_r.name + '-uitvoer')}."
        )
    if inbox_r.is_relative_to(out_r):
        first = inbox_r.relative_to(out_r).parts[0]
        if first.casefold() in {n.casefold() for n in written_names()} or is_internal_name(first):
            raise OutputError(
                f"De map met opgaven {inbox} ligt in {out_r / first}, dat de controle zelf schrijft en vervangt. "
                "Zo zouden opgaven verloren gaan: zet de opgaven in een andere map of kies met -o een andere uitvoermap."
            )


class OutputFolder:
    """One run's hold on an output folder (a context manager).

    Opening checks the folder against the inbox, takes the lock, repairs what a crashed
    run left, and makes the staging folder :attr:`staging`; write the run's files there
    under their final relative names (``overzicht.xlsx``, ``accountgesprek/<naam>.xlsx``),
    then :meth:`commit`. Leaving the ``with`` block without a commit leaves the folder as
    it was; either way the staging folder is removed and the lock released.
    """

    def __init__(self, path: Path, inbox: Path | None = None, *, stops: LateStops | None = None):
        self.path = Path(path)
        self.inbox = Path(inbox) if inbox is not None else None
        self.run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        self.staging = self.path / f"{STAGING_PREFIX}{self.run_id}"
        self.owned: frozenset[str] = frozenset()
        #: the tool's files of the previous run that were changed since (now the officer's)
        self.changed: tuple[str, ...] = ()
        self.committed = False
        self._lock: _Lock | None = None
        self._created = False
        #: ``stops``: held from the commit point on, so that Ctrl-C and SIGTERM no longer stop
        #: the run once its output is in place (:mod:`kvcompliance.stops`); the caller
        #: releases them when what belongs to the run (the dossier, the report) is done
        self._late = stops

    def __enter__(self) -> OutputFolder:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ open and close
    def open(self) -> None:
        try:
            if self.inbox is not None:
                check_separate(self.inbox, self.path)
            if os.path.lexists(self.path) and not self.path.is_dir():
                raise OutputError(f"{self.path} is een bestand, geen map; geef met -o een map op.")
            self._created = not self.path.exists()
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a name too long, a folder that cannot be read, ...
            raise OutputError(f"De uitvoermap {self.path} kan niet worden gemaakt: {_reason(exc)}.") from None
        try:
            self._lock = _Lock.take(self.path)
            _recover(self.path)
            _remove_leftovers(self.path)
            self.owned = _owned_files(self.path)
            self.changed = _changed_since(self.path, self.owned)
            self.owned -= set(self.changed)
            self._refuse_foreign()
            self.staging.mkdir()
        except OSError as exc:
            self.close()
            raise OutputError(f"De uitvoermap {self.path} kan niet worden gebruikt: {_reason(exc)}.") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if not os.path.lexists(self.path / JOURNAL_FILE):  # else the next run needs it to roll back
            with contextlib.suppress(OSError):
                _remove(self.staging)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._created and not self.committed:
            with contextlib.suppress(OSError):
                self.path.rmdir()  # made by this run and still empty: leave nothing behind

    def _refuse_foreign(self) -> None:
        foreign = [name for name in RUN_FILES if os.path.lexists(self.path / name) and name not in self.owned]
        provider_dir = self.path / PROVIDER_DIR
        if os.path.lexists(provider_dir) and (provider_dir.is_symlink() or not provider_dir.is_dir()):
            foreign.append(PROVIDER_DIR)
        if foreign:
            one = len(foreign) == 1
            names = listing(foreign)
            why = ("gewijzigd sinds de vorige controle" if set(foreign) <= set(self.changed) else
                   "niet geschreven door een eerdere controle met deze versie van kvcompliance")
            raise OutputError(
                f"In de uitvoermap {self.path} {'staat' if one else 'staan'} al {names}, {why}. "
                f"{'Dat wordt' if one else 'Die worden'} niet overschreven: "
                f"verplaats of verwijder {'het' if one else 'ze'}, of kies met -o een andere map."
            )

    def foreign_names(self, folder: str = PROVIDER_DIR) -> set[str]:
        """Case-folded names in ``folder`` of the output folder that the tool did not write
        (an officer's own files): the run must choose other names."""
        try:
            names = os.listdir(self.path / folder)
        except OSError:
            return set()
        return {n.casefold() for n in names if f"{folder}/{n}" not in self.owned}

    # ------------------------------------------------------------------ commit
    def commit(self) -> list[str]:
        """Swap the staged files in for the previous run's; returns the files of the run."""
        if self.committed or self._lock is None:
            raise OutputError("Deze uitvoer is al vastgelegd of de map is niet geopend.")
        new = _staged_files(self.staging)
        kept = {*self.changed, *(p for p in _owned_files(self.path, KEPT_KEY) if os.path.lexists(self.path / p))} - set(new)
        manifest = {"programma": PROGRAM, "versie": __version__, "run": self.run_id,
                    "datum": datetime.now().isoformat(timespec="seconds"), "bestanden": new,
                    "sha256": {rel: _sha256(self.staging / rel) for rel in new}, KEPT_KEY: sorted(kept)}
        backup = self.path / f"{BACKUP_PREFIX}{self.run_id}"
        old = sorted(p for p in self.owned | {MANIFEST_FILE} if os.path.lexists(self.path / p))
        journal = {"programma": PROGRAM, "nieuw": self.staging.name, "oud": backup.name, "weg": old,
                   "erin": [*new, MANIFEST_FILE]}
        try:
            _write_json(self.staging / MANIFEST_FILE, manifest)
            _write_json(self.path / JOURNAL_FILE, journal, durable=True)
            _swap(self.path, journal)
            if self._late is not None:  # a stop from here on can no longer undo the run: noted, not obeyed
                self._late.hold()
            (self.path / JOURNAL_FILE).unlink()  # the commit point
        except BaseException as exc:
            if self._late is not None:
                self._late.release()
            if os.path.lexists(self.path / JOURNAL_FILE):
                _roll_back_or_report(self.path, journal)
            if isinstance(exc, OSError):
                raise OutputError(f"De nieuwe uitvoer kon niet in {self.path} worden gezet: {_reason(exc)}. "
                                  "De vorige uitvoer staat er nog.") from None
            raise
        _sync_dir(self.path)
        self.committed = True
        for leftover in (backup, self.staging):
            with contextlib.suppress(OSError):
                _remove(leftover)
        if not any(p.startswith(f"{PROVIDER_DIR}/") for p in new):
            with contextlib.suppress(OSError):
                (self.path / PROVIDER_DIR).rmdir()  # only when empty: an officer's files keep it
        return new


def run_id(path: Path) -> str | None:
    """The id of the run whose files the output folder holds (by its manifest), or None."""
    manifest = _read_json(Path(path) / MANIFEST_FILE, "run")
    run = manifest.get("run") if manifest is not None and manifest.get("programma") == PROGRAM else None
    return run if isinstance(run, str) else None


@contextlib.contextmanager
def settled_output(path: Path, who: str, *, reading: bool = False, wait: float = 0.0) -> Iterator[Path]:
    """Hold the output folder of an earlier audit while ``who`` (a command, in the words
    of the messages) reads from it and writes beside it: take the folder's lock, so that
    no audit swaps its files in meanwhile (and an audit started now is refused, naming
    ``who``), and first put the previous run back if an audit died in its swap. Raises
    :class:`OutputError` when an audit is running there.

    ``reading``: ``who`` only reads. A folder it may not write in (an archived year on a
    read-only share) is read as it is, since no lock can be taken there; unless an audit
    died in its swap there, which cannot be put back then: that is refused.

    ``wait``: seconds to wait for an audit (or another reader) that holds the folder to
    let go, before refusing (a page that reads a file waits a moment; a command does not)."""
    path = Path(path)
    if reading and os.path.isdir(path) and not os.access(path, os.W_OK):
        if os.path.lexists(path / JOURNAL_FILE):
            raise OutputError(
                f"In de uitvoermap {path} is een controle afgebroken terwijl ze haar bestanden verving; de vorige uitvoer "
                "moet eerst worden teruggezet, maar in deze map mag u niet schrijven. Vraag schrijfrechten voor de map "
                "en probeer het opnieuw."
            )
        yield path
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            lock = _Lock.take(path, who)
            break
        except OutputError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
    try:
        _recover(path)
        yield path
    except OSError as exc:
        raise OutputError(f"De uitvoermap {path} kan niet worden gebruikt: {_reason(exc)}.") from None
    finally:
        lock.release()


@contextlib.contextmanager
def settled_outputs(folders: list[Path], who: str) -> Iterator[None]:
    """:func:`settled_output` (reading) for each of ``folders`` at once."""
    with contextlib.ExitStack() as stack:
        for folder in folders:
            stack.enter_context(settled_output(folder, who, reading=True))
        yield


def output_folders_around(path: Path) -> list[Path]:
    """The output folders of audits that reading ``path`` (a folder searched through, or
    one workbook) reads from: the one it is, or is in (``uitvoer/accountgesprek/``), and
    every one below it. The tool's own work folders and symbolic links are not entered."""
    path = Path(path)
    start = path if path.is_dir() else path.parent
    found = [folder for folder in (start, start.parent) if folder.is_dir() and is_output_folder(folder)]
    if path.is_dir():
        for root, dirs, _ in os.walk(path, onerror=lambda exc: None):
            dirs[:] = sorted(d for d in dirs if not is_internal_name(d) and not os.path.islink(os.path.join(root, d)))
            found += [Path(root, d) for d in dirs if is_output_folder(Path(root, d))]
    unique: dict[Path, Path] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


# ---------------------------------------------------------------------- the swap
def _own_shape(rel: Any) -> bool:
    """Whether ``rel`` names a file the tool writes: one of :data:`RUN_FILES`, the
    manifest, or ``accountgesprek/<plain name>``. Nothing else is ever moved or removed,
    whatever a manifest or journal says."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return False
    if rel in RUN_FILES or rel == MANIFEST_FILE:
        return True
    parts = PurePosixPath(rel).parts
    return len(parts) == 2 and parts[0] == PROVIDER_DIR and not parts[1].startswith(".") and rel == "/".join(parts)


def _staged_files(staging: Path) -> list[str]:
    files = []
    for entry in sorted(os.listdir(staging)):
        if entry == PROVIDER_DIR and (staging / entry).is_dir():
            files += [f"{PROVIDER_DIR}/{name}" for name in sorted(os.listdir(staging / entry))]
        else:
            files.append(entry)
    return [f for f in files if _own_shape(f) and f != MANIFEST_FILE and (staging / f).is_file()]


def _swap(root: Path, journal: dict) -> None:
    staging, backup = root / journal["nieuw"], root / journal["oud"]
    for rel in journal["weg"]:
        if os.path.lexists(root / rel):
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / rel, backup / rel)
    for rel in journal["erin"]:
        target = root / rel
        if os.path.lexists(target):
            raise OutputError(f"Tijdens de controle is {target} in de uitvoermap gezet; dat bestand wordt niet "
                              "overschreven. De vorige uitvoer staat er nog; verplaats het bestand en draai de controle opnieuw.")
        target.parent.mkdir(exist_ok=True)
        os.rename(staging / rel, target)


def _roll_back(root: Path, journal: dict) -> None:
    """Put the previous run back: new files return to the staging folder, old ones come
    back from the backup. Safe to repeat; afterwards the journal is removed."""
    staging, backup = root / journal["nieuw"], root / journal["oud"]
    old = set(journal["weg"])
    for rel in journal["erin"]:
        # In place is the new file when it left the staging folder and, if an old one
        # was there, that one is in the backup already (the old ones move out first).
        moved_in = not os.path.lexists(staging / rel) and (rel not in old or os.path.lexists(backup / rel))
        if moved_in and os.path.lexists(root / rel):
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / rel, staging / rel)
    for rel in journal["weg"]:
        if os.path.lexists(backup / rel):
            (root / rel).parent.mkdir(exist_ok=True)
            os.rename(backup / rel, root / rel)
    (root / JOURNAL_FILE).unlink()
    _sync_dir(root)
    with contextlib.suppress(OSError):
        _remove(backup)  # only empty folders are left in it


def _roll_back_or_report(root: Path, journal: dict) -> None:
    try:
        _roll_back(root, journal)
    except OSError as exc:
        raise OutputError(
            f"De uitvoermap {root} kon niet worden teruggezet ({_reason(exc)}). De volgende controle in deze map "
            "zet de vorige uitvoer terug."
        ) from None


def _recover(root: Path) -> None:
    """Undo the swap of a run that crashed in the middle of it (its journal is still there)."""
    path = root / JOURNAL_FILE
    if not os.path.lexists(path):
        return
    journal = _read_json(path, "erin")
    valid = (
        journal is not None
        and str(journal.get("nieuw", "")).startswith(STAGING_PREFIX)
        and str(journal.get("oud", "")).startswith(BACKUP_PREFIX)
        and "/" not in journal["nieuw"] + journal["oud"]
        and all(isinstance(journal.get(k), list) and all(_own_shape(p) for p in journal[k]) for k in ("weg", "erin"))
    )
    if not valid:
        raise OutputError(
            f"In {root} staat een onleesbaar {JOURNAL_FILE} van een afgebroken controle. Controleer de map, "
            "verwijder dat bestand en draai de controle opnieuw."
        )
    _roll_back_or_report(root, journal)


def _remove_leftovers(root: Path) -> None:
    """Staging, backup and temporary entries of runs that were killed (we hold the lock)."""
    for name in os.listdir(root):
        if name.startswith(WORK_PREFIX):
            _remove(root / name)


def _changed_since(root: Path, owned: frozenset[str]) -> tuple[str, ...]:
    """The files of ``owned`` that are no longer as the run wrote them (by the SHA-256 in
    the manifest; a manifest of an older version without it changes nothing)."""
    manifest = _read_json(root / MANIFEST_FILE, "bestanden") or {}
    digests = manifest.get("sha256") if isinstance(manifest.get("sha256"), dict) else {}
    return tuple(sorted(
        rel for rel in owned
        if isinstance(digests.get(rel), str) and os.path.isfile(root / rel) and _sha256(root / rel) != digests[rel]
    ))


def _sha256(path: Path) -> str:
    """The SHA-256 of a file; '' when it cannot be read (then it counts as changed: kept)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _owned_files(root: Path, key: str = "bestanden") -> frozenset[str]:
    """The files the manifest lists under ``key``: the run's own, or (:data:`KEPT_KEY`) those
    of earlier runs the officer changed, kept and no longer the tool's to replace."""
    manifest = _read_json(root / MANIFEST_FILE, "bestanden")
    if manifest is None or manifest.get("programma") != PROGRAM or not isinstance(manifest.get(key), list):
        return frozenset()
    return frozenset(p for p in manifest[key] if _own_shape(p) and p != MANIFEST_FILE)


# ---------------------------------------------------------------------- small helpers
def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _reason(exc: OSError) -> str:
    return os_reason(exc)
