"""What the officer reads and hears in kvcompliance web, in a real Chromium: sentences that
read as Dutch, and controls that a screen reader names by what they are for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webtools import RunningServer, launch_chromium, need_chromium, new_audit, upload, wait_for_run

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    server = RunningServer(tmp_path_factory.mktemp("werkmap"), jobs=1)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, executable)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            page.server = server
            yield page
            browser.close()
    finally:
        server.stop()


def test_the_drafts_message_reads_as_sentences(page):
    from playwright.sync_api import expect

    server = page.server
    audit_id = new_audit(server, 2025)
    # the second has an e-mail address without a domain ending: no draft for it
    for name in ("02_horizon-jeugdzorg-b-v.xlsx", "12_zorgboerderij-t-erf-locatie-hoevelaken.xlsx"):
        upload(server, audit_id, SAMPLES / name)
    assert server.post(f"/controles/{audit_id}/start")[0] == 200
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    page.goto(f"{server.base}/controles/{audit_id}/resultaten")
    page.click("#maak-concepten")
    first = page.locator("#melding-concepten p")
    expect(first).to_have_text("1 concept gemaakt: downloaden. 1 aanbieder krijgt geen e-mail:")
    expect(first.locator("a")).to_have_text("downloaden")


def test_every_file_chooser_is_named_by_what_it_is_for(page):
    server = page.server
    for address in ("/", f"/controles/{new_audit(server, 2024)}"):
        page.goto(server.base + address)
        rows = page.locator(".invoer-rij[data-soort]")
        labels = [rows.nth(n).locator(".invoer-naam").inner_text() for n in range(rows.count())]
        assert "Regels" in labels and "Contractregister" in labels
        for label in labels:
            chooser = page.get_by_label(f"Bestand kiezen voor {label.lower()}", exact=True)
            assert chooser.count() == 1 and chooser.get_attribute("type") == "file", label


def test_a_file_refused_on_the_start_page_is_said_on_the_audit_page(page, tmp_path):
    from playwright.sync_api import expect

    server = page.server
    wrong = tmp_path / "regels eemvallei.txt"
    wrong.write_text("[[regel]]\n", encoding="utf-8")
    page.goto(server.base + "/")
    page.fill("#jaar", "2023")
    page.set_input_files(".invoer-rij[data-soort=regels] input[type=file]", str(wrong))
    page.click("text=Controle aanmaken")
    page.wait_for_url("**/controles/controle-2023")
    row = page.locator(".invoer-rij[data-soort=regels]")
    expect(row).to_contain_text("regels eemvallei.txt is geen regels: kies een bestand op .toml")
    page.reload()  # said once, where it happened
    expect(row).not_to_contain_text("regels eemvallei.txt")


def test_the_drop_zone_opens_the_file_chooser_from_the_keyboard(page, tmp_path):
    """A keyboard user who tabs to the drop zone gets the file chooser with Enter or Space,
    and the chosen file is added as a dragged one would be."""
    from playwright.sync_api import expect

    server = page.server
    audit_id = new_audit(server, 2023)
    page.goto(f"{server.base}/controles/{audit_id}")
    zone = page.get_by_role("group", name="Opgaven toevoegen: sleep de bestanden hierheen, of druk op Enter om ze te kiezen")
    # a listener kept for the whole test: it turns Chromium's dialog into an event for good
    # (expect_file_chooser switches that on per call, and a key pressed at once can beat it)
    choosers: list = []

    def opened(chooser) -> None:
        choosers.append(chooser)

    page.on("filechooser", opened)
    try:
        for n, (key, name) in enumerate((("Enter", "01_stichting-jeugdhulp-de-kern.xlsx"), (" ", "02_horizon-jeugdzorg-b-v.xlsx")), 1):
            zone.focus()
            page.keyboard.press(key)
            for _ in range(50):
                if len(choosers) == n:
                    break
                page.wait_for_timeout(100)
            assert len(choosers) == n, f"no file chooser after {key!r}"
            assert choosers[-1].is_multiple()
            choosers[-1].set_files(str(SAMPLES / name))
            expect(page.locator("#aantal-bestanden")).to_have_text("1 bestand" if n == 1 else "2 bestanden")
    finally:
        page.remove_listener("filechooser", opened)
