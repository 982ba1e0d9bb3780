"""Text compared the way people type it, and text made safe to show: the one normalisation
used everywhere (:func:`squash` to compare; :func:`printable` for the terminal;
:func:`plain` and :func:`one_line` for what other programs show, such as e-mails;
:func:`after_colon` to make a sentence of the catalogue part of a message; :func:`quoted` for
a field label or a typed value inside a Dutch sentence)."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def squash(text: str) -> str:
    """Text compared without case, accents, spacing or punctuation: 'KvK-nummer *' -> 'kvknummer'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", text.lower())


#: The one way a Dutch sentence quotes a field label, a sheet name or what someone typed:
#: single curly quotes, ‘Aantal fte’ (the catalogue's texts use the same marks).
QUOTE_OPEN, QUOTE_CLOSE = "\u2018", "\u2019"


def quoted(value: object) -> str:
    """``value`` quoted inside a Dutch sentence: ‘ca. 20’ is geen getal. Text is quoted; a
    number, true/false or a list from a settings file is shown as it is (12, true), so the
    reader still sees whether a setting was written as text."""
    if isinstance(value, str):
        return f"{QUOTE_OPEN}{value}{QUOTE_CLOSE}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: What :func:`printable` puts in place of a character a terminal would act on.
REPLACEMENT = "\ufffd"
#: Control (C0, DEL, C1), format (bidi overrides and isolates, zero-width), surrogate
#: (a file name that is not valid UTF-8) and line/paragraph separator characters.
_UNPRINTABLE = ("Cc", "Cf", "Cs", "Zl", "Zp")


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: every character a terminal would act on
    instead of show (escape sequences that clear the screen or move the cursor, a line
    feed that fakes an output line, bidi controls that reverse what is read) becomes
    U+FFFD. A byte of a file name that is not UTF-8 (a surrogate U+DC80..U+DCFF, as the
    OS hands it over) is shown escaped, ``\\xe9``, so two such names stay two names.
    For file names, provider names and messages that quote them."""
    text = str(text)
    if text.isprintable():  # the usual case, fast; isprintable is False for all of the above
        return text
    return "".join(_shown(ch) if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)


def _shown(ch: str) -> str:
    """An unprintable character on a terminal: an undecodable file-name byte escaped, else U+FFFD."""
    return f"\\x{ord(ch) - 0xDC00:02x}" if "\udc80" <= ch <= "\udcff" else REPLACEMENT


#: An escape sequence a terminal or a mail program's viewer would act on (CSI ... final
#: byte, OSC ... BEL or ST, and the two-character ones): removed whole by :func:`plain`.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)


def plain(text: object, keep: str = "") -> str:
    """``text`` with nothing in it that another program would act on instead of show: an
    escape sequence (``ESC[31m``) is removed whole, every other character :func:`printable`
    replaces (control, bidi, line and paragraph separators) becomes a space. The
    characters in ``keep`` stay: ``"\\n"`` keeps the lines of a letter."""
    text = str(text)
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(ch if ch in keep or unicodedata.category(ch) not in _UNPRINTABLE else " " for ch in text)


def one_line(text: object) -> str:
    """``text`` as one line of plain text (:func:`plain`, every run of spaces and line
    breaks one space): a provider's name in an e-mail header or in a sentence of a letter."""
    return " ".join(plain(text).split())


def after_colon(sentence: str, names: Iterable[str] = ()) -> str:
    """A sentence of its own (a reason from the catalogue, 'Het bestand is leeg.') as the
    part after the colon of a message, so that the message reads as one sentence: 'Het
    contractregister kan niet worden gelezen: het bestand is leeg.' Only an ordinary first
    word loses its capital; a name keeps it: an abbreviation ('CSV-bestand', 'KvK') and
    every one of ``names``, the catalogue's proper names ('Veilig Thuis', 'Wmo': see
    ``Catalogue.proper_names``)."""
    if any(sentence.startswith(name) and not sentence[len(name):len(name) + 1].isalnum() for name in names):
        return sentence
    first = sentence.split(" ", 1)[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return sentence[:1].lower() + sentence[1:]
    return sentence
