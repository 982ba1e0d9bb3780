"""Reading the files of an audit in reader processes, each with a memory limit.

python-calamine holds a sheet as one dense block of cells: a 12 kB .xlsx with one cell in
XFD3000 makes it allocate 1.5 GB, one in XFD1048576 half a terabyte. No scan of the XML can
tell that reliably (a file may spell a cell reference in many ways), so the guard is on the
resource itself: every reader process limits its address space (``RLIMIT_AS``) to what it
uses when it starts plus :data:`MEMORY_HEADROOM`. Whatever a file says, it cannot take more.

Hitting the limit shows in one of three ways, and each makes the file "te groot":

- Python code gets a ``MemoryError`` (:func:`~kvcompliance.ingest.record.read_return`);
- calamine (Rust) panics, e.g. on a capacity overflow (the same);
- calamine's allocation fails and Rust aborts the process. What a reader process writes to
  stderr while it reads a file goes to its spool file (after a line naming the file), not
  to the officer's terminal; when the process dies on a file, :func:`crashed_reader` finds
  Rust's "memory allocation of ... failed" there. A process that dies for another reason
  gives "lezer vastgelopen".

Every other file is read as usual: :func:`~kvcompliance.parallel.ordered_map` redoes the
work of a process that died, one file per fresh process, so nothing else is lost.

The limit needs Linux (``/proc/self/statm`` tells the size at start; ``RLIMIT_AS`` is
enforced). Elsewhere (macOS does not enforce ``RLIMIT_AS``; Windows has no ``resource``
module) reader processes have no memory limit: the cheap checks before unpacking (file
size, zip directory, zip bombs, part counts, sizes that binary records claim) are then the
only guard, and a hostile .xlsx can make a reader process take as much memory as calamine
asks for.
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from kvcompliance.catalogue import Catalogue, load_catalogue, load_file_reasons
from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest.inbox import relative_path, source_file
from kvcompliance.ingest.reasons import os_cause
from kvcompliance.ingest.record import read_return
from kvcompliance.model import RejectedFile, ReturnRecord, SourceFile

log = logging.getLogger(__name__)

#: What a reader process may use beyond its size at start (address space, Linux only).
MEMORY_HEADROOM = 512 * 1024 * 1024
#: What Rust writes to stderr when an allocation fails, just before it aborts the process.
RUST_ALLOCATION_FAILED = b"memory allocation of "
#: How much of what a reader wrote while reading one file is looked at.
SPOOL_READ = 64 * 1024


class ReadItem(NamedTuple):
    """One file for a reader process."""

    path: str
    inbox: str
    return_id: str
    rules_file: str | None
    spool: str  # folder for what reader processes write to stderr (see _spooled)


def read_files(
    paths: Iterable[Path],
    inbox: Path,
    rules_file: str | None,
    jobs: int,
    on_done: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[ReturnRecord | RejectedFile]:
    """Read ``paths`` in reader processes (``jobs`` at a time), in order: R0001, R0002, ...

    Every file gives a ReturnRecord or a RejectedFile, also a file that makes its reader
    process die. ``on_done`` and ``meanwhile`` are as for :func:`~kvcompliance.parallel.ordered_map`.
    """
    from kvcompliance.parallel import ordered_map

    with tempfile.TemporaryDirectory(prefix="kvcompliance-lezen-") as spool:
        items = [ReadItem(str(p), str(inbox), f"R{n:04d}", rules_file, spool) for n, p in enumerate(paths, start=1)]
        yield from ordered_map(
            read_path, items, jobs, on_done=on_done, on_crash=crashed_reader, isolate=True, meanwhile=meanwhile
        )


def read_one(path: Path, source: SourceFile, return_id: str, catalogue: Catalogue) -> ReturnRecord | RejectedFile:
    """Read one file; every failure becomes a RejectedFile with a Dutch reason."""
    try:
        return read_return(path, source, return_id, catalogue)
    except UnreadableFile as exc:
        return RejectedFile(source, exc.reason, exc.kind)
    except Exception:  # noqa: BLE001 - nothing may be lost because a reader crashed
        log.debug("unexpected error reading %s", path, exc_info=True)
        return _rejected(source, "onverwachte_fout")


def read_path(item: ReadItem) -> ReturnRecord | RejectedFile:
    """Hash and read one file (in a reader process: with the memory limit, stderr spooled)."""
    in_reader = _prepare_process(item)
    path, inbox = Path(item.path), Path(item.inbox)
    with _spooled(item) if in_reader else _nothing():
        try:
            source = source_file(path, inbox)
        except OSError as exc:
            return _rejected(SourceFile(relative_path(path, inbox), 0, 0.0, ""), "niet_te_openen", oorzaak=os_cause(exc))
        return read_one(path, source, item.return_id, load_catalogue(item.rules_file))


def crashed_reader(item: ReadItem) -> RejectedFile:
    """The reader's process died on this file (in this process, after the fact): list it,
    never lose it, and say whether it asked for more memory than the limit."""
    path, inbox = Path(item.path), Path(item.inbox)
    try:
        source = source_file(path, inbox)
    except OSError:
        source = SourceFile(relative_path(path, inbox), 0, 0.0, "")
    said = _spooled_for(item)
    log.debug("the reader died on %s; it wrote:\n%s", item.path, said.decode("utf-8", "replace"))
    return _rejected(source, "te_veel_geheugen" if RUST_ALLOCATION_FAILED in said else "lezer_vastgelopen")


def _rejected(source: SourceFile, key: str, **values: Any) -> RejectedFile:
    reasons = load_file_reasons()
    return RejectedFile(source, reasons.text(key, **values), reasons.kind(key))


# --------------------------------------------------------------------------- the reader process
class _Reader:
    """This process as a reader: whether it is one, and its spool (see :func:`_spooled`)."""

    active: bool | None = None  # None: not yet known
    spool: int = -1  # file descriptor of this process's spool file
    stderr: int = -1  # the process's own stderr, while fd 2 points to the spool


def _prepare_process(item: ReadItem) -> bool:
    """Once per process: in a reader process (not the main process) set the memory limit and
    open the spool. Returns whether this is a reader process."""
    if _Reader.active is None:
        _Reader.active = multiprocessing.parent_process() is not None
        if _Reader.active:
            load_file_reasons()  # read before any file can use up the memory
            limit_memory()
            name = Path(item.spool) / f"lezer-{os.getpid()}.txt"
            _Reader.spool = os.open(name, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
            _Reader.stderr = os.dup(2)
            if faulthandler.is_enabled():  # its report of a crash belongs in the spool too
                faulthandler.enable(file=2)
    return _Reader.active


def limit_memory(headroom: int = MEMORY_HEADROOM) -> int | None:
    """Limit this process's address space to its present size plus ``headroom``.

    Returns the limit in bytes, or None where it cannot be set (not Linux). Never call it in
    the main process: the limit holds until the process ends.
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    start = _address_space()
    if start is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = start + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        return soft  # already limited at least as tightly
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def _address_space() -> int | None:
    """The size of this process's address space in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _tag(item: ReadItem) -> bytes:
    return f"{item.return_id}\n".encode()


@contextmanager
def _spooled(item: ReadItem) -> Iterator[None]:
    """While one file is read, what this process writes to stderr (python-calamine's Rust
    code included) goes to the process's spool file, after a line naming the file, and not
    to the officer's terminal. When the process dies, the spool stays for
    :func:`crashed_reader`; otherwise what the reader wrote goes to the debug log."""
    tag = _tag(item)
    os.ftruncate(_Reader.spool, 0)
    os.write(_Reader.spool, tag)
    sys.stderr.flush()
    os.dup2(_Reader.spool, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(_Reader.stderr, 2)
        if os.fstat(_Reader.spool).st_size > len(tag):
            said = os.pread(_Reader.spool, SPOOL_READ, len(tag))
            log.debug("the reader wrote while reading %s:\n%s", item.path, said.decode("utf-8", "replace"))


def _spooled_for(item: ReadItem) -> bytes:
    """What the reader processes that died on ``item`` wrote while reading it."""
    tag, said = _tag(item), b""
    for spool in sorted(Path(item.spool).glob("lezer-*.txt")):
        try:
            with spool.open("rb") as handle:
                if handle.read(len(tag)) == tag:
                    said += handle.read(SPOOL_READ)
        except OSError:
            continue
    return said


@contextmanager
def _nothing() -> Iterator[None]:
    yield
