"""An interrupted audit adds nothing to the dossier: real processes, killed with SIGKILL
(no clean-up runs), once while the workbooks are being written and once in the middle of
storing, after part of the returns went into the transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvcompliance.cli import main
from kvcompliance.dossier import TABLES
from kvcompliance.outputs import PROVIDER_DIR, STAGING_PREFIX
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_dossier import digest
from tests.test_validate import BASE

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL bestaat alleen op Unix")

ROOT = Path(__file__).resolve().parent.parent


def rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}


@pytest.fixture
def last_year(tmp_path, blank_form):  # noqa: F811
    """A dossier holding the 2024 audit, and an inbox of 2025 returns."""
    old = tmp_path / "opgaven-2024"
    old.mkdir()
    for n in range(3):
        fill(blank_form, old / f"o{n}.xlsx", {**BASE, "verslagjaar": 2024, "kvk_nummer": f"2000000{n}", "contractnummer": f"C-{n}"})
    dossier = tmp_path / "dossier.sqlite"
    done = CliRunner().invoke(main, ["audit", str(old), "-o", str(tmp_path / "uit-2024"), "--dossier", str(dossier), "--stil"])
    assert done.exit_code == 0, done.output
    return tmp_path, dossier


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_killing_an_audit_while_it_writes_the_workbooks_leaves_the_dossier_as_it_was(last_year, blank_form):  # noqa: F811
    tmp_path, dossier = last_year
    inbox = tmp_path / "opgaven-2025"
    inbox.mkdir()
    for n in range(20):  # enough workbooks to be caught halfway
        fill(blank_form, inbox / f"o{n:02d}.xlsx", {**BASE, "kvk_nummer": f"3{n:07d}", "contractnummer": f"D-{n}"})
    before, content = digest(dossier), rows(dossier)
    out = tmp_path / "uit-2025"
    process = subprocess.Popen(
        [sys.executable, "-m", "kvcompliance", "audit", str(inbox), "-o", str(out), "--dossier", str(dossier), "--jobs", "1", "--stil"],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list(out.glob(f"{STAGING_PREFIX}*/{PROVIDER_DIR}/*.xlsx")):  # the workbooks are being written
        assert process.poll() is None, "the audit ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert digest(dossier) == before and rows(dossier) == content


#: Runs one audit in a process of its own and stores it, two returns at a time; the
#: progress of the store stops it after the first two, inside the transaction, until it
#: is killed.
STORE_HALFWAY = """
import sys, time
from pathlib import Path
from kvcompliance.audit import run_audit
from kvcompliance.dossier import open_dossier, store
from kvcompliance.dossier.history import attach_history
from kvcompliance.dossier.store import store_audit

store.CHUNK = 2

class Halfway:
    count = 0
    def stage(self, label, total):
        pass
    def step(self, n=1):
        self.count += n
        if self.count == 2:
            print("halverwege", flush=True)
            time.sleep(300)
    def done(self):
        pass

inbox, path = sys.argv[1:3]
dossier = open_dossier(path)
result = attach_history(run_audit(Path(inbox), jobs=1), dossier)
store_audit(dossier, result, progress=Halfway())
print("opgeslagen", flush=True)
"""


def test_killing_an_audit_halfway_through_storing_it_adds_nothing(last_year, blank_form):  # noqa: F811
    tmp_path, dossier = last_year
    inbox = tmp_path / "opgaven-2025"
    inbox.mkdir()
    for n in range(4):
        fill(blank_form, inbox / f"o{n}.xlsx", {**BASE, "kvk_nummer": f"2000000{n}", "contractnummer": f"C-{n}"})
    before, content = digest(dossier), rows(dossier)
    process = subprocess.Popen([sys.executable, "-c", STORE_HALFWAY, str(inbox), str(dossier)], env=_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "halverwege", process.stderr.read()
        journal = dossier.with_name(dossier.name + "-journal")
        assert journal.exists() and journal.stat().st_size > 0  # two returns are in the open transaction
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    # The unfinished transaction never reached the file; its journal is left behind, and
    # SQLite ignores or rolls it back when the file is next opened.
    assert digest(dossier) == before
    assert rows(dossier) == content
    # and the dossier is fit for the next audit
    again = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--dossier", str(dossier), "--stil"])
    assert again.exit_code == 0, again.output
    assert "4 opgaven over 2025 bewaard; jaren in het dossier: 2024, 2025" in again.output
    assert not journal.exists()
    assert len(rows(dossier)["opgaven"]) == len(content["opgaven"]) + 4


#: ``kvcompliance audit`` as the console runs it, with Ctrl-C arriving the moment the
#: output folder's swap is committed (its journal removed): the narrowest window there is.
CTRL_C_AT_COMMIT = """
import os, pathlib, signal, sys
from kvcompliance.outputs import JOURNAL_FILE

unlink = pathlib.Path.unlink

def committing(self, *args, **kwargs):
    unlink(self, *args, **kwargs)
    if self.name == JOURNAL_FILE:
        os.kill(os.getpid(), signal.SIGINT)

pathlib.Path.unlink = committing
sys.argv = ["kvcompliance", *sys.argv[1:]]
from kvcompliance.cli import run
run()
"""


def test_ctrl_c_at_the_moment_the_new_output_is_in_place_is_reported_truthfully(last_year, blank_form):  # noqa: F811
    """Ctrl-C after the swap is committed cannot undo it: the run stores the year in the
    dossier and reports the new output, and says the stop came too late; never "Afgebroken"
    with the new output in place and the dossier a year behind."""
    tmp_path, dossier = last_year
    inbox = tmp_path / "opgaven-2025"
    inbox.mkdir()
    for n in range(3):
        fill(blank_form, inbox / f"o{n}.xlsx", {**BASE, "kvk_nummer": f"2000000{n}", "contractnummer": f"C-{n}"})
    out = tmp_path / "uit-2025"
    done = subprocess.run([sys.executable, "-c", CTRL_C_AT_COMMIT, "audit", str(inbox), "-o", str(out), "--dossier",
                           str(dossier), "--jobs", "1", "--stil"], env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Afgebroken" not in done.stderr
    assert "niet gestopt" in done.stderr and "het dossier is bijgewerkt" in done.stderr
    assert "3 opgaven over 2025 bewaard" in done.stdout
    assert len(list((out / PROVIDER_DIR).glob("*.xlsx"))) == 3
    with sqlite3.connect(dossier) as db:
        assert db.execute("SELECT controlejaar FROM controles ORDER BY controlejaar").fetchall() == [(2024,), (2025,)]
    # in a process that goes on after the command (a test, a script), Ctrl-C is Ctrl-C again afterwards
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    again = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"])
    assert again.exit_code == 0, again.output
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
