"""kvcompliance web over HTTP, on a real server: the safety rules, uploads, a run, downloads.

Every request here is sent as it is (http.client), so a foreign Host or Origin, a missing
token or an oversized body reach the server exactly as an attacker would send them.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import time
import zipfile
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest

from kvcompliance.web.extras import Features
from kvcompliance.web.security import CSP
from kvcompliance.web.uploads import Limits
from tests.test_audit import blank_form, fill  # noqa: F401 - blank_form is a fixture
from tests.test_validate import BASE
from tests.webtools import RunningServer, audit_samples, new_audit, upload, wait_for_run

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
HOSTILE = '<script>alert("x")</script> & =HYPERLINK("http://evil.example")'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # without the optional features: the pages keep no place for them (see the last test for them)
    running = RunningServer(tmp_path_factory.mktemp("werkmap"), limits=Limits(file_bytes=50_000), jobs=1, features=Features())
    yield running
    running.stop()


def two_returns(server, year: int, run: bool = False) -> str:
    """A new audit for ``year`` with the first two sample returns; with ``run``, audited."""
    audit_id = new_audit(server, year)
    for path in sorted(SAMPLES.glob("0[1-2]_*.xlsx")):
        upload(server, audit_id, path)
    if run:
        server.post(f"/controles/{audit_id}/start")
        assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    return audit_id


def test_the_token_in_the_address_becomes_a_cookie_and_leaves_the_address(server):
    status, headers, _ = server.request("GET", f"/controles?x=1&sleutel={server.token}", cookie=False)
    assert status == 303
    assert headers["location"] == "/controles?x=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"kvcompliance_{server.port}={server.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, body = server.request("GET", "/")
    assert status == 200 and "Nieuwe controle" in body.decode()


@pytest.mark.parametrize("how", ["zonder", "verkeerde cookie", "verkeerde sleutel"])
def test_a_request_without_the_token_is_refused_in_dutch(server, how):
    headers = {"Cookie": f"kvcompliance_{server.port}=raden"} if how == "verkeerde cookie" else {}
    path = "/?sleutel=raden" if how == "verkeerde sleutel" else "/"
    status, _, body = server.request("GET", path, headers=headers, cookie=False)
    assert status == 403
    assert "Geen toegang" in body.decode()
    status, _, body = server.request("GET", "/static/app.js", headers=headers, cookie=False)
    assert status == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "127.0.0.1", "[::1]:{port}", ""])
def test_a_foreign_host_is_refused_so_dns_rebinding_gets_nothing(server, host):
    status, _, body = server.request("GET", "/", host=host.format(port=server.port))
    assert status == 421
    assert "Onbekend adres" in body.decode()


def test_localhost_is_this_computer_too(server):
    assert server.request("GET", "/", host=f"localhost:{server.port}")[0] == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", "null", None])
def test_a_request_from_another_origin_changes_nothing(server, origin):
    before = [a.id for a in server.state.workspace.audits()]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin is not None:
        headers["Origin"] = origin
    status, _, body = server.request("POST", "/controles", b"jaar=2031", headers)
    assert status == 403
    assert json.loads(body) == {"fout": "Geweigerd: dit verzoek komt niet van kvcompliance zelf, maar van een andere website."}
    assert [a.id for a in server.state.workspace.audits()] == before


def test_every_response_carries_the_security_headers(server):
    for method, path, cookie in (("GET", "/", True), ("GET", "/static/app.css", True), ("GET", "/bestaat-niet", True),
                                 ("GET", "/", False), ("GET", "/controles/controle-1999", True)):
        status, headers, _ = server.request(method, path, cookie=cookie)
        assert headers["content-security-policy"] == CSP, path
        assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP and "unsafe-inline" not in CSP
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"


def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script(server):
    audit_id = new_audit(server, 2019)
    for path in ("/", f"/controles/{audit_id}"):
        page = server.request("GET", path)[2].decode()
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page)
        assert links and all(link.startswith("/") for link in links), links
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
        assert re.search(r"\s(?:on[a-z]+|style)=", page) is None  # no inline handlers or styles


def test_an_upload_over_the_limit_gets_the_dutch_message_and_stores_nothing(server, tmp_path):
    audit_id = new_audit(server, 2020)
    inbox = server.state.workspace.audit(audit_id).inbox
    big = tmp_path / "groot.xlsx"
    big.write_bytes(b"x" * 60_000)
    answer = upload(server, audit_id, big)
    assert answer["status"] == 413
    assert answer["geweigerd"] == [{"naam": "groot.xlsx", "reden": "groot.xlsx is niet toegevoegd: het bestand is groter dan"
                                                                  " 49 kB. Een ingevuld formulier is veel kleiner."}]
    # the same without a Content-Length: counted while it arrives, refused, nothing left
    chunked = b"".join(b"%x\r\n%s\r\n" % (10_000, b"x" * 10_000) for _ in range(6)) + b"0\r\n\r\n"
    status, _, body = server.post(f"/controles/{audit_id}/opgaven?naam=groot.xlsx", chunked,
                                  {"Transfer-Encoding": "chunked", "Content-Length": None})
    assert status == 413 and "groter dan" in body.decode()
    assert list(inbox.iterdir()) == []


def _bundle(*files: tuple[str, bytes]) -> bytes:
    return b"".join(json.dumps({"naam": name, "grootte": len(data), "gewijzigd": 1_700_000_000_000}).encode() + b"\n" + data
                    for name, data in files)


def test_many_small_files_arrive_in_one_request_each_checked_as_if_sent_alone(server):
    audit_id = new_audit(server, 2023)
    inbox = server.state.workspace.audit(audit_id).inbox
    status, _, body = server.post(f"/controles/{audit_id}/opgaven/bundel",
                                  _bundle(("a.xlsx", b"een"), ("map/b.xlsx", b"twee"), ("~$a.xlsx", b"slot"), ("a.xlsx", b"een")))
    answer = json.loads(body)
    assert status == 200
    assert answer["toegevoegd"] == ["a.xlsx", "b.xlsx"] and answer["al_aanwezig"] == ["a.xlsx"]
    assert [r["naam"] for r in answer["geweigerd"]] == ["~$a.xlsx"]
    assert (inbox / "b.xlsx").read_bytes() == b"twee" and (inbox / "b.xlsx").stat().st_mtime == 1_700_000_000
    # a file that says it is larger than a return may be: refused before its bytes are read
    status, _, body = server.post(f"/controles/{audit_id}/opgaven/bundel", _bundle(("c.xlsx", b"x" * 60_000)))
    assert status == 413 and "c.xlsx is niet toegevoegd: het bestand is groter dan 49 kB" in body.decode()
    for broken in (b"geen json\n", b'{"naam": "d.xlsx", "grootte": 10}\nkort', b"x" * 5000):
        status, _, body = server.post(f"/controles/{audit_id}/opgaven/bundel", broken)
        assert status == 413 and "kwamen niet" in body.decode()
    assert sorted(p.name for p in inbox.iterdir()) == ["a.xlsx", "b.xlsx"]


def test_an_uploaded_name_never_leaves_the_inbox(server, tmp_path):
    audit_id = new_audit(server, 2021)
    audit = server.state.workspace.audit(audit_id)
    source = tmp_path / "opgave.xlsx"
    source.write_bytes(b"geen echte opgave")
    answer = upload(server, audit_id, source, name="../../../controle.json")
    assert answer["toegevoegd"] == ["controle.json"]
    assert (audit.inbox / "controle.json").read_bytes() == b"geen echte opgave"
    assert json.loads((audit.folder / "controle.json").read_text())["jaar"] == 2021
    for name in ("../controle.json", "..%2Fcontrole.json", "%2E%2E%2Fcontrole.json"):
        assert server.request("GET", f"/controles/{audit_id}/download/{name}")[0] == 404
        assert server.request("GET", f"/controles/{audit_id}/werkboek/{name}")[0] == 404
    assert server.request("GET", "/controles/..%2F..%2Fetc/resultaten")[0] == 404


def test_an_audit_over_http_escapes_provider_text_and_serves_the_files_it_wrote(server, tmp_path, blank_form):  # noqa: F811
    audit_id = new_audit(server, 2025)
    hostile = fill(blank_form, tmp_path / "vijandig.xlsx", {**BASE, "aanbieder_naam": HOSTILE, "toelichting": HOSTILE})
    plain = fill(blank_form, tmp_path / "gewoon.xlsx", {**BASE, "contractnummer": "JH-2025-002", "medewerkers_getraind": 10})
    for path in (hostile, plain, SAMPLES / "begroting_2026.xlsx"):
        assert upload(server, audit_id, path)["toegevoegd"] == [path.name]
    # the page refuses hidden names; one put in the folder by other means is listed, not lost
    (server.state.workspace.audit(audit_id).inbox / ".verborgen.xlsx").write_bytes(b"x")
    assert server.post(f"/controles/{audit_id}/start")[0] == 200
    slowest = 0.0
    while server.state.runner.busy(audit_id):  # the audit runs in its own process: the pages stay quick
        started = time.perf_counter()
        assert server.request("GET", "/")[0] == 200
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.05)
    assert slowest < 2, slowest
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    page = server.request("GET", f"/controles/{audit_id}/resultaten")[2].decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; =HYPERLINK" in page
    assert "begroting_2026.xlsx" in page and "Niet verwerkt" in page
    def table(key: str) -> str:
        start = page.index(f'id="{key}"')
        return page[start:page.index("</table>", start)]
    assert ".verborgen.xlsx" in table("overgeslagen") and ".verborgen.xlsx" not in table("afgewezen")
    assert "begroting_2026.xlsx" in table("afgewezen")
    return_id = re.search(r'"opgave/(R\d+)">&lt;script', page).group(1)
    provider = server.request("GET", f"/controles/{audit_id}/opgave/{return_id}")[2].decode()
    assert "<script>alert" not in provider and "&lt;script&gt;" in provider
    output = server.state.workspace.audit(audit_id).output
    status, headers, body = server.request("GET", f"/controles/{audit_id}/download/overzicht.xlsx")
    assert status == 200 and body == (output / "overzicht.xlsx").read_bytes()
    assert headers["content-disposition"].startswith("attachment;")
    status, _, body = server.request("GET", f"/controles/{audit_id}/download/werkboeken.zip")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == sorted(f"accountgesprek/{p.name}" for p in (output / "accountgesprek").iterdir())
    # without the optional features, no place for them on the page
    assert "E-mailconcepten" not in page and "Dossier" not in page
    assert server.post(f"/controles/{audit_id}/e-mailconcepten")[0] == 404


def test_a_return_added_by_mistake_is_taken_out_by_its_exact_name_only(server):
    audit_id = two_returns(server, 2021)
    inbox = server.state.workspace.audit(audit_id).inbox
    first, second = sorted(p.name for p in inbox.iterdir())
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def remove(name: str):
        from urllib.parse import urlencode

        status, _, body = server.post(f"/controles/{audit_id}/opgaven/verwijderen", urlencode({"naam": name}).encode(), form)
        return status, json.loads(body)

    for name in ("../controle.json", "", first.upper(), "*.xlsx"):
        status, answer = remove(name)
        assert status == 404 and answer["fout"] == "Dit bestand staat niet (meer) in deze controle.", name
    assert sorted(p.name for p in inbox.iterdir()) == [first, second]
    assert (server.state.workspace.audit(audit_id).folder / "controle.json").is_file()
    assert remove(first) == (200, {"verwijderd": first, "aantal": 1})
    assert [p.name for p in inbox.iterdir()] == [second]
    assert remove(first)[0] == 404  # once gone, gone
    upload(server, audit_id, SAMPLES / first)  # and it can be added again
    assert sorted(p.name for p in inbox.iterdir()) == [first, second]


def test_a_return_is_not_taken_out_under_a_run_that_started_while_the_request_arrived(server):
    import socket
    from urllib.parse import urlencode

    audit_id = two_returns(server, 2020)
    inbox = server.state.workspace.audit(audit_id).inbox
    names = sorted(p.name for p in inbox.iterdir())
    body = urlencode({"naam": names[0]}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as slow:
        # a slow request to take a file out: its headers now, its body after the run started
        slow.sendall((f"POST /controles/{audit_id}/opgaven/verwijderen HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      f"Cookie: {server.cookie}\r\nOrigin: {server.base}\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode())
        time.sleep(0.3)
        assert server.post(f"/controles/{audit_id}/start")[0] == 200
        slow.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            answer += slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 409"), answer
    assert "Er loopt een controle; verander de bestanden pas als die klaar is." in answer.decode()
    assert sorted(p.name for p in inbox.iterdir()) == names  # the run reads what was there when it started
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    assert not server.state.workspace.audit(audit_id).changed_since_run()


def test_a_slow_upload_adds_nothing_under_a_run_that_started_while_it_arrived(server):
    import socket

    audit_id = new_audit(server, 2018)
    upload(server, audit_id, SAMPLES / "01_stichting-jeugdhulp-de-kern.xlsx")
    inbox = server.state.workspace.audit(audit_id).inbox
    before = sorted(p.name for p in inbox.iterdir())
    body = (SAMPLES / "02_horizon-jeugdzorg-b-v.xlsx").read_bytes()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as slow:
        # a long upload: its headers and half its bytes now, the rest after a run started
        slow.sendall((f"POST /controles/{audit_id}/opgaven?naam=02.xlsx HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      f"Cookie: {server.cookie}\r\nOrigin: {server.base}\r\n"
                      f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                     + body[: len(body) // 2])
        time.sleep(0.3)
        assert server.post(f"/controles/{audit_id}/start")[0] == 200
        slow.sendall(body[len(body) // 2:])
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            answer += slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    outcome = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert outcome["toegevoegd"] == [] and [r["reden"] for r in outcome["geweigerd"]] == [
        "Er loopt een controle; verander de bestanden pas als die klaar is."]
    assert sorted(p.name for p in inbox.iterdir()) == before  # no file, no temporary left behind
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    assert not server.state.workspace.audit(audit_id).changed_since_run()


def test_a_run_stopped_by_the_officer_leaves_the_last_outcome_as_it_was(server):
    audit_id = new_audit(server, 2017)
    for path in sorted(SAMPLES.glob("*.xlsx")):
        upload(server, audit_id, path)
    assert server.post(f"/controles/{audit_id}/stoppen")[0] == 409  # nothing to stop
    server.post(f"/controles/{audit_id}/start")
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    output = server.state.workspace.audit(audit_id).output
    before = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}

    server.post(f"/controles/{audit_id}/start")
    deadline = time.monotonic() + 60
    while json.loads(server.request("GET", f"/controles/{audit_id}/voortgang")[2])["fase"] == "Voorbereiden":
        assert time.monotonic() < deadline
        time.sleep(0.05)  # stopped once it reads: its staging folder and lock exist by then
    status, _, body = server.post(f"/controles/{audit_id}/stoppen")
    assert status == 200, body
    state = wait_for_run(server, audit_id)
    assert state["toestand"] == "gestopt"
    assert state["fout"] == "De controle is gestopt; aan de uitvoer en het dossier is niets veranderd."
    after = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    assert after == before  # the last whole run
    assert not [p.name for p in output.iterdir() if p.name.startswith(".kvcompliance-") or p.name.endswith(".lock")]
    server.post(f"/controles/{audit_id}/start")  # and the next run is not refused
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"


def test_after_a_return_is_taken_out_both_pages_say_the_outcome_is_out_of_date(server):
    from urllib.parse import urlencode

    audit_id = two_returns(server, 2019, run=True)
    results = f"/controles/{audit_id}/resultaten"
    assert "sinds deze controle" not in server.request("GET", results)[2].decode()
    status, _, _ = server.post(f"/controles/{audit_id}/opgaven/verwijderen",
                               urlencode({"naam": "01_stichting-jeugdhulp-de-kern.xlsx"}).encode(),
                               {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    status, _, page = server.request("GET", results)
    notice = re.search(r'<p class="melding let-op">(.*?)</p>', page.decode()).group(1)
    assert re.sub(r"<[^>]+>", "", notice) == ("De opgaven zijn veranderd sinds deze controle (bijgekomen of eruit gehaald):"
                                              " controleer opnieuw om de uitkomst bij te werken.")
    page = server.request("GET", f"/controles/{audit_id}")[2].decode()
    assert "De opgaven zijn veranderd sinds de laatste controle (bijgekomen of eruit gehaald)" in page


def test_after_another_rules_file_is_chosen_both_pages_say_the_outcome_is_out_of_date(server):
    audit_id = two_returns(server, 2017, run=True)
    results, audit_page = f"/controles/{audit_id}/resultaten", f"/controles/{audit_id}"
    assert "sinds deze controle" not in server.request("GET", results)[2].decode()
    status, _, body = server.post(f"/controles/{audit_id}/invoer/regels/bestand?naam=regio.toml",
                                  b'[[regel]]\nid = "KV12"\nactief = true\n', {"Content-Type": "application/octet-stream"})
    assert status == 200 and json.loads(body)["fout"] is None
    notice = ("De gekozen bestanden zijn veranderd sinds deze controle (Regels):"
              " controleer opnieuw om de uitkomst bij te werken.")
    page = server.request("GET", results)[2].decode()
    assert notice in re.sub(r"<[^>]+>", "", page)
    assert notice.replace("deze controle", "de laatste controle") in server.request("GET", audit_page)[2].decode()
    server.post(f"/controles/{audit_id}/start")
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    assert "sinds deze controle" not in server.request("GET", results)[2].decode()
    assert "sinds de laatste controle" not in server.request("GET", audit_page)[2].decode()
    server.post(f"/controles/{audit_id}/invoer/regels", b"keuze=", {"Content-Type": "application/x-www-form-urlencoded"})
    assert notice in re.sub(r"<[^>]+>", "", server.request("GET", results)[2].decode())


def test_a_rules_file_chosen_while_the_audit_runs_makes_its_outcome_out_of_date(server):
    audit_id = new_audit(server, 2016)
    upload(server, audit_id, SAMPLES / "01_stichting-jeugdhulp-de-kern.xlsx")
    assert server.post(f"/controles/{audit_id}/start")[0] == 200
    # the run's process is still starting: it reads the default rules it was given
    status, _, _ = server.post(f"/controles/{audit_id}/invoer/regels/bestand?naam=regio.toml",
                               b'[[regel]]\nid = "KV12"\nactief = true\n', {"Content-Type": "application/octet-stream"})
    assert status == 200 and server.state.runner.busy(audit_id)
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    page = re.sub(r"<[^>]+>", "", server.request("GET", f"/controles/{audit_id}/resultaten")[2].decode())
    assert "De gekozen bestanden zijn veranderd sinds deze controle (Regels)" in page


def test_a_file_name_that_is_not_utf8_is_shown_and_can_be_taken_out(server):
    audit_id = new_audit(server, 2019)
    inbox = server.state.workspace.audit(audit_id).inbox
    inbox.mkdir(parents=True, exist_ok=True)
    odd = inbox / os.fsdecode(b"opgave-\xe9.xlsx")  # copied in by hand from an old Windows share
    odd.write_bytes((SAMPLES / "01_stichting-jeugdhulp-de-kern.xlsx").read_bytes())
    status, _, body = server.request("GET", f"/controles/{audit_id}")
    assert status == 200 and "opgave-\\xe9.xlsx" in body.decode()  # the undecodable byte escaped
    from urllib.parse import urlencode

    status, _, body = server.post(f"/controles/{audit_id}/opgaven/verwijderen", urlencode({"naam": "opgave-\\xe9.xlsx"}).encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and not odd.exists()


def test_a_wrong_input_file_is_said_at_once_and_the_audit_waits_for_a_good_one(server, tmp_path):
    audit_id = new_audit(server, 2018)
    status, _, body = server.post(f"/controles/{audit_id}/invoer/regels/bestand?naam=regels.toml",
                                  b"[[regel]]\nid = 'KV99'\n", {"Content-Type": "application/octet-stream"})
    error = json.loads(body)["fout"]
    assert status == 200 and "KV99" in error
    page = server.request("GET", f"/controles/{audit_id}")[2].decode()
    assert "KV99" in page
    source = tmp_path / "opgave.xlsx"
    source.write_bytes(b"x")
    upload(server, audit_id, source)
    status, _, body = server.post(f"/controles/{audit_id}/start")
    assert status == 400 and json.loads(body)["fout"].startswith("Kies eerst andere bestanden: Regels:")
    status, _, body = server.post(f"/controles/{audit_id}/invoer/instellingen/bestand?naam=instellingen.txt", b"x")
    assert status == 400 and "kies een bestand op .toml" in json.loads(body)["fout"]
    # choosing nothing puts the default rules back
    status, _, body = server.post(f"/controles/{audit_id}/invoer/regels", b"keuze=",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and server.state.workspace.audit(audit_id).input_errors() == []


def test_a_wrong_uploaded_input_is_named_as_the_officer_named_it(server):
    audit_id = new_audit(server, 2019)
    sent = {"regels": ("regels-eemvallei-2025.toml", b"[[[ x\n"),
            "contracten": ("Contracten jeugd 2025.csv", b"\x00\x01 geen tekst"),
            "instellingen": ("gemeente-eemvallei.toml", b"x = \n")}
    for kind, (name, body) in sent.items():
        status, _, answer = server.post(f"/controles/{audit_id}/invoer/{kind}/bestand?naam={quote(name)}", body,
                                        {"Content-Type": "application/octet-stream"})
        error = json.loads(answer)["fout"]
        assert status == 200 and name in error, error
    page = server.request("GET", f"/controles/{audit_id}")[2].decode()
    for stored in ("regels.toml", "contracten.csv", "instellingen.toml"):  # the names they are kept under
        assert stored not in page


def test_the_blank_form_and_a_missing_register_say_what_to_do(server):
    audit_id = new_audit(server, 2022)
    status, headers, body = server.request("GET", f"/controles/{audit_id}/formulier")
    assert status == 200 and body[:2] == b"PK"
    assert 'filename="uitvraag-2022.xlsx"' in headers["content-disposition"]
    status, _, body = server.request("GET", f"/controles/{audit_id}/formulieren")
    assert status == 404 and "Kies eerst een contractregister" in body.decode()


def test_e_mail_drafts_and_the_dossier_as_the_cli_makes_them(tmp_path):
    """The start page offers a dossier; the audit keeps itself in it (one run of 3 returns)
    from its own process; the results page makes the e-mail drafts as kvcompliance verzend
    does, and offers them and the dossier for download."""
    server = RunningServer(tmp_path / "werkmap", jobs=1)
    assert server.state.features == Features(drafts=True, dossier=True)
    try:
        start = server.request("GET", "/")[2].decode()
        assert "Dossier" in start and "nieuw:dossier.sqlite" in start
        audit_id = new_audit(server, 2025, dossier="nieuw:dossier.sqlite")
        for path in sorted(SAMPLES.glob("0[1-3]_*.xlsx")):
            upload(server, audit_id, path)
        server.post(f"/controles/{audit_id}/start")
        assert wait_for_run(server, audit_id)["toestand"] == "klaar"
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            assert db.execute("SELECT controlejaar, opgaven FROM controles").fetchall() == [(2025, 3)]
        workbook = next((server.state.workspace.audit(audit_id).output / "accountgesprek").iterdir())
        assert "Historie" in openpyxl.load_workbook(workbook, read_only=True).sheetnames
        page = server.request("GET", f"/controles/{audit_id}/resultaten")[2].decode()
        assert 'id="maak-concepten"' in page and f"/controles/{audit_id}/download/dossier" in page
        status, _, body = server.post(f"/controles/{audit_id}/e-mailconcepten")
        answer = json.loads(body)
        assert status == 200 and answer["aantal"] + len(answer["overgeslagen"]) == 3
        status, _, body = server.request("GET", answer["adres"])
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            drafts = [message_from_bytes(archive.read(name), policy=policy.default) for name in archive.namelist()]
        assert len(drafts) == answer["aantal"] > 0
        for draft in drafts:
            assert draft["X-Unsent"] == "1"
            (attachment,) = [part for part in draft.iter_attachments() if part.get_filename().endswith(".xlsx")]
            assert attachment.get_content() == (workbook.parent / attachment.get_filename()).read_bytes()
        status, _, body = server.request("GET", f"/controles/{audit_id}/download/dossier")
        assert status == 200 and body.startswith(b"SQLite format 3\0")

        # next audit: no dossier chosen, its settings name one without a folder (as 'kvcompliance
        # init' writes them): the same dossier in the work folder, not a new one in the audit's own
        second = new_audit(server, 2025)
        status, _, body = server.post(f"/controles/{second}/invoer/instellingen/bestand?naam=kvcompliance.toml",
                                      b'[dossier]\npad = "dossier.sqlite"\n')
        assert status == 200, body
        for path in sorted(SAMPLES.glob("0[4-5]_*.xlsx")):
            upload(server, second, path)
        server.post(f"/controles/{second}/start")
        assert wait_for_run(server, second)["toestand"] == "klaar"
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            assert db.execute("SELECT controlejaar, opgaven FROM controles ORDER BY id").fetchall() == [(2025, 3), (2025, 2)]
        assert not list(server.state.workspace.audit(second).folder.rglob("*.sqlite"))
        page = server.request("GET", f"/controles/{second}/resultaten")[2].decode()
        assert f"/controles/{second}/download/dossier" in page
    finally:
        server.stop()


def test_e_mail_drafts_wait_for_an_audit_in_the_folder_and_put_back_one_that_died_in_its_swap(tmp_path):
    """As kvcompliance verzend: while an audit holds the output folder the page gets a Dutch
    message and nothing is written; after an audit died halfway through swapping its files
    in, the previous output is put back first and every provider gets its own workbook."""
    import subprocess
    import sys

    from kvcompliance.outputs import JOURNAL_FILE, OutputFolder
    from tests.test_outputs import CRASHING_SWAP, ROOT

    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = audit_samples(server)
        output = server.state.workspace.audit(audit_id).output
        books = sorted(p.name for p in (output / "accountgesprek").iterdir())

        with OutputFolder(output):  # an audit (the CLI's, say) is writing into the folder
            status, _, body = server.post(f"/controles/{audit_id}/e-mailconcepten")
        answer = json.loads(body)
        assert status == 400 and answer["fout"].startswith(f"In de uitvoermap {output} loopt al een controle")
        assert "Wacht tot die klaar is" in answer["fout"] and not (output / "verzending").exists()

        # the next audit dies (power cut, kill -9) after moving the manifest and the first workbook out of place
        new = ["accountgesprek/2026_Nieuw_C-9.xlsx", "verzendlijst.csv", "overzicht.xlsx", "bevindingen.csv", "verwerking.jsonl"]
        crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(output), "3", *new], capture_output=True, text=True,
                                 cwd=ROOT)
        assert crashed.returncode == 9 and (output / JOURNAL_FILE).exists()
        assert sorted(p.name for p in (output / "accountgesprek").iterdir()) != books  # a mix of two runs
        status, _, body = server.post(f"/controles/{audit_id}/e-mailconcepten")
        answer = json.loads(body)
        assert status == 200 and not (output / JOURNAL_FILE).exists(), answer
        assert sorted(p.name for p in (output / "accountgesprek").iterdir()) == books
        assert not any("staat niet (meer)" in item["reden"] for item in answer["overgeslagen"]), answer
        status, _, body = server.request("GET", answer["adres"])
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            drafts = [message_from_bytes(archive.read(name), policy=policy.default) for name in archive.namelist()]
        attached = sorted(part.get_filename() for draft in drafts for part in draft.iter_attachments())
        assert len(drafts) == answer["aantal"] > 0 and set(attached) <= set(books)
    finally:
        server.stop()


def test_a_first_run_stopped_before_it_stored_anything_leaves_no_empty_dossier(tmp_path):
    server = RunningServer(tmp_path / "werkmap", jobs=1)
    try:
        audit_id = new_audit(server, 2025, dossier="nieuw:dossier.sqlite")
        for path in sorted(SAMPLES.glob("*.xlsx")):
            upload(server, audit_id, path)
        server.post(f"/controles/{audit_id}/start")
        deadline = time.monotonic() + 60
        while json.loads(server.request("GET", f"/controles/{audit_id}/voortgang")[2])["fase"] == "Voorbereiden":
            assert time.monotonic() < deadline
            time.sleep(0.05)  # past preparing: the new dossier has been made by now
        assert server.post(f"/controles/{audit_id}/stoppen")[0] == 200
        state = wait_for_run(server, audit_id)
        assert state["toestand"] == "gestopt"
        assert state["fout"] == "De controle is gestopt; aan de uitvoer en het dossier is niets veranderd."
        assert not (server.state.workspace.root / "dossier.sqlite").exists()  # as the message says
        server.post(f"/controles/{audit_id}/start")
        assert wait_for_run(server, audit_id)["toestand"] == "klaar"
        with sqlite3.connect(server.state.workspace.root / "dossier.sqlite") as db:
            assert db.execute("SELECT controlejaar FROM controles").fetchall() == [(2025,)]
    finally:
        server.stop()


def test_the_readme_states_the_upload_limits_the_server_applies():
    from kvcompliance.values import plural
    from kvcompliance.web.uploads import megabytes

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    limits = Limits()
    assert f"een bestand hoogstens {megabytes(limits.file_bytes)}" in text
    assert f"een zip-bestand hoogstens {megabytes(limits.zip_bytes)}" in text
    assert f"een controle\n  hoogstens {plural(limits.files, 'bestand', 'bestanden')}" in text


def test_the_command_serves_the_app_on_the_port_it_prints(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "kvcompliance", "web", "--geen-browser", "--poort", str(port),
                                "--werkmap", str(tmp_path / "werkmap")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"kvcompliance draait op http://127.0.0.1:{port}/?sleutel=")
        assert process.stdout.readline() == f"Werkmap: {tmp_path / 'werkmap'}\n"
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", line.split(f":{port}", 1)[1].strip())
        response = connection.getresponse()
        assert response.status == 303 and "HttpOnly" in response.getheader("set-cookie")
        connection.close()
        # the same port again: a Dutch message, exit code 3
        again = subprocess.run([sys.executable, "-m", "kvcompliance", "web", "--geen-browser", "--poort", str(port),
                                "--werkmap", str(tmp_path / "werkmap")], capture_output=True, text=True, timeout=60)
        assert again.returncode == 3
        assert f"Poort {port} is al in gebruik" in again.stderr and "Traceback" not in again.stderr
    finally:
        process.terminate()
        process.wait(30)


def test_an_unexpected_error_is_a_dutch_page_without_a_traceback(server, monkeypatch):
    from kvcompliance.web import state as web_state

    def broken(*args, **kwargs):
        raise RuntimeError("geheim detail")

    monkeypatch.setattr(web_state.Workspace, "audit", broken)  # our own code, made to fail on purpose
    status, _, body = server.request("GET", "/controles/controle-2025", headers={"Accept": "text/html"})
    assert status == 500
    page = body.decode()
    assert "Er ging iets onverwachts mis" in page and "geheim detail" not in page and "Traceback" not in page
    status, _, body = server.request("GET", "/controles/controle-2025/voortgang")
    assert status == 500 and "Er ging iets onverwachts mis" in json.loads(body)["fout"]
