"""How kvcompliance web's pages are laid out, in a real Chromium.

An officer who opens the pages on a narrow window or a phone (390 px wide) must not have
to scroll the whole page sideways: only a wide table scrolls, inside its own box. On a
laptop screen (1280 px) every column of the call list keeps room for its text, also with
the columns that comparing with last year and the dossier add.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webtools import RunningServer, launch_chromium, need_chromium, new_audit, upload, wait_for_run

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
PHONE = {"width": 390, "height": 844}
REGISTER = (
    "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
    "EV-2025-JH-0589;Stichting Jeugdhulp De Kern;12345678;jeugdhulp;info@dekern.example\n"
    "EV-2025-XX-9999;Aanbieder Zonder Opgave;11223344;wmo;info@zonder.example\n"
)

#: Elements wider than the window or sticking out of their card, as (tag.class#id, right
#: edge); those inside a box that scrolls sideways on its own do not count.
SPILLING = """() => {
    const spilling = [];
    for (const element of document.querySelectorAll("body *")) {
        if (element.closest(".tabelvak")) continue;
        const box = element.getBoundingClientRect();
        const card = element.closest(".kaart");
        const edge = card ? card.getBoundingClientRect().right : window.innerWidth;
        if (box.width && box.right > Math.min(edge, window.innerWidth) + 1) {
            spilling.push(`${element.tagName}.${element.className}#${element.id} ${Math.round(box.right)}`);
        }
    }
    return spilling;
}"""


def test_no_page_is_wider_than_a_phone(tmp_path):
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    root = tmp_path / "werkmap"
    root.mkdir()
    (root / "contracten.csv").write_text(REGISTER, encoding="utf-8")
    server = RunningServer(root, jobs=1)
    try:
        audit_id = new_audit(server, 2025, contracten="werkmap:contracten.csv")
        for path in (SAMPLES / "02_horizon-jeugdzorg-b-v.xlsx", SAMPLES / "begroting_2026.xlsx"):
            upload(server, audit_id, path)
        assert server.post(f"/controles/{audit_id}/start")[0] == 200
        assert wait_for_run(server, audit_id)["toestand"] == "klaar"
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, executable)
            page = browser.new_page(viewport=PHONE)
            page.goto(server.url)
            found = {}
            for path in ("/", f"/controles/{audit_id}", f"/controles/{audit_id}/resultaten",
                         f"/controles/{audit_id}/opgave/R0001", f"/controles/{audit_id}/bestaat-niet"):
                page.goto(server.base + path)
                page.locator("details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
                width, spilling = page.evaluate("document.documentElement.scrollWidth"), page.evaluate(SPILLING)
                if width > PHONE["width"] or spilling:
                    found[path] = (width, spilling[:5])
            # on a phone each download's explanation sits below its button, in the card's
            # whole width (beside it, it was a column of two or three words a line)
            page.goto(f"{server.base}/controles/{audit_id}/resultaten")
            squeezed = page.locator(".downloads > li").evaluate_all("""(items) => items.filter((li) => {
                const knop = li.querySelector(".knop").getBoundingClientRect();
                const uitleg = li.querySelector(".uitleg").getBoundingClientRect();
                return uitleg.top < knop.bottom || uitleg.width < li.getBoundingClientRect().width * 0.8;
            }).map((li) => li.querySelector(".knop").textContent.trim())""")
            browser.close()
        assert found == {}
        assert squeezed == []
    finally:
        server.stop()


def test_every_column_of_the_call_list_has_room_also_with_last_year_and_escalation(tmp_path):
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        first = new_audit(server, 2025, dossier="nieuw:dossier.sqlite")
        returns = sorted(SAMPLES.glob("0[1-3]_*.xlsx"))
        for path in returns:
            upload(server, first, path)
        assert server.post(f"/controles/{first}/start")[0] == 200
        assert wait_for_run(server, first)["toestand"] == "klaar"
        second = new_audit(server, 2025, dossier="werkmap:dossier.sqlite", vorige=f"controle:{first}")
        for path in returns:
            upload(server, second, path)
        assert server.post(f"/controles/{second}/start")[0] == 200
        assert wait_for_run(server, second)["toestand"] == "klaar"
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, executable)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            page.goto(f"{server.base}/controles/{second}/resultaten")
            headers = page.locator("#bellijst thead th")
            widths = {headers.nth(n).inner_text().replace("\u00ad", ""): headers.nth(n).bounding_box()["width"]
                      for n in range(headers.count())}
            browser.close()
        assert {"Vorig jaar", "Escalatie", "Eerste agendapunt"} <= set(widths)
        assert {name: width for name, width in widths.items() if width < 40} == {}
        assert widths["Eerste agendapunt"] >= 150, widths
    finally:
        server.stop()
