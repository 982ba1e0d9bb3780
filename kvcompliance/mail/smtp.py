"""Sending over SMTP, and the log that keeps a workbook from going out twice.

Security: port 465 means TLS from the first byte (``--tls``); every other port needs
STARTTLS, and a server that does not offer it is refused rather than spoken to in the
clear: a server that "forgets" to offer STARTTLS is exactly how an attacker on the network
would read the password and the providers' verdicts. Only ``--geen-tls`` (a test server on
this computer, or a relay in the gemeente's own network) sends without encryption, and
then never a password unless the server is this computer. Certificates are checked
against the system's trusted authorities (``SSL_CERT_FILE`` adds one of the gemeente's own).

The log ``verzending/verzonden.jsonl`` gets one line per message the server accepted,
written (and flushed to disk) before the next message goes: address, kind, workbook,
SHA-256 of the attachment, time and the server's answer. A workbook (same SHA-256) never
goes to the same address twice, nor a new audit's workbook of the same return with the same
eindoordeel (``--opnieuw`` sends it); a reminder at most once a day per contract and address.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from kvcompliance.errors import MailError
from kvcompliance.mail.letters import COVER
from kvcompliance.mail.messages import WRITE_POLICY, build_message
from kvcompliance.mail.plan import Outgoing
from kvcompliance.outputs import MAIL_DIR, SENT_LOG
from kvcompliance.settings import Letterhead
from kvcompliance.text import quoted

TLS, STARTTLS, PLAIN = "tls", "starttls", "geen"
TLS_PORT, SUBMISSION_PORT = 465, 587
SECURITY_WORDS = {TLS: "TLS", STARTTLS: "STARTTLS", PLAIN: "zonder versleuteling"}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SENT, REFUSED, STOPPED = "verstuurd", "geweigerd", "afgebroken"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str  # TLS, STARTTLS or PLAIN
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port} ({SECURITY_WORDS[self.security]})"


def server_from(text: str, security: str | None, user: str | None = None, password: str | None = None) -> Server:
    """``HOST[:PORT]`` (``[::1]:25`` for an IPv6 address) and the chosen security; without a
    port 465 for ``--tls``, else 587. Without a choice: TLS on 465, else STARTTLS."""
    text = (text or "").strip()
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or (port is not None and not (port.isdigit() and 0 < int(port) < 65536)):
        raise MailError(f"--smtp {quoted(text)} is geen server; schrijf SERVER of SERVER:POORT, bijvoorbeeld smtp.gemeente.nl:587.")
    number = int(port) if port is not None else (TLS_PORT if security == TLS else SUBMISSION_PORT)
    chosen = security or (TLS if number == TLS_PORT else STARTTLS)
    if user and chosen == PLAIN and host.lower() not in LOCAL_HOSTS:
        raise MailError(
            "Met --geen-tls gaat het wachtwoord onversleuteld over het netwerk. Inloggen zonder versleuteling kan alleen bij "
            "een server op deze computer; gebruik --starttls of --tls."
        )
    return Server(host, number, chosen, user or None, password)


# ------------------------------------------------------------------ the log of what was sent
def log_path(out_dir: Path) -> Path:
    return Path(out_dir) / MAIL_DIR / SENT_LOG


def read_log(out_dir: Path) -> list[dict]:
    """The entries of the log (a line that cannot be read is skipped)."""
    entries = []
    try:
        with log_path(out_dir).open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    entries.append(entry)
    except FileNotFoundError:
        return []
    except OSError as exc:
        from kvcompliance.report.xlsx import os_reason

        raise MailError(f"Het logboek {log_path(out_dir)} kan niet worden gelezen: {os_reason(exc)}.") from None
    return entries


def send_keys(kind: str, address: str, sha256: str, contract: str, day: str, source: str, verdict: str) -> list[tuple]:
    """What may go only once: a workbook (its SHA-256) to an address, and the workbook of
    one return (the return file's SHA-256) with one eindoordeel to an address: a new audit
    of the same return makes a new file with the same verdict, which need not go again. A
    reminder goes once a day per contract and address."""
    if kind != COVER:
        return [(kind, address.casefold(), contract, day)]
    keys = [(kind, address.casefold(), sha256)]
    if source:
        keys.append((kind, address.casefold(), contract, source, verdict))
    return keys


def already_sent(out_dir: Path, items: Iterable[Outgoing], same_return: bool = True, today: str | None = None) -> dict[str, dict]:
    """Draft name -> the log entry of an earlier send of the same message (see
    :func:`send_keys`; ``same_return=False``: only the very same workbook counts)."""
    today = today or datetime.now().date().isoformat()
    done = {}
    for entry in read_log(out_dir):
        text = {k: str(entry.get(k) or "") for k in ("soort", "adres", "sha256", "contractnummer", "tijd", "opgave_sha256",
                                                      "eindoordeel")}
        for key in send_keys(text["soort"], text["adres"], text["sha256"], text["contractnummer"], text["tijd"][:10],
                             text["opgave_sha256"], text["eindoordeel"]):
            done[key] = entry
    found = {}
    for item in items:
        keys = send_keys(item.kind, item.row.address, item.sha256, item.row.contract, today, item.return_sha256,
                         item.row.overall)
        for key in keys if same_return else keys[:1]:
            if key in done:
                found[item.draft_name] = done[key]
                break
    return found


def _append(out_dir: Path, entry: dict) -> None:
    path = log_path(out_dir)
    path.parent.mkdir(exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# ------------------------------------------------------------------ sending
@dataclass(frozen=True)
class Outcome:
    item: Outgoing | None  # None: the connection failed before the first message
    state: str  # SENT, REFUSED or STOPPED
    answer: str  # the server's answer, or the Dutch reason


def connect(server: Server) -> smtplib.SMTP:
    """An open, secured and (with a user) logged-in connection; a Dutch :class:`MailError` if not."""
    context = ssl.create_default_context()
    where = f"de mailserver {server.host}:{server.port}"
    try:
        if server.security == TLS:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            smtp.ehlo()
            if server.security == STARTTLS:
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        f"{where} biedt geen STARTTLS aan; zonder versleuteling wordt niets verstuurd. Gebruik --tls als de "
                        "server TLS op deze poort verwacht (meestal poort 465), of alleen voor een testserver --geen-tls."
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user:
                smtp.login(server.user, server.password or "")
        except BaseException:
            smtp.close()
            raise
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"Inloggen bij {where} als {server.user} is mislukt: {_answer(exc.smtp_code, exc.smtp_error)}.") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"{where} biedt geen inloggen aan (AUTH); laat --gebruiker weg of kies een andere server.") from None
    except ssl.SSLCertVerificationError as exc:
        raise MailError(f"Het certificaat van {where} is niet te vertrouwen ({exc.verify_message}); er is niets verstuurd.") from None
    except ssl.SSLError as exc:
        raise MailError(
            f"De versleutelde verbinding met {where} is mislukt ({exc.reason or exc}). Verwacht de server STARTTLS in plaats "
            "van TLS (of andersom)? Kies dan --starttls of --tls."
        ) from None
    except socket.gaierror:
        raise MailError(f"De mailserver {server.host} is niet gevonden; controleer de naam bij --smtp.") from None
    except (TimeoutError, socket.timeout):
        raise MailError(f"{where} antwoordt niet (na {server.timeout:.0f} seconden).") from None
    except ConnectionRefusedError:
        raise MailError(f"{where} weigert de verbinding; controleer de server en de poort.") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"Verbinden met {where} is mislukt ({exc.__class__.__name__}: {exc}).") from None
    return smtp


def send(
    out_dir: Path,
    items: Iterable[Outgoing],
    server: Server,
    head: Letterhead,
    pause: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Outcome]:
    """Send each item, one message per connection command sequence, and yield what
    happened to it. A refused address is yielded and the next goes on; a lost connection
    ends with one :data:`STOPPED` outcome. Raises :class:`MailError` when no connection can
    be made at all (before anything was sent)."""
    if not head.email:
        raise MailError("Om te versturen is een afzender nodig: zet [afzender] email in de instellingen.")
    items = list(items)
    if not items:
        return
    smtp = connect(server)
    try:
        for n, item in enumerate(items):
            if n:
                sleep(pause)
            outcome = _send_one(smtp, item, head)
            if outcome.state == SENT:
                try:
                    _append(out_dir, _entry(item, server, outcome.answer))
                except OSError as exc:
                    from kvcompliance.report.xlsx import os_reason

                    raise MailError(
                        f"Het bericht aan {item.row.address} is verstuurd, maar kon niet in het logboek {log_path(out_dir)} "
                        f"worden gezet ({os_reason(exc)}). Verzenden is gestopt, zodat niets dubbel gaat."
                    ) from None
            yield outcome
            if outcome.state == STOPPED:
                return
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _send_one(smtp: smtplib.SMTP, item: Outgoing, head: Letterhead) -> Outcome:
    message = build_message(item, head, draft=False)
    wide = not (item.row.address.isascii() and head.email.isascii())
    options: list[str] = []
    if wide:
        if not smtp.has_extn("smtputf8"):
            return Outcome(item, REFUSED, "de server kan geen e-mailadres met letters buiten het ASCII-alfabet aan")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    data = message.as_bytes(policy=WRITE_POLICY.clone(utf8=True) if wide else WRITE_POLICY)
    phase = "voor"
    try:
        code, reply = smtp.mail(head.email, options)
        if code != 250:
            smtp.rset()
            return Outcome(item, REFUSED, f"de server weigert de afzender: {_answer(code, reply)}")
        code, reply = smtp.rcpt(item.row.address)
        if code not in (250, 251):
            smtp.rset()
            return Outcome(item, REFUSED, _answer(code, reply))
        phase = "tijdens"
        code, reply = smtp.data(data)
        return Outcome(item, SENT, _answer(code, reply))
    except smtplib.SMTPDataError as exc:
        _reset(smtp)
        return Outcome(item, REFUSED, _answer(exc.smtp_code, exc.smtp_error))
    except (smtplib.SMTPException, OSError) as exc:
        what = "de server verbrak de verbinding" if isinstance(exc, smtplib.SMTPServerDisconnected) else (
            f"de verbinding met de server ging verloren ({exc.__class__.__name__})")
        if phase == "tijdens":
            what += "; dit bericht is mogelijk toch aangekomen, maar staat niet in het logboek"
        return Outcome(item, STOPPED, what)


def _reset(smtp: smtplib.SMTP) -> None:
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _answer(code: int | None, reply: bytes | str | None) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply or "")
    return " ".join(f"{code or ''} {text}".split())


def _entry(item: Outgoing, server: Server, answer: str) -> dict:
    return {
        "tijd": datetime.now().astimezone().isoformat(timespec="seconds"),
        "soort": item.kind,
        "adres": item.row.address,
        "aanbieder": item.row.provider,
        "contractnummer": item.row.contract,
        "werkboek": item.row.workbook or None,
        "sha256": item.sha256 or None,
        "opgave_sha256": item.return_sha256 or None,
        "eindoordeel": item.row.overall or None,
        "onderwerp": item.letter.subject,
        "server": f"{server.host}:{server.port}",
        "antwoord": answer,
    }
