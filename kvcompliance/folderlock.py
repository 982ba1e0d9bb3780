"""The lock of an output folder, and the small JSON files of its bookkeeping.

``.kvcompliance.lock`` is created with ``O_EXCL`` and holds the process id, host and
process start time of the run that holds the folder. A second run is refused with a Dutch
message that names the holder; a lock whose process is gone (same host) is stale and taken
over. See :mod:`kvcompliance.outputs` for the transaction the lock guards.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from datetime import datetime
from pathlib import Path

from kvcompliance.errors import OutputError, os_reason

PROGRAM = "kvcompliance"
LOCK_FILE = ".kvcompliance.lock"
#: Every work folder and temporary file of the tool in an output folder starts with this.
WORK_PREFIX = ".kvcompliance-"
TEMP_PREFIX = WORK_PREFIX + "tmp-"
#: A manifest or journal larger than this is not the tool's (10,000 workbooks take ~1 MB).
MAX_BOOKKEEPING_BYTES = 16 * 1024 * 1024
#: A lock file that cannot be read is taken for one being written, unless it is this old.
UNREADABLE_LOCK_SECONDS = 60


# ---------------------------------------------------------------------- the lock
class FolderLock:
    """``.kvcompliance.lock``, created with O_EXCL; holds pid, host and process start."""

    def __init__(self, path: Path, token: str):
        self.path, self.token = path, token

    @classmethod
    def take(cls, folder: Path, who: str = "") -> FolderLock:
        path = folder / LOCK_FILE
        token = secrets.token_hex(8)
        me = {"programma": PROGRAM, "pid": os.getpid(), "host": socket.gethostname(), "start": _process_start(os.getpid()),
              "sinds": datetime.now().isoformat(timespec="seconds"), "token": token}
        if who:
            me["wie"] = who
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                holder = read_json(path, "pid")
                if not _is_stale(path, holder):
                    raise OutputError(_busy_message(folder, holder, other_folder=not who)) from None
                _break_lock(path, holder)
                continue
            except OSError as exc:
                raise OutputError(f"De uitvoermap {folder} kan niet worden beschreven: {os_reason(exc)}.") from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(me))
            return cls(path, token)
        raise OutputError(_busy_message(folder, None, other_folder=not who))

    def release(self) -> None:
        holder = read_json(self.path, "token")
        if holder is not None and holder.get("token") == self.token:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _is_stale(path: Path, holder: dict | None) -> bool:
    if holder is None:  # being written right now, or left half-written long ago
        try:
            return time.time() - path.stat().st_mtime > UNREADABLE_LOCK_SECONDS
        except OSError:
            return True
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False  # another computer's run (a shared drive): it cannot be checked from here
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    started = _process_start(pid)
    return started is not None and holder.get("start") is not None and started != holder.get("start")


def _break_lock(path: Path, seen: dict | None) -> None:
    """Remove a stale lock, unless another run replaced it meanwhile (then put that back)."""
    grave = path.with_name(f"{TEMP_PREFIX}lock-{secrets.token_hex(6)}")
    try:
        os.rename(path, grave)
    except OSError:
        return  # another run got there first
    if read_json(grave, "pid") != seen:
        with contextlib.suppress(OSError):
            os.link(grave, path)  # a fresh lock was taken meanwhile: restore it (never replaces)
    with contextlib.suppress(OSError):
        grave.unlink()


def _busy_message(folder: Path, holder: dict | None, other_folder: bool = True) -> str:
    process = ""
    if holder:
        process = f" (proces {holder.get('pid')} op {holder.get('host')}, gestart {str(holder.get('sinds', '')).replace('T', ' ')})"
    who = holder.get("wie") if holder and isinstance(holder.get("wie"), str) else "een controle"
    return (
        f"In de uitvoermap {folder} loopt al {who}{process}. Wacht tot die klaar is"
        f"{', of kies met -o een andere map' if other_folder else ''}. "
        f"Loopt er zeker niets meer, verwijder dan het bestand {folder / LOCK_FILE}."
    )


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return data[data.rindex(b")") + 2 :].split()[19].decode()
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------- small helpers
def read_json(path: Path, required: str) -> dict | None:
    """A small JSON object holding key ``required``, or None (missing, too big, not ours)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BOOKKEEPING_BYTES + 1)
        value = json.loads(data) if len(data) <= MAX_BOOKKEEPING_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and required in value else None


def write_json(path: Path, data: dict, durable: bool = False) -> None:
    tmp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    if durable:
        sync_dir(path.parent)


def sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
