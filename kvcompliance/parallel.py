"""Run independent per-file work (reading returns, writing workbooks) on several cores.

Results always come back in input order, so the output is the same for any number of
jobs. Work is sent in chunks to keep the cost of talking to the worker processes small;
with one job, or little work, everything runs in this process.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Sequence

#: Below this many items per job a pool costs more than it saves.
MIN_ITEMS_PER_JOB = 8


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
) -> Iterable[Any]:
    """``map(fn, items)`` over ``jobs`` processes, yielding results in input order.

    ``fn`` must be a module-level function (it is pickled by reference). ``on_done(n)``
    is called in this process as results arrive, for a progress bar. ``meanwhile`` is
    run in this process once the work has been handed out (or first, with one job), so
    the main process does its own share instead of waiting.
    """
    items = list(items)
    if jobs <= 1 or len(items) < MIN_ITEMS_PER_JOB * 2:
        if meanwhile is not None:
            meanwhile()
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield fn(item)
            if on_done:
                on_done(1)
        return
    size = chunk_size or max(1, min(64, len(items) // (jobs * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=initializer, initargs=initargs) as pool:
        futures = [pool.submit(_run_chunk, fn, chunk) for chunk in chunks]
        if meanwhile is not None:
            meanwhile()
        for future in futures:
            results = future.result()
            if on_done:
                on_done(len(results))
            yield from results
