"""kvcompliance verzend (issue 14): drafts, real sending, reminders.

A real audit writes the output folder; a real SMTP server (aiosmtpd) on 127.0.0.1 receives
what verzend sends; drafts are parsed back with Python's ``email`` package. The checks are
what a provider or the officer would notice: who gets a message, with which workbook,
saying what, and who gets nothing and why.
"""

from __future__ import annotations

import csv
import email
import hashlib
import io
import json
import shutil
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from kvcompliance.cli import PASSWORD_VARIABLE, main
from kvcompliance.settings import SettingsError, load_settings
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_instrument import SETTINGS
from tests.test_validate import BASE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROVIDERS = {
    # key: (changes to BASE, register address)
    "een": ({"aanbieder_naam": "Stichting Eén", "kvk_nummer": "11111111", "contractnummer": "C-1", "contact_naam": "Anouk Jansen",
             "contact_email": "anouk@een.nl"}, ""),
    "twee": ({"aanbieder_naam": "Stichting Twee", "kvk_nummer": "22222222", "contractnummer": "C-2", "contact_naam": None,
              "contact_email": "info@twee.nl", "intervisie_bijeenkomsten": 0}, ""),
    "erf": ({"aanbieder_naam": "Zorgboerderij 't Erf", "kvk_nummer": "33333333", "contractnummer": "C-3",
             "contact_email": "info@zorgboerderij-terf"}, ""),
    "vier": ({"aanbieder_naam": "Stichting Vier", "kvk_nummer": "44444444", "contractnummer": "C-4",
              "contact_email": "post@koepel.nl"}, ""),
    "vijf": ({"aanbieder_naam": "Stichting Vijf", "kvk_nummer": "55555555", "contractnummer": "C-5",
              "contact_email": "Post@Koepel.nl"}, ""),
    "zes": ({"aanbieder_naam": "Stichting Zes", "kvk_nummer": "66666666", "contractnummer": "C-6", "contact_naam": "Bram de Boer",
             "contact_email": "oud@zes.nl", "fte": None}, "bram@zes.nl"),
    "zeven": ({"aanbieder_naam": "Stichting Zeven", "kvk_nummer": "77777777", "contractnummer": "C-7",
               "contact_email": "weiger@zeven.nl"}, ""),
}
#: The addresses that get the workbook (all but the malformed and the shared ones).
GOOD = {"anouk@een.nl", "info@twee.nl", "bram@zes.nl", "weiger@zeven.nl"}


# ------------------------------------------------------------------ a real audit and a real SMTP server
@pytest.fixture(scope="module")
def audited(tmp_path_factory, blank_form) -> Path:  # noqa: F811
    """An output folder of `kvcompliance audit --contracten` with the settings of the officer."""
    root = tmp_path_factory.mktemp("verzend")
    inbox = root / "opgaven"
    inbox.mkdir()
    register = ["contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email"]
    for key, (changes, register_address) in PROVIDERS.items():
        values = {**BASE, **changes}
        fill(blank_form, inbox / f"{key}.xlsx", values)
        register.append(f"{values['contractnummer']};{values['aanbieder_naam']};{values['kvk_nummer']};jeugdhulp;{register_address}")
    register.append("C-8;Stichting Acht;88888888;wmo;info@acht.nl")  # no return
    (root / "contracten.csv").write_text("\n".join(register) + "\n", encoding="utf-8")
    (root / "kvcompliance.toml").write_text(SETTINGS, encoding="utf-8")
    out = root / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--contracten", str(root / "contracten.csv"),
                                       "--instellingen", str(root / "kvcompliance.toml"), "--stil"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def out(audited, tmp_path) -> Path:
    """A fresh copy of the output folder for each test."""
    return Path(shutil.copytree(audited / "uitvoer", tmp_path / "uitvoer"))


@pytest.fixture
def settings(audited) -> Path:
    return audited / "kvcompliance.toml"


