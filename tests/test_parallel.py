"""Parallel work: order kept, and a worker that dies on one item loses nothing."""

from __future__ import annotations

import os

from kvcompliance.parallel import ordered_map


def _square(x: int) -> int:
    return x * x


def _die_on_13(x: int) -> int:
    if x == 13:
        os._exit(134)  # what a native abort looks like from Python: the process is gone
    return x * x


def test_results_come_back_in_input_order_for_any_number_of_jobs():
    items = list(range(100))
    assert list(ordered_map(_square, items, 1)) == list(ordered_map(_square, items, 2)) == [x * x for x in items]


def test_an_item_that_kills_its_worker_is_reported_and_the_rest_is_done():
    items = list(range(40))
    done = []
    results = list(ordered_map(_die_on_13, items, 2, on_crash=lambda x: f"kapot {x}", on_done=done.append))
    assert results == [f"kapot {x}" if x == 13 else x * x for x in items]
    assert sum(done) == 40


def test_isolated_work_survives_a_dying_item_even_with_one_job():
    results = list(ordered_map(_die_on_13, [12, 13, 14], 1, on_crash=lambda x: None, isolate=True))
    assert results == [144, None, 196]


def _slow_square(x: int) -> int:
    import time

    time.sleep(0.2)
    return x * x


def _new_children(before: set) -> list:
    import multiprocessing

    return [p for p in multiprocessing.active_children() if p not in before]


def test_work_abandoned_by_its_consumer_ends_the_workers_at_once():
    import multiprocessing
    from contextlib import closing

    import time

    before = set(multiprocessing.active_children())
    start = time.monotonic()
    with closing(ordered_map(_slow_square, list(range(100)), 2, chunk_size=1)) as results:  # 10 s of work
        assert next(results) == 0
        assert _new_children(before)  # the pool is working
    assert not _new_children(before)  # closed after one result: no worker is left,
    assert time.monotonic() - start < 5  # and nothing waited for the rest


def test_an_interruption_in_this_process_ends_the_workers_and_is_raised():
    import multiprocessing

    import pytest

    before = set(multiprocessing.active_children())

    def interrupted() -> None:
        raise KeyboardInterrupt

    import time

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        list(ordered_map(_slow_square, list(range(100)), 2, meanwhile=interrupted))  # 10 s of work
    assert not _new_children(before)
    assert time.monotonic() - start < 5


def test_no_work_still_runs_the_callers_own_share():
    done = []
    assert list(ordered_map(_square, [], 2, meanwhile=lambda: done.append(True))) == []
    assert done == [True]


def test_workers_end_themselves_when_the_main_process_is_killed_outright(tmp_path):
    """SIGKILL cannot be handled: the workers notice their parent is gone and end."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = (
        "import os, sys, time\n"
        "from kvcompliance.parallel import ordered_map\n"
        "def hold(x):\n"
        "    open(os.path.join(sys.argv[1], str(os.getpid())), 'w').close()\n"
        "    time.sleep(300)\n"
        "list(ordered_map(hold, list(range(40)), 2))\n"
    )
    main = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2:
        assert time.monotonic() < deadline and main.poll() is None
        time.sleep(0.05)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    main.send_signal(signal.SIGKILL)
    main.wait()

    def running(pid: int) -> bool:
        try:
            return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False

    deadline = time.monotonic() + 10
    while any(running(pid) for pid in workers):
        if time.monotonic() > deadline:
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError("a worker outlived its killed parent")
        time.sleep(0.05)
