"""Run independent per-file work (reading returns, writing workbooks) on several cores.

Results always come back in input order, so the output is the same for any number of
jobs. Work is sent in chunks to keep the cost of talking to the worker processes small;
with one job, or little work, everything runs in this process.

No worker outlives its pool. Workers ignore SIGINT (Ctrl-C in a terminal reaches every
process of the job; this process decides) and die on SIGTERM. When the work is abandoned
(an interruption, an error, a consumer that stops iterating) this process terminates its
workers through :mod:`multiprocessing`'s public API (``active_children``, ``terminate``)
before the pool is shut down, so no process is left behind and nothing waits for work
that nobody wants any more. Should this process itself be killed outright (SIGKILL, the
out-of-memory killer), each worker notices within a second that its parent is gone and
ends itself; otherwise it would wait for work forever.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

#: Below this many items per job a pool costs more than it saves.
MIN_ITEMS_PER_JOB = 8
#: Most items handed to a worker process at once.
MAX_CHUNK = 16
#: How often a worker checks that the process that started it is still there.
PARENT_CHECK_SECONDS = 0.5


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _run_chunk(fn: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [fn(item) for item in chunk]


def ordered_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    jobs: int,
    *,
    on_done: Callable[[int], None] | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    chunk_size: int | None = None,
    meanwhile: Callable[[], None] | None = None,
    on_crash: Callable[[Any], Any] | None = None,
    isolate: bool = False,
) -> Iterable[Any]:
    """``map(fn, items)`` over ``jobs`` processes, yielding results in input order.

    ``fn`` must be a module-level function (it is pickled by reference). ``on_done(n)``
    is called in this process as results arrive, for a progress bar. ``meanwhile`` is
    run in this process once the work has been handed out (or first, with one job), so
    the main process does its own share instead of waiting.

    When a worker process dies (a native library aborting on a malformed file), the
    unfinished work is redone, the first unfinished chunk one item per fresh process,
    and ``on_crash(item)`` gives the result for an item that kills its process. Without
    ``on_crash`` the error is raised. ``isolate`` runs the work in worker processes even
    with one job or little work, so no item can take this process down.

    Consume it inside ``with contextlib.closing(ordered_map(...))``: an exception in the
    consumer (Ctrl-C) then ends the workers at once, not when the generator is collected.
    """
    items = list(items)
    if not items:
        if meanwhile is not None:  # the caller's own share is done even without work
            meanwhile()
        return
    # What this process holds now (the whole audit, when the workbooks are written) lives
    # until the work is done: frozen for the cycle collector, no process scans it again and
    # again, and the collector of a forked worker never touches (so never copies) the pages
    # it shares with this process.
    gc.freeze()
    try:
        yield from _ordered_map(fn, items, jobs, on_done, initializer, initargs, chunk_size, meanwhile, on_crash, isolate)
    finally:
        gc.unfreeze()


def _ordered_map(fn, items, jobs, on_done, initializer, initargs, chunk_size, meanwhile, on_crash, isolate) -> Iterable[Any]:
    if not isolate and (jobs <= 1 or len(items) < MIN_ITEMS_PER_JOB * 2):
        if meanwhile is not None:
            meanwhile()
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield fn(item)
            if on_done:
                on_done(1)
        return
    jobs = max(1, jobs)
    # Chunks of at most 16: few enough messages, and when the work runs out no process
    # waits long for another to finish its last chunk.
    size = chunk_size or max(1, min(MAX_CHUNK, len(items) // (jobs * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    yield from _pooled(fn, chunks, jobs, on_done, initializer, initargs, meanwhile, on_crash)


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """First thing in every worker: Ctrl-C is the main process's to handle, SIGTERM kills,
    and the worker ends when ``parent`` (the main process) is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(parent,), name="kvcompliance-ouder", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _watch_parent(parent: int) -> None:
    """End this worker once its parent has died (it is then adopted by another process)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


@contextmanager
def _pool(jobs: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers are terminated when the block is left by an exception."""
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(os.getpid(), initializer, initargs))
    try:
        yield pool
    except BaseException:
        _end_workers(before)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _end_workers(before: set) -> None:
    """Terminate the worker processes started since ``before`` (this pool's), then wait for them."""
    workers = [p for p in multiprocessing.active_children() if p not in before]
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


def _pooled(fn, chunks, jobs, on_done, initializer, initargs, meanwhile, on_crash) -> Iterable[Any]:
    failed = None
    with _pool(jobs, initializer, initargs) as pool:
        futures = [pool.submit(_run_chunk, fn, chunk) for chunk in chunks]
        if meanwhile is not None:
            meanwhile()
        for number, future in enumerate(futures):
            try:
                results = future.result()
            except BrokenProcessPool:
                if on_crash is None:
                    raise
                failed = number
                break
            if on_done:
                on_done(len(results))
            yield from results
    if failed is None:
        return
    # A worker died. The first unfinished chunk is redone one item per fresh process,
    # so the item that kills its process is found; the rest goes to a new pool.
    for item in chunks[failed]:
        yield _run_isolated(fn, item, on_crash)
        if on_done:
            on_done(1)
    if failed + 1 < len(chunks):
        yield from _pooled(fn, chunks[failed + 1 :], jobs, on_done, initializer, initargs, None, on_crash)


def _run_isolated(fn: Callable[[Any], Any], item: Any, on_crash: Callable[[Any], Any]) -> Any:
    with _pool(1) as pool:
        try:
            return pool.submit(fn, item).result()
        except BrokenProcessPool:
            return on_crash(item)