class Mailbox:
    """An aiosmtpd handler that keeps every message; it refuses the addresses in ``refuse``
    and drops the connection at the message numbers in ``hang_up_at``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.hang_up_at: set[int] = set()
        self.attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox onbekend"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts in self.hang_up_at:
            server.transport.abort()
            return "421 weg"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"

    def parsed(self) -> dict[str, email.message.EmailMessage]:
        found = {}
        for _, recipients, content in self.messages:
            (address,) = recipients
            assert address not in found, f"{address} kreeg twee berichten"
            found[address] = email.message_from_bytes(content, policy=policy.default)
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start real SMTP servers on 127.0.0.1; each is stopped after the test."""
    started = []

    def start(mailbox: Mailbox | None = None, **options) -> tuple[Mailbox, int]:
        mailbox = mailbox or Mailbox()
        controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **options)
        controller.start()
        started.append(controller)
        return mailbox, controller.port

    yield start
    for controller in started:
        controller.stop()


def verzend(out: Path, settings: Path, *args: str, input: str | None = None, env: dict | None = None):
    return CliRunner().invoke(main, ["verzend", str(out), "--instellingen", str(settings), *args], input=input, env=env)


def send_args(port: int, *more: str) -> list[str]:
    return ["--verstuur", "--smtp", f"127.0.0.1:{port}", "--geen-tls", "--pauze", "0", "--ja", *more]


