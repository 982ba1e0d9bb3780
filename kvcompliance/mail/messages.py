"""The e-mails themselves (RFC 5322, UTF-8) and the drafts in ``verzending/``.

A draft is the e-mail as it would be sent, with ``X-Unsent: 1``: Outlook opens such an
``.eml`` file as a message still to be sent, Thunderbird can edit and send it ("Bewerken
als nieuw bericht"). The body is plain text (provider text stays text), quoted-printable
UTF-8; the workbook is attached under its own name (RFC 2231 for accented names).

Running verzend again replaces the drafts it wrote before and nothing else: the names and
SHA-256 of the drafts it wrote are kept in ``verzending/.concepten.json``. A file the
officer put there, or a draft changed since it was written, is never removed or
overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from kvcompliance.mail.plan import Outgoing
from kvcompliance.outputs import MAIL_DIR
from kvcompliance.report.xlsx import atomic_path, os_reason
from kvcompliance.errors import MailError
from kvcompliance.settings import Letterhead
from kvcompliance.text import one_line, plain

#: Building: CRLF line ends, the text encoded in lines of at most 76 characters, the limit
#: of quoted-printable (RFC 2045), which Python's encoder takes from the policy.
POLICY = policy.SMTP.clone(max_line_length=76)
#: Writing: headers unfolded (within RFC 5322's 998), so that a long subject is not moved to
#: the next line and an accented file name is one RFC 2231 parameter, not split in parts
#: that some mail programs do not join.
WRITE_POLICY = policy.SMTP.clone(max_line_length=998)
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DRAFTS_FILE = ".concepten.json"
PROGRAM = "kvcompliance"
#: The characters of a letter's own layout that stay in its body (see :func:`kvcompliance.text.plain`).
BODY_LAYOUT = "\n\t"


def _header_text(text: str) -> str:
    """Provider text fit for a header: escape sequences gone, control characters and line
    breaks one space (:func:`kvcompliance.text.one_line`)."""
    return one_line(text or "")


def build_message(item: Outgoing, head: Letterhead, draft: bool, now: datetime | None = None) -> EmailMessage:
    """The e-mail of ``item``: a draft (``X-Unsent: 1``) or one to send (with a Message-ID)."""
    message = EmailMessage(policy=POLICY)
    if head.email:
        sender = _header_text(", ".join(p for p in (head.name, head.department) if p))
        message["From"] = Address(display_name=sender, addr_spec=head.email)
    message["To"] = Address(display_name=_header_text(item.row.contact or item.row.provider), addr_spec=item.row.address)
    message["Subject"] = _header_text(item.letter.subject)
    message["Date"] = format_datetime((now or datetime.now()).astimezone())
    if draft:
        message["X-Unsent"] = "1"
    else:
        domain = head.email.rpartition("@")[2] if head.email else None
        message["Message-ID"] = make_msgid(domain=domain)
    # the letter's own lines stay; whatever a mail program would act on (escape sequences, controls) does not
    message.set_content(plain(item.letter.body, keep=BODY_LAYOUT), charset="utf-8", cte="quoted-printable")
    if item.attachment is not None:
        message.add_attachment(item.attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=item.row.workbook_name)
    return message


@dataclass(frozen=True)
class DraftsWritten:
    folder: Path
    written: tuple[str, ...]  # draft file names
    removed: int  # earlier drafts of this mailing that are gone now
    kept: tuple[tuple[str, str], ...]  # (name, Dutch reason) of drafts not written


def write_drafts(out_dir: Path, mailing: str, items: tuple[Outgoing, ...], head: Letterhead) -> DraftsWritten:
    """Write one ``.eml`` draft per item in ``out_dir/verzending/``, replacing the drafts
    this mailing wrote before (see the module docstring)."""
    folder = Path(out_dir) / MAIL_DIR
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise MailError(f"De map {folder} kan niet worden gemaakt: {os_reason(exc)}.") from None
    book = _read_book(folder)
    before: dict[str, str] = dict(book.get(mailing, {}))
    now = datetime.now()
    drafts = {item.draft_name: build_message(item, head, draft=True, now=now).as_bytes(policy=WRITE_POLICY) for item in items}
    kept, written = [], {}
    for name in drafts:
        path = folder / name
        if path.exists() and (name not in before or not _ours(path, before[name])):
            kept.append((name, f"{name} staat al in {MAIL_DIR}/ en is niet (zo) door kvcompliance geschreven; niet overschreven"))
    blocked = {name for name, _ in kept}
    # First note every name this run may leave behind, so that an interrupted run still
    # knows them as its own; then remove the old drafts and write the new ones.
    book[mailing] = {**before, **{name: "" for name in drafts if name not in blocked}}
    _write_book(folder, book)
    removed = 0
    for name, digest in before.items():
        path = folder / name
        if name in drafts and name not in blocked:
            continue  # replaced below
        if path.is_file() and not path.is_symlink() and _ours(path, digest):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    for name, data in drafts.items():
        if name in blocked:
            continue
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(data)
        written[name] = hashlib.sha256(data).hexdigest()
    book[mailing] = written
    _write_book(folder, book)
    return DraftsWritten(folder, tuple(written), removed, tuple(kept))


def _ours(path: Path, digest: str) -> bool:
    """Whether ``path`` is still the draft this tool wrote (digest '': written by a run that
    was interrupted before it could note the digest)."""
    return not digest or _sha256(path) == digest


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_book(folder: Path) -> dict[str, dict[str, str]]:
    """The drafts written before, per mailing (empty when there is no readable record)."""
    try:
        data = json.loads((folder / DRAFTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("programma") != PROGRAM or not isinstance(data.get("concepten"), dict):
        return {}
    return {
        mailing: {n: d for n, d in names.items() if isinstance(n, str) and isinstance(d, str) and "/" not in n and "\\" not in n}
        for mailing, names in data["concepten"].items()
        if isinstance(names, dict)
    }


def _write_book(folder: Path, book: dict[str, dict[str, str]]) -> None:
    with atomic_path(folder / DRAFTS_FILE) as tmp:
        tmp.write_text(json.dumps({"programma": PROGRAM, "concepten": book}, ensure_ascii=False, indent=1), encoding="utf-8")
