"""Reading in reader processes: a file that asks for too much memory is listed as too large,
whatever its XML says, and every other file is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from kvcompliance.catalogue import load_catalogue
from kvcompliance.ingest import worker
from kvcompliance.ingest.record import library_refusal
from kvcompliance.ingest.worker import limit_memory, read_files
from kvcompliance.model import RejectedFile, ReturnRecord
from kvcompliance.parallel import ordered_map
from samples import fill_form  # tools/
from kvcompliance.template import write_template

CATALOGUE = load_catalogue()
LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="the reader processes' memory limit needs Linux")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

#: One cell far from the form, written in ways XML allows. python-calamine holds the sheet
#: from A1 to that cell as one block: XFD3000 is 1.5 GB, XFD1048576 half a terabyte.
FAR_CELLS = {
    "enkele-aanhalingstekens": b"<row r='3000'><c r='XFD3000' t='n'><v>1</v></c></row>",
    "spaties": b'<row r = "1048576"><c r = "XFD1048576"><v>1</v></c></row>',
    "nieuwe-regel": b'<row r="3000"><c\nr="XFD3000"\n><v>1</v></c></row>',
    "voorvoegsel": f'<x:row xmlns:x="{MAIN}" r="3000"><x:c r="XFD3000"><x:v>1</x:v></x:c></x:row>'.encode(),
    "gewoon": b'<row r="3000"><c r="XFD3000"><v>1</v></c></row>',
}


@pytest.fixture(scope="module")
def good_return(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("form")
    write_template(folder / "uitvraag.xlsx", CATALOGUE)
    return fill_form(folder / "uitvraag.xlsx", {"aanbieder_naam": "Stichting Gewoon", "kvk_nummer": "01234567"},
                     folder / "opgave.xlsx")


def with_far_cell(source: Path, target: Path, cell: bytes) -> Path:
    """A copy of the return ``source`` with ``cell`` added to each of its sheets."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"</sheetData>", cell + b"</sheetData>")
            archive.writestr(info.filename, data)
    return target


def hostile_inbox(folder: Path, good_return: Path, cells: dict[str, bytes]) -> Path:
    folder.mkdir()
    (folder / "a-gewone-opgave.xlsx").write_bytes(good_return.read_bytes())
    for name, cell in cells.items():
        with_far_cell(good_return, folder / f"ver-{name}.xlsx", cell)
    (folder / "z-gewone-opgave.xlsx").write_bytes(good_return.read_bytes())
    return folder


@LINUX_ONLY
def test_a_far_cell_is_too_large_however_the_xml_spells_it(tmp_path, good_return):
    inbox = hostile_inbox(tmp_path / "opgaven", good_return, FAR_CELLS)
    paths = sorted(inbox.iterdir())
    start = time.perf_counter()
    outcomes = dict(zip((p.name for p in paths), read_files(paths, inbox, None, jobs=2)))
    assert time.perf_counter() - start < 30
    for name in ("a-gewone-opgave.xlsx", "z-gewone-opgave.xlsx"):
        assert isinstance(outcomes[name], ReturnRecord) and outcomes[name].values["aanbieder_naam"] == "Stichting Gewoon"
    for name in FAR_CELLS:
        outcome = outcomes[f"ver-{name}.xlsx"]
        assert isinstance(outcome, RejectedFile), name
        assert outcome.kind == "te groot" and "werkgeheugen" in outcome.reason, (name, outcome.reason)
        assert outcome.source.sha256  # listed with its provenance, like every other file


@LINUX_ONLY
def test_the_audit_stays_within_its_memory_and_says_nothing_of_it(tmp_path, good_return):
    """The whole program, as an officer runs it: without the limit the far cell alone takes
    1.6 GB; with it no process of the audit comes near, and no Rust message reaches the screen."""
    inbox = hostile_inbox(tmp_path / "opgaven", good_return, {"enkele-aanhalingstekens": FAR_CELLS["enkele-aanhalingstekens"]})
    out = tmp_path / "uit"
    with (tmp_path / "stdout").open("wb") as stdout, (tmp_path / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kvcompliance", "audit", str(inbox), "-o", str(out), "--jobs", "1"],
            stdout=stdout, stderr=stderr, env={**os.environ, "RUST_BACKTRACE": "1"},
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    shown = (tmp_path / "stdout").read_text() + (tmp_path / "stderr").read_text()
    assert process.returncode == 1, shown  # done, with a file not processed
    assert usage.ru_maxrss < 800 * 1024, usage.ru_maxrss  # kB: the largest process of the audit
    assert "memory allocation" not in shown and "panicked" not in shown and "Traceback" not in shown
    log = {entry["bestand"]: entry for entry in map(json.loads, (out / "verwerking.jsonl").read_text().splitlines())}
    assert log["ver-enkele-aanhalingstekens.xlsx"]["soort"] == "te groot"
    assert log["a-gewone-opgave.xlsx"]["uitkomst"] == log["z-gewone-opgave.xlsx"]["uitkomst"] == "gecontroleerd"


def _allocate(megabytes: int) -> str:
    """In a fresh process: limit the memory to 64 MB more than now, then ask for more."""
    limit_memory(64 * 1024 * 1024)
    try:
        block = bytearray(megabytes * 1024 * 1024)
    except MemoryError:
        return "te groot"
    return f"{len(block) // (1024 * 1024)} MB"


@LINUX_ONLY
def test_the_memory_limit_holds_in_a_process():
    assert list(ordered_map(_allocate, [16, 256], 1, isolate=True)) == ["16 MB", "te groot"]


def test_what_a_reader_writes_never_reaches_the_terminal(tmp_path, good_return, capfd, monkeypatch):
    """Native code (python-calamine's Rust) may write to stderr; the officer's screen stays clean."""
    real = worker.read_return

    def chatty(*args):
        os.write(2, b"thread '<unnamed>' panicked at src/lib.rs\n")
        return real(*args)

    monkeypatch.setattr(worker, "read_return", chatty)  # reader processes are forked
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    (inbox / "opgave.xlsx").write_bytes(good_return.read_bytes())
    (outcome,) = read_files([inbox / "opgave.xlsx"], inbox, None, jobs=1)
    assert isinstance(outcome, ReturnRecord)
    assert "panicked" not in capfd.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opgaven"]  # the spool folder is gone


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (MemoryError(), "te groot"),
        (type("PanicException", (BaseException,), {})("capacity overflow"), "te groot"),
        (type("PanicException", (BaseException,), {})("PyObject pointer is null"), "te groot"),
        (type("PanicException", (BaseException,), {})("invalid date"), "onleesbaar"),
        (type("PasswordError", (Exception,), {})(), "beveiligd"),
        (PermissionError(13, "Permission denied"), "onleesbaar"),
    ],
)
def test_a_library_error_while_reading_becomes_a_reason(error, kind):
    refusal = library_refusal(error)
    assert refusal.kind == kind and refusal.reason.endswith(".")