def _draft(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _attachment(message) -> tuple[str, bytes] | None:
    parts = list(message.iter_attachments())
    if not parts:
        return None
    (part,) = parts
    assert part.get_content_type() == XLSX
    return part.get_filename(), part.get_content()


def _mailing_list(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "verzendlijst.csv").read_bytes().decode("utf-8-sig")
    return {row["contractnummer"]: row for row in csv.DictReader(io.StringIO(text), delimiter=";")}


# ------------------------------------------------------------------ the mailing list
def test_the_mailing_list_says_whom_to_mail_and_what_is_wrong_with_an_address(out):
    rows = _mailing_list(out)
    assert set(rows) == {f"C-{n}" for n in range(1, 9)}
    assert rows["C-1"]["contactpersoon"] == "Anouk Jansen" and rows["C-1"]["kvk_nummer"] == "11111111"
    assert rows["C-1"]["adrescontrole"] == "geldig" and rows["C-1"]["eindoordeel"] == "Groen"
    assert rows["C-3"]["adrescontrole"] == "ongeldig"  # info@zorgboerderij-terf: no dot in the domain
    assert rows["C-4"]["adrescontrole"] == "gedeeld met Stichting Vijf (KvK 55555555)"
    assert rows["C-5"]["adrescontrole"] == "gedeeld met Stichting Vier (KvK 44444444)"
    assert rows["C-6"]["contact_email"] == "bram@zes.nl"  # the register's address before the form's
    assert rows["C-6"]["aanlevering"] == "Grijs" and "‘Aantal fte van deze medewerkers’ is niet ingevuld" in rows["C-6"]["aan_te_vullen"]
    assert rows["C-2"]["inhoud"] == "Rood" and rows["C-2"]["aan_te_vullen"] == ""
    assert rows["C-8"]["werkboek"] == "" and rows["C-8"]["aanbieder"] == "Stichting Acht" and rows["C-8"]["eindoordeel"] == ""
    for row in rows.values():
        if row["werkboek"]:
            assert (out / row["werkboek"]).is_file()


# ------------------------------------------------------------------ drafts
def test_drafts_one_per_provider_with_a_valid_address_each_with_its_own_workbook(out, settings):
    result = verzend(out, settings)
    assert result.exit_code == 1, result.output  # some providers get nothing
    assert "4 concepten met de brief en het eigen werkboek als bijlage" in result.output
    assert "3 aanbieders krijgen geen e-mail:" in result.output
    assert "Zorgboerderij 't Erf (info@zorgboerderij-terf): het e-mailadres is ongeldig" in result.output
    assert "Stichting Vier (post@koepel.nl): hetzelfde e-mailadres staat ook bij Stichting Vijf" in result.output
    assert "Stichting Acht" not in result.output  # no return: only for the reminders
    rows = {row["contact_email"]: row for row in _mailing_list(out).values()}
    drafts = sorted((out / "verzending").glob("*.eml"))
    assert len(drafts) == 4
    seen = set()
    for path in drafts:
        message = _draft(path)
        address = message["To"].addresses[0].addr_spec
        seen.add(address)
        row = rows[address]
        workbook = out / row["werkboek"]
        assert path.name == Path(row["werkboek"]).stem + ".eml"
        assert message["X-Unsent"] == "1"
        assert message["From"].addresses[0].addr_spec == "inkoop@eemvallei.example"
        assert message["From"].addresses[0].display_name == "Regio Eemvallei, Inkoop sociaal domein"
        assert message["Subject"] == f"Uw werkboek voor het accountgesprek over 2025 (contract {row['contractnummer']})"
        body = message.get_body(("plain",))
        assert body.get_content_charset() == "utf-8"
        text = body.get_content().replace("\r\n", "\n")
        assert f"Het eindoordeel is {row['eindoordeel'].lower()}:" in text
        for expected in ("De gesprekken zijn in april en mei 2026.", "Wilt u vóór 15 april 2026 reageren",
                         "A. de Vries", "inkoop@eemvallei.example", "033 123 45 67", row["aanbieder"]):
            assert expected in text, expected
        assert _attachment(message) == (workbook.name, workbook.read_bytes())
    assert seen == GOOD
    een = _draft(next(p for p in drafts if "C-1" in p.name)).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert een.startswith("Beste Anouk Jansen,\n") and "over de opgave" not in een.split("\n")[0]
    twee = _draft(next(p for p in drafts if "C-2" in p.name)).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert twee.startswith("Geachte heer, mevrouw,\n") and "Het eindoordeel is rood" in twee


def test_a_draft_is_a_standard_mime_message_as_thunderbird_reads_it(out, settings):
    verzend(out, settings)
    raw = next((out / "verzending").glob("*C-1.eml")).read_bytes()
    head, _, _ = raw.partition(b"\r\n\r\n")
    assert b"\r\n" in head and b"\n" not in head.replace(b"\r\n", b"")  # CRLF line ends only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322's limit
    text_part = raw.split(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", 1)[1].split(b"\r\n--=", 1)[0]
    assert max(len(line) for line in text_part.split(b"\r\n")) <= 76  # quoted-printable's limit
    assert raw.isascii()  # UTF-8 text travels encoded (quoted-printable, RFC 2047/2231)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed" and message["MIME-Version"] == "1.0"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", XLSX]
    assert "Stichting Eén" in message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_control_characters_and_escape_sequences_of_a_provider_never_reach_a_draft(tmp_path, settings):
    """A provider's name and contact person with escape sequences (clear the screen, set a
    window title), a bell, a right-to-left override and a line break that fakes a line of the
    letter: the draft's headers and body show the plain text, and the letter keeps its lines."""
    fixture = Path(__file__).parent / "fixtures" / "opgave.csv"
    rows = list(csv.reader(io.StringIO(fixture.read_text(encoding="utf-8")), delimiter=";"))
    hostile = {"Naam organisatie *": "Stichting \x1b[2J\x1b]0;titel\x07Veld\u202e\nFout: betaal nu\x0b\x9b2J",
               "Contactpersoon": "Sanne\x1b[31m\r\nde Vries\x07"}
    for row in rows:
        if row and row[0] in hostile:
            row[1] = hostile[row[0]]
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    (inbox / "opgave.csv").write_text(buffer.getvalue(), encoding="utf-8")
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--instellingen", str(settings), "--stil"])
    assert result.exit_code == 0, result.output
    assert "\x1b" in (out / "verzendlijst.csv").read_text(encoding="utf-8-sig")  # the provider's text as it typed it
    verzend(out, settings)
    (draft,) = (out / "verzending").glob("*.eml")
    message = _draft(draft)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    for bad in ("\x1b", "\x07", "\x0b", "\x9b", "\u202e", "\r", "[2J", "[31m", "titel"):
        assert bad not in text and bad not in str(message["To"]), repr(bad)
    assert "Stichting Veld Fout: betaal nu" in text and not any(line.startswith("Fout:") for line in text.split("\n"))
    assert text.startswith("Beste Sanne de Vries,\n\n") and message["To"].addresses[0].display_name == "Sanne de Vries"
    assert text.count("\n\n") >= 3  # the letter's own paragraphs are still there


def test_rerunning_replaces_its_own_drafts_and_nothing_else(out, settings):
    assert verzend(out, settings).exit_code == 1
    folder = out / "verzending"
    (folder / "mijn notitie.eml").write_text("van de adviseur", encoding="utf-8")
    edited = next(folder.glob("*C-2.eml"))
    edited.write_bytes(edited.read_bytes() + b"\r\nmet de hand aangepast\r\n")
    stale = folder / "2024_Oude aanbieder_X-1.eml"
    # A draft of an earlier run for a provider no longer in the list: written by verzend, so removed.
    book = json.loads((folder / ".concepten.json").read_text(encoding="utf-8"))
    stale.write_bytes(b"oud concept")
    book["concepten"]["werkboek"][stale.name] = hashlib.sha256(b"oud concept").hexdigest()
    (folder / ".concepten.json").write_text(json.dumps(book), encoding="utf-8")
    result = verzend(out, settings)
    assert result.exit_code == 1
    assert "3 concepten met de brief" in result.output
    assert f"niet geschreven: {edited.name} staat al in verzending/" in result.output
    assert (folder / "mijn notitie.eml").read_text(encoding="utf-8") == "van de adviseur"
    assert edited.read_bytes().endswith(b"met de hand aangepast\r\n")
    assert not stale.exists()
    # the reminders are a mailing of their own: they leave the workbook drafts alone
    verzend(out, settings, "--herinnering")
    assert len([p for p in folder.glob("*.eml") if not p.name.startswith("herinnering_")]) == 5


def test_a_workbook_that_is_not_from_the_latest_audit_is_not_mailed(out, settings):
    books = out / "accountgesprek"
    shutil.copy(next(books.glob("*C-1.xlsx")), books / "2024_Stichting Eén_C-1.xlsx")
    next(books.glob("2025_*C-2.xlsx")).unlink()
    result = verzend(out, settings)
    assert result.exit_code == 1
    assert "2024_Stichting Eén_C-1.xlsx: niet in de laatste controle" in result.output
    assert "Stichting Twee (info@twee.nl): het werkboek 2025_Stichting Twee_C-2.xlsx staat niet (meer) in accountgesprek/" in result.output
    assert "3 concepten" in result.output


def test_an_audit_that_died_while_swapping_its_files_in_is_put_back_before_anything_is_mailed(out, settings):
    import subprocess
    import sys

    from kvcompliance.outputs import JOURNAL_FILE
    from tests.test_outputs import CRASHING_SWAP, ROOT

    # the next audit dies (power cut, kill -9) after moving the manifest and the first old workbook out of place
    new = ["accountgesprek/2026_Nieuw_C-9.xlsx", "verzendlijst.csv", "overzicht.xlsx", "bevindingen.csv", "verwerking.jsonl"]
    crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(out), "3", *new], capture_output=True, text=True, cwd=ROOT)
    assert crashed.returncode == 9 and (out / JOURNAL_FILE).exists()
    assert len(list((out / "accountgesprek").glob("*.xlsx"))) == len(PROVIDERS) - 1  # a mix of two runs
    result = verzend(out, settings)
    assert "4 concepten met de brief" in result.output and "staat niet (meer)" not in result.output, result.output
    assert not (out / JOURNAL_FILE).exists() and len(list((out / "accountgesprek").glob("*.xlsx"))) == len(PROVIDERS)


