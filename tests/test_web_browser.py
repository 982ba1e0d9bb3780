"""The whole year in a real browser: Chromium from the distribution, driven by Playwright.

The officer's path without a command line: make an audit (settings from the work folder,
a register uploaded), download the forms, drop in the returns (dragged files, a chosen
file list, a folder and a zip), run the audit, filter the call list, open a provider,
download everything, and get exactly what ``kvcompliance audit`` writes for the same
files. Then the safety rules, as a browser meets them.

Screenshots of the main pages are taken on the way; with KVCOMPLIANCE_SCREENSHOTS=MAP
they are kept in MAP (the README shows the ones in docs/screenshots/).
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvcompliance.cli import main
from kvcompliance.report.styles import run_date_text
from kvcompliance.settings import example_text
from kvcompliance.web.app import YEAR_GIVEN
from kvcompliance.web.uploads import Limits
from tests.webtools import RunningServer, launch_chromium, need_chromium, same_workbook

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
REGISTER = (
    "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
    "EV-2025-JH-0589;Stichting Jeugdhulp De Kern;12345678;jeugdhulp;info@dekern.example\n"
    "EV-2025-JH-0885;Horizon Jeugdzorg B.V.;87654321;jeugdhulp;post@horizon.example\n"
    "EV-2025-XX-9999;Aanbieder Zonder Opgave;11223344;wmo;info@zonder.example\n"
)
WIDE = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def chromium():
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        yield browser
        browser.close()


def screenshot(page, tmp_path: Path, name: str, full_page: bool = True) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    keep = os.environ.get("KVCOMPLIANCE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(keep) / path.name)
    return path


def _returns(tmp_path: Path) -> Path:
    """The sample returns, with times a zip file can hold exactly (whole even seconds)."""
    folder = tmp_path / "opgaven"
    shutil.copytree(SAMPLES, folder)
    for n, path in enumerate(sorted(folder.iterdir())):
        stamp = 1_740_000_000 + 2 * n
        os.utime(path, (stamp, stamp))
    return folder


def _drop(page, files: list[Path]) -> None:
    """Drag ``files`` onto the drop zone: a synthetic drop event with a DataTransfer."""
    payload = [{"name": p.name, "data": list(p.read_bytes()), "modified": int(p.stat().st_mtime * 1000)} for p in files]
    page.evaluate(
        """(files) => {
            const transfer = new DataTransfer();
            for (const f of files) transfer.items.add(new File([new Uint8Array(f.data)], f.name, {lastModified: f.modified}));
            const zone = document.getElementById("sleepvak");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }
        }""",
        payload,
    )


def _added(page, expected: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#toevoegen-tekst")).to_have_text(expected, timeout=60_000)


def _download(page, trigger) -> bytes:
    with page.expect_download() as info:
        trigger()
    return Path(info.value.path()).read_bytes()


def test_the_whole_year_in_the_browser_gives_what_the_cli_writes(chromium, tmp_path):
    from playwright.sync_api import expect

    returns = _returns(tmp_path)
    root = tmp_path / "werkmap"
    root.mkdir()
    (root / "kvcompliance.toml").write_text(example_text(), encoding="utf-8")
    register = tmp_path / "contracten.csv"
    register.write_text(REGISTER, encoding="utf-8")
    server = RunningServer(root, jobs=2)
    try:
        page = chromium.new_page(viewport=WIDE, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))

        # --- start: settings chosen from the work folder, the register uploaded
        page.goto(server.url)
        assert page.url == f"{server.base}/"  # the token has left the address
        expect(page.locator("#keuze-instellingen")).to_have_value("werkmap:kvcompliance.toml")
        page.fill("#jaar", "2025")
        page.set_input_files(".invoer-rij[data-soort=contracten] input[type=file]", str(register))
        page.click("text=Controle aanmaken")
        page.wait_for_url("**/controles/controle-2025")
        expect(page.locator("#keuze-contracten")).to_have_value("huidig")
        expect(page.locator("#keuze-instellingen")).to_have_value("huidig")
        assert page.locator(".invoer-rij p.fout").count() == 0

        # --- the forms, with the sender of the settings
        blank = tmp_path / "uitvraag.xlsx"
        blank.write_bytes(_download(page, lambda: page.click("a[href$='/formulier']")))
        from tests.webtools import sheet_values

        assert any("Regio Eemvallei" in str(v) for v in sheet_values(blank).values())
        forms = tmp_path / "formulieren.zip"
        forms.write_bytes(_download(page, lambda: page.click("a[href$='/formulieren']")))
        with zipfile.ZipFile(forms) as archive:
            assert len(archive.namelist()) == 3 and all(n.startswith("uitvraag_") for n in archive.namelist())

        # --- the returns: dragged, chosen, a folder, a zip
        files = sorted(returns.iterdir())
        _drop(page, files[:5])
        _added(page, "5 bestanden toegevoegd.")
        page.set_input_files("#kies-bestanden", [str(p) for p in files[5:10]])
        _added(page, "5 bestanden toegevoegd.")
        folder = tmp_path / "map"
        folder.mkdir()
        for path in files[10:15]:
            shutil.copy2(path, folder / path.name)
        page.set_input_files("#kies-map", str(folder))
        _added(page, "5 bestanden toegevoegd.")
        archive_path = tmp_path / "rest.zip"
        with zipfile.ZipFile(archive_path, "w") as archive:
            for path in files[15:]:
                archive.write(path, f"rest/{path.name}")
        page.set_input_files("#kies-bestanden", str(archive_path))
        _added(page, f"{len(files) - 15} bestanden toegevoegd.")
        expect(page.locator("#aantal-bestanden")).to_have_text(f"{len(files)} bestanden")
        page.locator("#kop-opgaven").click()  # no focus ring in the picture
        screenshot(page, tmp_path, "controle")
        _drop(page, files[:2])  # the same files again: not added twice
        _added(page, "0 bestanden toegevoegd, 2 bestanden stonden er al.")
        expect(page.locator("#aantal-bestanden")).to_have_text(f"{len(files)} bestanden")
        # a wrong file dropped in by mistake is taken out again with its ✕ (the officer's copy stays)
        wrong = tmp_path / "verkeerd" / "contracten-kopie.csv"
        wrong.parent.mkdir()
        wrong.write_text(REGISTER, encoding="utf-8")
        _drop(page, [wrong])
        _added(page, "1 bestand toegevoegd.")
        expect(page.locator("#aantal-bestanden")).to_have_text(f"{len(files) + 1} bestanden")
        page.click("details.bestanden summary")  # the list of files in this audit
        page.click("#bestandenlijst button[data-naam='contracten-kopie.csv']")
        expect(page.locator("#toevoegen-tekst")).to_have_text("contracten-kopie.csv is uit deze controle gehaald.")
        expect(page.locator("#aantal-bestanden")).to_have_text(f"{len(files)} bestanden")
        expect(page.locator("#bestandenlijst li")).to_have_count(len(files))
        assert wrong.is_file()
        assert sorted(p.name for p in server.state.workspace.audit("controle-2025").inbox.iterdir()) == [p.name for p in files]

        # --- the audit, with progress, then the results
        page.click("#start")
        expect(page.locator("#voortgang")).to_be_visible()
        page.wait_for_url("**/controles/controle-2025/resultaten", timeout=180_000)
        rows = page.locator("#bellijst tbody tr")
        expect(rows).to_have_count(19)
        red = page.locator("#bellijst tbody tr[data-status=rood]").count()
        assert red > 0
        page.select_option("#filter-status", "rood")
        expect(page.locator("#bellijst tbody tr:visible")).to_have_count(red)
        expect(page.locator("#filter-telling")).to_have_text(f"{red} van 19 opgaven")
        page.select_option("#filter-status", "")
        page.select_option("#filter-sector", "Jeugdhulp")
        jeugd = page.locator("#bellijst tbody tr[data-sector=Jeugdhulp]").count()
        expect(page.locator("#bellijst tbody tr:visible")).to_have_count(jeugd)
        page.select_option("#filter-sector", "")
        page.fill("#filter-zoek", "horizon")
        expect(page.locator("#bellijst tbody tr:visible")).to_have_count(1)
        page.fill("#filter-zoek", "bestaat niet")
        expect(page.locator("#geen-rijen")).to_be_visible()
        page.fill("#filter-zoek", "")
        expect(page.locator("#niet-verwerkt")).to_contain_text("begroting_2026.xlsx")
        expect(page.locator("#ontbrekend")).to_contain_text("Aanbieder Zonder Opgave")
        page.locator("#filter-zoek").blur()
        # the e-mail drafts, made as kvcompliance verzend makes them; who gets none is listed
        page.click("#maak-concepten")
        expect(page.locator("#melding-concepten")).to_contain_text("concepten gemaakt")
        drafts = _download(page, lambda: page.click("#melding-concepten a"))
        with zipfile.ZipFile(__import__("io").BytesIO(drafts)) as archive:
            assert archive.namelist() and all(n.startswith("verzending/") and n.endswith(".eml") for n in archive.namelist())
        screenshot(page, tmp_path, "resultaten")

        # --- everything downloaded equals what kvcompliance audit writes for the same files
        downloaded = {}
        for name in ("Overzicht", "Alle werkboeken", "Bevindingen", "Verzendlijst", "Verwerkingslog"):
            downloaded[name] = _download(page, lambda: page.click(f".downloads a:text-is('{name}')"))
        cli = tmp_path / "cli"
        cli_settings = tmp_path / "cli-instellingen" / "kvcompliance.toml"  # its own (new) dossier, as the web's was
        cli_settings.parent.mkdir()
        shutil.copy2(root / "kvcompliance.toml", cli_settings)
        done = CliRunner().invoke(main, ["audit", str(returns), "-o", str(cli), "--jaar", "2025", "--stil",
                                         "--instellingen", str(cli_settings), "--contracten", str(register)])
        assert done.exit_code == 1, done.output  # 1: one file is not a return
        web_out = tmp_path / "web"
        (web_out / "accountgesprek").mkdir(parents=True)
        (web_out / "overzicht.xlsx").write_bytes(downloaded["Overzicht"])
        zipped = tmp_path / "werkboeken.zip"
        zipped.write_bytes(downloaded["Alle werkboeken"])
        with zipfile.ZipFile(zipped) as archive:
            archive.extractall(web_out)
        # What may differ: when each ran, how the audit year was given, which folder was read.
        result = server.state.results["controle-2025"].result
        cli_date = sheet_values(cli / "overzicht.xlsx")[("Normen", "C7")]
        replacements = {run_date_text(result.run_date): "<tijd>", cli_date: "<tijd>", YEAR_GIVEN: "<jaar>",
                        "opgegeven met --jaar": "<jaar>", result.inbox: "<map>", str(returns): "<map>"}
        books = sorted(p.name for p in (cli / "accountgesprek").iterdir())
        assert sorted(p.name for p in (web_out / "accountgesprek").iterdir()) == books and len(books) == 19
        for name in ["overzicht.xlsx"] + [f"accountgesprek/{b}" for b in books]:
            assert same_workbook(web_out / name, cli / name, replacements) == [], name
        assert downloaded["Bevindingen"] == (cli / "bevindingen.csv").read_bytes()
        assert downloaded["Verzendlijst"] == (cli / "verzendlijst.csv").read_bytes()
        assert downloaded["Verwerkingslog"] == (cli / "verwerking.jsonl").read_bytes()

        # --- a provider's page: statuses, explanations, agenda; and its workbook
        first = page.locator("#bellijst tbody tr").first
        name = first.locator("td:nth-child(3) a").inner_text()
        first.locator("td:nth-child(3) a").click()
        page.wait_for_url("**/opgave/R*")
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator(".agenda li").first).to_be_visible()
        assert page.locator(".bevindingen tbody tr").count() == len(result.catalogue.active_rules)
        expect(page.locator(".bevindingen")).to_contain_text("Toelichting")
        book = _download(page, lambda: page.click("text=Werkboek downloaden"))
        own = tmp_path / "eigen.xlsx"
        own.write_bytes(book)
        workbook_name = page.locator(".acties .uitleg").inner_text()
        assert same_workbook(own, cli / "accountgesprek" / workbook_name, replacements) == []
        page.set_viewport_size({"width": 1400, "height": 1300})
        screenshot(page, tmp_path, "opgave", full_page=False)
        page.click("text=Volgende")
        page.wait_for_url("**/opgave/R*")
        assert page.locator("h1").inner_text() != name
        assert errors == []
    finally:
        server.stop()

    # --- after a restart the audit is listed, and its results are read again
    again = RunningServer(root, jobs=2)
    try:
        page = chromium.new_page(viewport=WIDE)
        page.goto(again.url)
        expect(page.locator("section[aria-labelledby=kop-eerder] a:text-is('Controle 2025')")).to_be_visible()
        page.fill("#jaar", "2026")
        page.locator("#jaar").blur()
        screenshot(page, tmp_path, "start")
        page.click("a:text-is('Uitkomst')")
        page.wait_for_load_state()
        expect(page.locator("#bellijst tbody tr")).to_have_count(19, timeout=120_000)
        expect(page.locator("main")).to_contain_text("opnieuw ingelezen")
    finally:
        again.stop()


class _Foreign(http.server.BaseHTTPRequestHandler):
    """Another web site on this computer, with a form that posts to kvcompliance."""

    target = ""

    def do_GET(self):  # noqa: N802 - http.server's name
        body = (f'<!doctype html><form method="post" action="{self.target}/controles">'
                '<input name="jaar" value="2031"><button>Verstuur</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_starting_before_any_return_says_what_to_do_and_the_message_goes_once_they_are_added(chromium, tmp_path):
    from playwright.sync_api import expect

    from kvcompliance.web.app import NO_RETURNS

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        page = chromium.new_page(viewport=WIDE)
        page.goto(server.url)
        page.click("text=Controle aanmaken")
        page.wait_for_url("**/controles/controle-2025")
        page.click("#start")
        message = page.locator("#melding-start")
        expect(message).to_have_text(NO_RETURNS)
        assert "stap 3" in NO_RETURNS and "Bestanden kiezen" in NO_RETURNS  # where, and how
        page.set_input_files("#kies-bestanden", [str(SAMPLES / "02_horizon-jeugdzorg-b-v.xlsx")])
        _added(page, "1 bestand toegevoegd.")
        expect(message).to_be_hidden()  # it no longer holds: not left saying there are none
        page.close()
    finally:
        server.stop()


def test_a_run_started_by_mistake_is_stopped_and_nothing_is_written(chromium, tmp_path):
    """Start, then Stoppen: the page says so in a neutral colour, the output folder gets
    nothing, and the run can be started again. The inbox is large (300 returns, one
    process), so the stop always lands while the run is still going, however busy the
    machine is."""
    from playwright.sync_api import expect

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        page = chromium.new_page(viewport=WIDE)
        page.goto(server.url)
        page.fill("#jaar", "2025")
        page.click("text=Controle aanmaken")
        page.wait_for_url("**/controles/controle-2025")
        audit = server.state.workspace.audit("controle-2025")
        audit.inbox.mkdir(parents=True, exist_ok=True)
        sample = (SAMPLES / "01_stichting-jeugdhulp-de-kern.xlsx").read_bytes()
        for n in range(300):  # copied in by hand, as an officer may do
            (audit.inbox / f"opgave-{n:03d}.xlsx").write_bytes(sample)
        page.reload()
        expect(page.locator("#aantal-bestanden")).to_have_text("300 bestanden")

        page.click("#start")
        page.click("#stoppen")
        expect(page.locator("#melding-start")).to_have_text(
            "De controle is gestopt; aan de uitvoer en het dossier is niets veranderd.", timeout=60_000)
        expect(page.locator("#melding-start")).to_have_class("melding let-op")
        expect(page.locator("#fase")).to_have_text("Gestopt")
        expect(page.locator("#start")).to_be_enabled()
        expect(page.locator("#stoppen")).to_be_disabled()
        output = audit.output
        assert not output.exists() or not [p.name for p in output.iterdir()]  # no file, no staging folder, no lock
        assert len(list(audit.inbox.iterdir())) == 300  # the returns are all still there
        page.click("#start")  # and it is not refused
        expect(page.locator("#fase")).not_to_have_text("Gestopt")
        page.click("#stoppen")
        expect(page.locator("#fase")).to_have_text("Gestopt", timeout=60_000)
    finally:
        server.stop()


def test_the_safety_rules_as_a_browser_meets_them(chromium, tmp_path):
    from playwright.sync_api import expect

    server = RunningServer(tmp_path / "werkmap", limits=Limits(file_bytes=100_000), jobs=1)
    foreign = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    _Foreign.target = server.base
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        # without the token: no access
        stranger = chromium.new_context()
        page = stranger.new_page()
        page.goto(server.base + "/")
        expect(page.locator("body")).to_contain_text("Geen toegang")
        stranger.close()

        context = chromium.new_context(viewport=WIDE)
        page = context.new_page()
        page.goto(server.url)
        page.click("text=Controle aanmaken")
        page.wait_for_url("**/controles/controle-*")
        page_audit = page.url.rsplit("/", 1)[1]

        # an upload over the limit: the Dutch message, nothing stored
        big = tmp_path / "groot.xlsx"
        big.write_bytes(os.urandom(150_000))
        page.set_input_files("#kies-bestanden", str(big))
        expect(page.locator("#geweigerd")).to_have_text(
            "groot.xlsx is niet toegevoegd: het bestand is groter dan 98 kB. Een ingevuld formulier is veel kleiner.")
        expect(page.locator("#aantal-bestanden")).to_have_text("0 bestanden")

        # a form on another site (another port of this computer) posting to kvcompliance
        page.goto(f"http://127.0.0.1:{foreign.server_address[1]}/")
        page.click("text=Verstuur")
        expect(page.locator("body")).to_contain_text("Geweigerd: dit verzoek komt niet van kvcompliance zelf")
        assert [a.id for a in server.state.workspace.audits()] == [page_audit]  # no audit for 2031
        context.close()
    finally:
        foreign.shutdown()
        server.stop()
