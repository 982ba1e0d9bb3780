"""The web app serves one whole run, never a mix of two: its downloads and pages read the
output folder only when no audit is swapping its files in (real processes hold the folder
or die in their swap), and put back a swap an audit died in, as the commands do."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from urllib.parse import quote

import pytest

from kvcompliance.outputs import JOURNAL_FILE, MANIFEST_FILE, PROVIDER_DIR
from tests.test_outputs import CRASHING_SWAP, ROOT
from tests.webtools import RunningServer, audit_samples, wait_for_run


#: An audit from the command line (another process) holding the output folder until told.
HOLDING = """
import sys
from pathlib import Path
from kvcompliance.outputs import OutputFolder
with OutputFolder(Path(sys.argv[1])):
    print("bezig", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def audited(tmp_path):
    """A web server with one audit of two sample returns, run; and that audit's id."""
    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        yield server, audit_samples(server, "0[1-2]_*.xlsx")
    finally:
        server.stop()


def _zip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_while_an_audit_holds_the_folder_a_download_says_so_in_dutch_and_waits_a_moment(audited):
    server, audit_id = audited
    output = server.state.workspace.audit(audit_id).output
    overview = (output / "overzicht.xlsx").read_bytes()
    book = sorted((output / PROVIDER_DIR).iterdir())[0]
    holder = subprocess.Popen([sys.executable, "-c", HOLDING, str(output)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "bezig"
        for path in ("download/overzicht.xlsx", f"werkboek/{quote(book.name)}", "download/werkboeken.zip"):
            started = time.monotonic()
            status, headers, body = server.request("GET", f"/controles/{audit_id}/{path}", headers={"Accept": "text/html"})
            assert status == 409, path
            assert time.monotonic() - started >= 4  # it waited a moment for the audit to finish
            page = body.decode()
            assert "Even geduld: de uitvoer is in gebruik" in page
            assert "een controle vervangt er de bestanden" in page and "Probeer het over een minuut opnieuw" in page
            assert "loopt al een controle (proces" in page  # who holds it
            assert f'href="/controles/{audit_id}">Terug naar de controle' in page
        # an audit that ends within that moment: the download gets the folder as it left it
        answer: dict = {}

        def ask() -> None:
            answer["status"], _, answer["body"] = server.request("GET", f"/controles/{audit_id}/download/overzicht.xlsx")

        asking = threading.Thread(target=ask)
        asking.start()
        time.sleep(1)
        holder.stdin.write("\n")
        holder.stdin.flush()
        asking.join(30)
        assert answer["status"] == 200 and answer["body"] == overview
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10  # the copies go once the response is sent
    while [p for p in (output.parent / "downloads").iterdir() if p.name.startswith(".kopie-")]:
        assert time.monotonic() < deadline, "the copies of a download are left behind"
        time.sleep(0.05)


def test_after_an_audit_died_in_its_swap_the_downloads_are_the_previous_run_whole(audited):
    server, audit_id = audited
    output = server.state.workspace.audit(audit_id).output
    overview = (output / "overzicht.xlsx").read_bytes()
    books = {f"{PROVIDER_DIR}/{p.name}": p.read_bytes() for p in (output / PROVIDER_DIR).iterdir()}
    old = json.loads((output / MANIFEST_FILE).read_text(encoding="utf-8"))["bestanden"]
    # the next audit (a power cut, kill -9) dies once every old file is out and two new ones are in
    new = [f"{PROVIDER_DIR}/2026_Nieuw_C-9.xlsx", "bevindingen.csv", "overzicht.xlsx", "verwerking.jsonl", "verzendlijst.csv"]
    crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(output), str(len(old) + 1 + 3), *new],
                             capture_output=True, text=True, cwd=ROOT)
    assert crashed.returncode == 9 and (output / JOURNAL_FILE).exists()
    assert sorted(p.name for p in (output / PROVIDER_DIR).iterdir()) == ["2026_Nieuw_C-9.xlsx"]  # a mix on disk
    assert not (output / "overzicht.xlsx").exists()

    status, _, body = server.request("GET", f"/controles/{audit_id}/download/werkboeken.zip")
    assert status == 200 and _zip(body) == books
    assert not (output / JOURNAL_FILE).exists()  # put back first, as the commands do
    status, _, body = server.request("GET", f"/controles/{audit_id}/download/overzicht.xlsx")
    assert status == 200 and body == overview
    page = server.request("GET", f"/controles/{audit_id}/resultaten")[2].decode()
    assert all(f"werkboek/{quote(name.split('/', 1)[1])}" in page for name in books)


def test_an_audit_run_into_the_folder_from_elsewhere_is_never_shown_beside_the_outcome_in_memory(audited):
    server, audit_id = audited
    audit = server.state.workspace.audit(audit_id)
    assert server.request("GET", f"/controles/{audit_id}/resultaten")[0] == 200
    before = server.state.results[audit_id].run
    done = subprocess.run([sys.executable, "-m", "kvcompliance", "audit", str(audit.inbox), "-o", str(audit.output), "--stil",
                           "--jaar", "2025"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    status, _, body = server.request("GET", f"/controles/{audit_id}/resultaten")
    assert status == 200 and "De uitkomst wordt ingelezen" in body.decode()  # read again, not the outcome of before
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    assert server.request("GET", f"/controles/{audit_id}/resultaten")[0] == 200
    assert server.state.results[audit_id].run not in (None, before)