def test_verzend_and_an_audit_never_use_the_same_output_folder_at_once(out, settings, audited):
    from kvcompliance.outputs import OutputFolder, settled_output

    with OutputFolder(out):  # an audit is writing into the folder
        result = verzend(out, settings)
    assert result.exit_code == 3 and "loopt al een controle" in result.output and "Traceback" not in result.output
    assert not (out / "verzending").exists()
    with settled_output(out, "kvcompliance verzend"):  # verzend is running
        result = CliRunner().invoke(main, ["audit", str(audited / "opgaven"), "-o", str(out), "--stil"])
    assert result.exit_code == 3 and "loopt al kvcompliance verzend" in result.output


# ------------------------------------------------------------------ sending
def test_sending_delivers_each_workbook_once_and_goes_on_after_a_refusal(out, settings, smtp_server):
    mailbox, port = smtp_server()
    mailbox.refuse = {"weiger@zeven.nl"}
    result = verzend(out, settings, *send_args(port))
    assert result.exit_code == 1, result.output  # one address was refused
    assert "geweigerd: Stichting Zeven → weiger@zeven.nl: 550 5.1.1 Mailbox onbekend" in result.output
    assert "3 e-mails verstuurd, 1 geweigerd door de server." in result.output
    received = mailbox.parsed()
    assert set(received) == GOOD - {"weiger@zeven.nl"}
    rows = {row["contact_email"]: row for row in _mailing_list(out).values()}
    for address, message in received.items():
        workbook = out / rows[address]["werkboek"]
        assert _attachment(message) == (workbook.name, workbook.read_bytes())
        assert message["X-Unsent"] is None and message["Message-ID"]
        assert "Het eindoordeel is" in message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert {m[0] for m in mailbox.messages} == {"inkoop@eemvallei.example"}
    log = [json.loads(line) for line in (out / "verzending" / "verzonden.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {e["adres"] for e in log} == set(received)
    for entry in log:
        workbook = out / entry["werkboek"]
        assert entry["sha256"] == hashlib.sha256(workbook.read_bytes()).hexdigest()
        assert entry["antwoord"] == "250 2.0.0 Ok: queued" and entry["tijd"]

    again = verzend(out, settings, *send_args(port))
    assert "3 e-mails al eerder verstuurd" in again.output and "die gaan niet opnieuw" in again.output
    assert len(mailbox.messages) == 4 - 1 + 0  # nothing new for the three, zeven still refused
    mailbox.refuse = set()
    third = verzend(out, settings, *send_args(port))
    assert "1 e-mail verstuurd, 0 geweigerd" in third.output
    assert [m[1] for m in mailbox.messages[3:]] == [["weiger@zeven.nl"]]
    fourth = verzend(out, settings, *send_args(port))
    assert "Geen e-mail te versturen." in fourth.output and len(mailbox.messages) == 4


def test_a_new_audit_of_the_same_returns_sends_nothing_again(audited, out, settings, smtp_server):
    mailbox, port = smtp_server()
    verzend(out, settings, *send_args(port))
    assert len(mailbox.messages) == 4
    result = CliRunner().invoke(main, ["audit", str(audited / "opgaven"), "-o", str(out), "--contracten",
                                       str(audited / "contracten.csv"), "--instellingen", str(settings), "--stil"])
    assert result.exit_code == 0, result.output
    again = verzend(out, settings, *send_args(port))
    assert "4 e-mails al eerder verstuurd" in again.output and len(mailbox.messages) == 4


def test_a_changed_workbook_goes_again_only_when_asked_and_the_same_one_never(out, settings, smtp_server):
    mailbox, port = smtp_server()
    verzend(out, settings, *send_args(port))
    book = next((out / "accountgesprek").glob("*C-1.xlsx"))
    book.write_bytes(book.read_bytes() + b"\0")  # the officer changed it after sending
    same_return = verzend(out, settings, *send_args(port))
    assert "4 e-mails al eerder verstuurd" in same_return.output and len(mailbox.messages) == 4
    verzend(out, settings, *send_args(port, "--opnieuw"))
    assert [m[1] for m in mailbox.messages].count(["anouk@een.nl"]) == 2
    assert len(mailbox.messages) == 5
    verzend(out, settings, *send_args(port, "--opnieuw"))
    assert len(mailbox.messages) == 5


def test_nothing_is_sent_without_a_yes(out, settings, smtp_server):
    mailbox, port = smtp_server()
    args = [a for a in send_args(port) if a != "--ja"]
    result = verzend(out, settings, *args, input="nee\n")
    assert "Klaar om 4 e-mails te versturen via 127.0.0.1" in result.output and "Niets verstuurd." in result.output
    assert mailbox.messages == [] and not (out / "verzending" / "verzonden.jsonl").exists()
    result = verzend(out, settings, *args, input="ja\n")
    assert len(mailbox.messages) == 4, result.output


def test_a_lost_connection_is_reported_and_the_log_holds_exactly_what_was_sent(out, settings, smtp_server):
    mailbox, port = smtp_server()
    mailbox.hang_up_at = {2}
    result = verzend(out, settings, *send_args(port))
    assert result.exit_code == 3
    assert "Fout: de verbinding met 127.0.0.1 is verbroken bij" in result.output
    assert "3 e-mails niet verstuurd. Draai hetzelfde commando opnieuw" in result.output
    log = (out / "verzending" / "verzonden.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["adres"] for line in log] == [m[1][0] for m in mailbox.messages]
    assert len(log) == 1
    mailbox.hang_up_at = set()
    verzend(out, settings, *send_args(port))
    assert sorted(m[1][0] for m in mailbox.messages) == sorted(GOOD)


def test_sending_needs_starttls_unless_told_otherwise(out, settings, smtp_server):
    mailbox, port = smtp_server()
    result = verzend(out, settings, "--verstuur", "--smtp", f"127.0.0.1:{port}", "--ja", "--pauze", "0")
    assert result.exit_code == 3
    assert "biedt geen STARTTLS aan; zonder versleuteling wordt niets verstuurd" in result.output
    assert mailbox.messages == []


def test_usage_errors_are_dutch_and_exit_2(out, settings):
    assert verzend(out, settings, "--verstuur").exit_code == 2
    assert verzend(out, settings, "--smtp", "localhost").exit_code == 2
    result = verzend(out, settings, "--verstuur", "--smtp", "mail.example:poort", "--ja")
    assert result.exit_code == 2 and "is geen server" in result.output
    result = verzend(out, settings, "--verstuur", "--smtp", "mail.example", "--geen-tls", "--gebruiker", "inkoop", "--ja")
    assert result.exit_code == 2 and "onversleuteld" in result.output


def test_a_folder_without_a_mailing_list_is_refused_in_dutch(tmp_path, settings):
    result = verzend(tmp_path, settings)
    assert result.exit_code == 3 and "staat geen verzendlijst.csv" in result.output and "Traceback" not in result.output


def test_a_mailing_list_row_cut_short_is_named_with_the_right_count(out, settings):
    path = out / "verzendlijst.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([lines[0], "Stichting Afgebroken", *lines[1:]]) + "\n", encoding="utf-8-sig")
    result = verzend(out, settings)
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "regel 2: 1 kolom in plaats van" in result.output


# ------------------------------------------------------------------ TLS and login
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography comes with msoffcrypto-tool)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def _server_context(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def _login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    text = [v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password)]
    return AuthResult(success=text == ["inkoop", "geheim"], handled=False)


def test_starttls_with_login_and_the_password_from_the_environment(out, settings, smtp_server, certificate, monkeypatch):
    mailbox, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True, authenticator=_login,
                                auth_required=True)
    args = ["--verstuur", "--smtp", f"127.0.0.1:{port}", "--gebruiker", "inkoop", "--pauze", "0", "--ja"]
    untrusted = verzend(out, settings, *args, env={PASSWORD_VARIABLE: "geheim"})
    assert untrusted.exit_code == 3 and "is niet te vertrouwen" in untrusted.output and mailbox.messages == []
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the gemeente's own authority
    wrong = verzend(out, settings, *args, env={PASSWORD_VARIABLE: "fout"})
    assert wrong.exit_code == 3 and "Inloggen bij de mailserver 127.0.0.1" in wrong.output and mailbox.messages == []
    result = verzend(out, settings, *args, env={PASSWORD_VARIABLE: "geheim"})
    assert "(STARTTLS), van inkoop@eemvallei.example, ingelogd als inkoop." in result.output
    assert "geheim" not in result.output
    assert len(mailbox.messages) == 4, result.output


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd cannot tell TLS from the start
def test_tls_from_the_first_byte_and_the_password_asked_for(out, settings, smtp_server, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    mailbox, port = smtp_server(ssl_context=_server_context(certificate), authenticator=_login, auth_required=True,
                                auth_require_tls=False)
    result = verzend(out, settings, "--verstuur", "--smtp", f"127.0.0.1:{port}", "--tls", "--gebruiker", "inkoop", "--pauze",
                     "0", "--ja", input="geheim\n")
    assert "Wachtwoord voor inkoop bij 127.0.0.1" in result.output and "geheim" not in result.output
    assert f"127.0.0.1:{port} (TLS)" in result.output
    assert len(mailbox.messages) == 4, result.output


# ------------------------------------------------------------------ reminders
def test_reminders_name_what_is_missing_and_go_once_a_day(out, settings, smtp_server):
    result = verzend(out, settings, "--herinnering")
    assert "2 concepten met de herinnering" in result.output, result.output
    folder = out / "verzending"
    acht = _draft(folder / "herinnering_2025_Stichting Acht_C-8.eml")
    zes = _draft(next(folder.glob("herinnering_*C-6.eml")))
    assert acht["To"].addresses[0].addr_spec == "info@acht.nl" and _attachment(acht) is None
    assert acht["Subject"] == "Herinnering: uw opgave over 2025 (contract C-8)"
    text = acht.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Geachte heer, mevrouw,") and "nog geen opgave over 2025 ontvangen van Stichting Acht" in text
    assert "De uiterste datum voor de opgave: 1 maart 2026." in text
    assert zes["Subject"] == "Uw opgave over 2025 is nog niet compleet (contract C-6)" and _attachment(zes) is None
    text = zes.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Beste Bram de Boer,") and "- ‘Aantal fte van deze medewerkers’ is niet ingevuld" in text

    mailbox, port = smtp_server()
    verzend(out, settings, "--herinnering", *send_args(port))
    assert sorted(m[1][0] for m in mailbox.messages) == ["bram@zes.nl", "info@acht.nl"]
    again = verzend(out, settings, "--herinnering", *send_args(port))
    assert "2 herinneringen al eerder verstuurd" in again.output and len(mailbox.messages) == 2


# ------------------------------------------------------------------ the letter in the settings
def test_letter_placeholders_are_checked_when_the_settings_are_loaded(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('[brief]\ntekst = """\n{aanhef}\nUw oordeel: {eindoordel}\n"""\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[brief\] tekst: onbekende plaatshouder \{eindoordel\}"):
        load_settings(path)
    path.write_text('[brief]\nherinnering_tekst = "{ontbreekt}"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[brief\] herinnering_tekst: onbekende plaatshouder \{ontbreekt\}"):
        load_settings(path)
    path.write_text('[brief]\nonderwerp = "Werkboek {jaar:>4}"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="onderwerp"):
        load_settings(path)
    path.write_text('[brief]\nonderwerp = "Werkboek {{controle}} {jaar}"\n', encoding="utf-8")
    assert load_settings(path).get("brief", "onderwerp") == "Werkboek {{controle}} {jaar}"


def test_a_letter_of_your_own_and_lines_without_a_value_left_out(out, tmp_path):
    own = tmp_path / "eigen.toml"
    own.write_text('[afzender]\nemail = "jeugd@gemeente.example"\n[brief]\nonderwerp = "{{Werkboek}} {aanbieder}"\n'
                   'tekst = """\n{aanhef}\nGesprek in {periode}.\nOordeel: {eindoordeel}.\n"""\n', encoding="utf-8")
    verzend(out, own)
    message = _draft(next((out / "verzending").glob("*C-2.eml")))
    assert message["Subject"] == "{Werkboek} Stichting Twee"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Geachte heer, mevrouw,\nOordeel: rood.\n"


# ------------------------------------------------------------------ small parts
def test_an_address_shared_within_one_provider_is_fine_between_two_it_is_not():
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.mail.addresses import Recipient, address_pattern, check_addresses

    pattern = address_pattern(load_catalogue())
    checks = check_addresses([
        Recipient("info@een.nl", "11111111", "Stichting Een"),  # two contracts of one provider
        Recipient("INFO@een.nl", "11111111", "Stichting Een, locatie Noord"),
        Recipient("info@zorgboerderij-terf", "22222222", "Zorgboerderij"),
        Recipient("", "33333333", "Stichting Drie"),
        Recipient("post@koepel.nl", "", "Stichting Vier"),  # no KvK-nummer: told apart by name
        Recipient("post@koepel.nl", "", "Stichting Vijf"),
        Recipient("a b@c.nl", "55555555", "Spatie"),
    ], pattern)
    assert [c.text for c in checks] == ["geldig", "geldig", "ongeldig", "ontbreekt", "gedeeld met Stichting Vijf",
                                        "gedeeld met Stichting Vier", "ongeldig"]


def test_verzend_help_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kvcompliance.cli import main\n"
        "assert CliRunner().invoke(main, ['verzend', '--help']).exit_code == 0\n"
        "print(','.join(m for m in ('pandas', 'pandera', 'xlsxwriter', 'openpyxl', 'smtplib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
