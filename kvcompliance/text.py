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
