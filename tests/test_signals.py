"""SIGINT and SIGTERM: the workers end too, no process is left behind, and the output
folder is as it was before the run.

The program runs as a real process (``kvcompliance.cli.run``, as the installed command
does). To signal it at a known moment without sleeps in the program, the test's driver
holds one of the program's own steps until the test has sent its signal: the step
writes a marker file and then waits. Held in a worker (the reader), the worker is busy
when the main process is stopped; held in the main process (the overview, written
while the workers write the provider workbooks), the pool is running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.test_outputs import SAMPLES, snapshot

ROOT = Path(__file__).parent.parent

DRIVER = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from pathlib import Path

    multiprocessing.set_start_method("fork", force=True)  # the workers inherit the hold below
    module, name, marks = os.environ["HOLD_MODULE"], os.environ["HOLD_NAME"], Path(os.environ["HOLD_MARKS"])
    target = __import__(module, fromlist=[name])

    def hold(*args, **kwargs):
        (marks / str(os.getpid())).touch()
        time.sleep(300)  # the test signals long before this ends

    setattr(target, name, hold)
    from kvcompliance.cli import run

    sys.argv = ["kvcompliance", *sys.argv[1:]]
    run()
    """
)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its parent's record is left


def _wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("signalen") / "opgaven"
    folder.mkdir()
    for path in sorted(SAMPLES.glob("*.xlsx"))[:17]:  # 17 returns: enough for a pool of two writers
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to find the worker processes")
@pytest.mark.parametrize(
    ("hold", "signum", "whole_group", "code"),
    [
        # Ctrl-C in a terminal: every process of the job gets SIGINT; the reader workers are busy.
        (("kvcompliance.ingest.worker", "read_one"), signal.SIGINT, True, 130),
        # `kill PID` (a service manager, a closed session): only the main process gets SIGTERM.
        (("kvcompliance.ingest.worker", "read_one"), signal.SIGTERM, False, 143),
        # SIGTERM while the provider workbooks are being written by the pool.
        (("kvcompliance.report.overview", "write_overview"), signal.SIGTERM, False, 143),
    ],
    ids=["sigint-reading", "sigterm-reading", "sigterm-writing"],
)
def test_a_signal_ends_every_process_and_leaves_the_output_folder_as_it_was(tmp_path, inbox, hold, signum, whole_group, code):
    out = tmp_path / "uitvoer"
    first = subprocess.run([sys.executable, "-m", "kvcompliance", "audit", str(inbox), "-o", str(out), "--stil"],
                           capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    inputs = snapshot(inbox)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "HOLD_MODULE": hold[0], "HOLD_NAME": hold[1], "HOLD_MARKS": str(marks)}
    program = subprocess.Popen(
        [sys.executable, "-c", DRIVER, "audit", str(inbox), "-o", str(out), "--stil", "--jobs", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        _wait_for(lambda: any(marks.iterdir()) or program.poll() is not None)
        assert program.poll() is None, program.communicate()
        workers = _children(program.pid)
        assert workers, "the run should have worker processes now"
        if whole_group:
            os.killpg(program.pid, signum)
        else:
            os.kill(program.pid, signum)
        _, stderr = program.communicate(timeout=60)
    finally:
        if program.poll() is None:
            os.killpg(program.pid, signal.SIGKILL)
    assert program.returncode == code, stderr
    assert "Afgebroken." in stderr
    assert "Traceback" not in stderr
    _wait_for(lambda: not any(_alive(pid) for pid in workers), 10)
    assert snapshot(out) == before  # no lock, no staging, the previous run whole
    assert snapshot(inbox) == inputs
