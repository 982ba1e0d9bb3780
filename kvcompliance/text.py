"""Text compared the way people type it: the one normalisation used everywhere."""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def squash(text: str) -> str:
    """Text compared without case, accents, spacing or punctuation: 'KvK-nummer *' -> 'kvknummer'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", text.lower())


#: What :func:`printable` puts in place of a character a terminal would act on.
REPLACEMENT = "\ufffd"
#: Control (C0, DEL, C1), format (bidi overrides and isolates, zero-width), surrogate
#: (a file name that is not valid UTF-8) and line/paragraph separator characters.
_UNPRINTABLE = ("Cc", "Cf", "Cs", "Zl", "Zp")


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: every character a terminal would act on
    instead of show (escape sequences that clear the screen or move the cursor, a line
    feed that fakes an output line, bidi controls that reverse what is read) becomes
    U+FFFD. For file names, provider names and messages that quote them."""
    text = str(text)
    if text.isprintable():  # the usual case, fast; isprintable is False for all of the above
        return text
    return "".join(REPLACEMENT if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)
