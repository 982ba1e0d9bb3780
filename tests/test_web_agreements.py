"""Recording what was agreed without a command line: the results page takes the workbooks in
which the officer typed the agreements and stores them in the audit's dossier, as
``kvcompliance afspraken`` does. Driven in Chromium; the dossier is read back with sqlite3."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from tests.test_dossier_years import type_agreement
from tests.webtools import RunningServer, audit_samples, launch_chromium, need_chromium

pytestmark = pytest.mark.browser



def _first_agenda_key(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    return next(cells[-1].value for cells in rows[1:] if cells[-1].value)


def _audit(server: RunningServer, **choices: str) -> str:
    return audit_samples(server, **choices)


def test_the_officer_stores_the_agreements_from_the_results_page(tmp_path):
    executable = need_chromium()
    from playwright.sync_api import expect, sync_playwright

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = _audit(server, dossier="nieuw:dossier.sqlite")
        bare = _audit(server)  # no dossier: nowhere to store
        # what the officer does after the conversation: the provider's workbook, with the agreement typed in
        written = sorted((server.state.workspace.audit(audit_id).output / "accountgesprek").iterdir())[0]
        typed = tmp_path / "na het gesprek" / written.name
        typed.parent.mkdir()
        shutil.copy2(written, typed)
        key = _first_agenda_key(typed)
        type_agreement(typed, key, "Meldcode vaststellen in het MT", "Directeur", "1 maart")
        not_a_workbook = tmp_path / "na het gesprek" / "notulen.txt"
        not_a_workbook.write_text("notulen", encoding="utf-8")

        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, executable)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            page.goto(f"{server.base}/controles/{bare}/resultaten")
            expect(page.locator("#afspraken")).to_contain_text("Deze controle heeft geen dossier")
            assert page.locator("#bewaar-afspraken").count() == 0

            page.goto(f"{server.base}/controles/{audit_id}/resultaten")
            knop = page.get_by_role("button", name="Afspraken bewaren")
            expect(knop).to_be_disabled()  # nothing added yet
            page.locator("#afspraken-bestanden").set_input_files([str(not_a_workbook), str(typed)])
            melding = page.locator("#melding-afspraken")
            expect(melding).to_contain_text("notulen.txt is geen werkboek")
            expect(page.locator("#afspraken-wachtend")).to_have_text(f"Klaar om te bewaren: {typed.name}.")
            expect(knop).to_be_enabled()
            page.locator("#afspraken-bestanden").set_input_files([str(not_a_workbook)])  # only a file that is refused
            expect(melding).to_contain_text("notulen.txt is geen werkboek")
            expect(page.locator("#afspraken-wachtend")).to_have_text(f"Klaar om te bewaren: {typed.name}.")
            expect(knop).to_be_enabled()  # what waited still waits
            knop.click()
            expect(melding).to_contain_text("1 werkboek gelezen: 1 afspraak van 1 aanbieder bewaard in dossier.sqlite.")
            expect(page.locator("#afspraken-wachtend")).to_have_text("")
            expect(knop).to_be_disabled()
            # the page, opened again, has nothing waiting: the copies are gone, the agreement is kept
            page.reload()
            expect(page.get_by_role("button", name="Afspraken bewaren")).to_be_disabled()
            browser.close()

        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            rows = db.execute("SELECT sleutel, afspraak, wie, termijn, werkboek FROM afspraken").fetchall()
        assert rows == [(key, "Meldcode vaststellen in het MT", "Directeur", "1 maart", typed.name)]
        assert not (server.state.workspace.audit(audit_id).folder / "afspraken").exists()
    finally:
        server.stop()


def test_agreements_are_refused_in_dutch_without_a_dossier_or_without_workbooks(tmp_path):
    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        bare = _audit(server)
        status, _, body = server.post(f"/controles/{bare}/afspraken/bestand?naam=a.xlsx", b"PK",
                                      {"Content-Type": "application/octet-stream"})
        assert status == 400 and "Deze controle heeft geen dossier" in body.decode()
        with_dossier = _audit(server, dossier="nieuw:dossier.sqlite")
        status, _, body = server.post(f"/controles/{with_dossier}/afspraken")
        assert status == 400 and "Voeg eerst de werkboeken toe" in body.decode()
        # Excel's lock file beside an open workbook: said at once, not passed over later without a word
        status, _, body = server.post(f"/controles/{with_dossier}/afspraken/bestand?naam=~$werkboek.xlsx", b"lock",
                                      {"Content-Type": "application/octet-stream"})
        assert status == 400
        assert json.loads(body)["fout"] == "~$werkboek.xlsx is niet toegevoegd: het is een tijdelijk bestand van Excel of Word, geen werkboek."
        # a file with a workbook's name that is no workbook: named, nothing stored, nothing lost
        status, _, body = server.post(f"/controles/{with_dossier}/afspraken/bestand?naam=kapot.xlsx", b"geen zip",
                                      {"Content-Type": "application/octet-stream"})
        assert status == 200, body
        status, _, body = server.post(f"/controles/{with_dossier}/afspraken")
        answer = body.decode()
        assert status == 200 and "0 werkboeken gelezen" in answer and "kapot.xlsx" in answer
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            assert db.execute("SELECT count(*) FROM afspraken").fetchone() == (0,)
    finally:
        server.stop()


def _typed(server: RunningServer, audit_id: str, folder: Path, index: int, agreement: str) -> tuple[Path, str]:
    """A provider workbook the audit wrote, with ``agreement`` typed in its first agenda row."""
    written = sorted((server.state.workspace.audit(audit_id).output / "accountgesprek").iterdir())[index]
    folder.mkdir(exist_ok=True)
    typed = folder / written.name
    shutil.copy2(written, typed)
    key = _first_agenda_key(typed)
    type_agreement(typed, key, agreement, "Directeur", "1 maart")
    return typed, key


def _add(server: RunningServer, audit_id: str, path: Path, name: str | None = None):
    from urllib.parse import quote

    return server.post(f"/controles/{audit_id}/afspraken/bestand?naam={quote(name or path.name)}", path.read_bytes(),
                       {"Content-Type": "application/octet-stream"})


def _zip_bomb(source: Path, target: Path, megabytes: int) -> None:
    """``source`` with its shared strings grown to ``megabytes`` of the same few bytes: a
    workbook of some 100 kB on disk that openpyxl would unpack into minutes and gigabytes."""
    import zipfile

    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename != "xl/sharedStrings.xml":
                out.writestr(info, data)
                continue
            start, end = data.index(b"<si>"), data.rindex(b"</sst>")
            with out.open(info.filename, "w", force_zip64=True) as handle:
                handle.write(data[:end])
                block = b"<si><t>xy</t></si>" * 50_000
                for _ in range(megabytes * 1024 * 1024 // len(block)):
                    handle.write(block)
                handle.write(b"</sst>")
        assert "xl/sharedStrings.xml" in z.namelist() and start < end


def test_a_zip_bomb_named_xlsx_is_refused_at_once_and_the_other_workbooks_are_stored(tmp_path):
    import json
    import time

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = _audit(server, dossier="nieuw:dossier.sqlite")
        typed, key = _typed(server, audit_id, tmp_path / "na het gesprek", 0, "Meldcode vaststellen")
        bomb = tmp_path / "bom.xlsx"  # another provider's workbook as the audit wrote it, its shared strings grown
        _zip_bomb(sorted((server.state.workspace.audit(audit_id).output / "accountgesprek").iterdir())[1], bomb, 60)
        assert bomb.stat().st_size < 2 * 1024 * 1024  # far under the upload limit
        for path in (typed, bomb):
            assert _add(server, audit_id, path)[0] == 200
        started = time.monotonic()
        status, _, body = server.post(f"/controles/{audit_id}/afspraken")
        assert time.monotonic() - started < 20  # not unpacked: openpyxl would take minutes
        answer = json.loads(body)
        assert status == 200, answer
        assert answer["regels"][0].startswith("1 werkboek gelezen: 1 afspraak van 1 aanbieder bewaard")
        assert any("bom.xlsx" in line and "zip-bom" in line and "niet geopend" in line for line in answer["problemen"]), answer
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            assert db.execute("SELECT sleutel, werkboek FROM afspraken").fetchall() == [(key, typed.name)]
    finally:
        server.stop()


def test_a_workbook_added_while_others_are_stored_still_waits_afterwards(tmp_path):
    import json
    import threading
    import time

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = _audit(server, dossier="nieuw:dossier.sqlite")
        first, first_key = _typed(server, audit_id, tmp_path / "eerste", 0, "Meldcode vaststellen")
        second, _ = _typed(server, audit_id, tmp_path / "tweede", 1, "Aandachtsfunctionaris benoemen")
        assert _add(server, audit_id, first)[0] == 200
        answers = []
        # another program writes to the dossier: storing waits for it, as it would for a slow disk
        db = sqlite3.connect(server.state.workspace.root / "dossier.sqlite", isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        storing = threading.Thread(target=lambda: answers.append(server.post(f"/controles/{audit_id}/afspraken")))
        storing.start()
        time.sleep(2)  # the first workbook has been read; storing waits for the dossier
        status, _, body = _add(server, audit_id, second)  # the officer adds the next one meanwhile
        assert status == 200 and second.name in json.loads(body)["wachtend"]
        db.execute("COMMIT")
        db.close()
        storing.join(30)
        status, _, body = answers[0]
        answer = json.loads(body)
        assert status == 200 and answer["wachtend"] == [second.name], answer
        waiting = server.state.workspace.audit(audit_id).folder / "afspraken"
        assert [p.name for p in waiting.iterdir() if not p.name.startswith(".")] == [second.name]
        status, _, page = server.request("GET", f"/controles/{audit_id}/resultaten")
        assert f"Klaar om te bewaren: {second.name}." in page.decode()
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as check:
            assert (first_key,) in check.execute("SELECT sleutel FROM afspraken").fetchall()  # (the second too, if read in time)
    finally:
        server.stop()


def test_a_dossier_moved_away_after_the_audit_is_named_not_denied(tmp_path):
    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = _audit(server, dossier="nieuw:dossier.sqlite")
        typed, _ = _typed(server, audit_id, tmp_path / "na het gesprek", 0, "Meldcode vaststellen")
        dossier = server.state.workspace.root / "dossier.sqlite"
        dossier.rename(tmp_path / "elders.sqlite")
        status, _, body = _add(server, audit_id, typed)
        text = body.decode()
        assert status == 400 and "Het dossier dossier.sqlite is niet meer te vinden" in text and "geen dossier" not in text
        status, _, page = server.request("GET", f"/controles/{audit_id}/resultaten")
        assert "Het dossier dossier.sqlite is niet meer te vinden" in page.decode()
        assert "Deze controle heeft geen dossier" not in page.decode()
        (tmp_path / "elders.sqlite").rename(dossier)  # put back: storing works again
        assert _add(server, audit_id, typed)[0] == 200
        status, _, body = server.post(f"/controles/{audit_id}/afspraken")
        assert status == 200 and "1 afspraak van 1 aanbieder bewaard" in body.decode()
    finally:
        server.stop()
