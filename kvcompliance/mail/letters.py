"""The letters: the settings' ``[brief]`` texts filled in for one provider.

Three kinds: the cover letter with the workbook (:data:`COVER`), the reminder to a contract
without a return (:data:`REMINDER`) and the one to a return whose Aanlevering is grijs
(:data:`COMPLETION`). The texts and their placeholders are declared in
``schemas/instellingen.toml`` (checked when the settings are loaded); a key the settings
omit holds its declared text. A line of a letter with a placeholder that has no value
(a setting that is not set) is left out, so an unset date never leaves "vóór ." behind.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Mapping

from kvcompliance.mail.mailinglist import MailRow
from kvcompliance.settings import Settings, date_in_words, default_text, section_schema
from kvcompliance.text import one_line

SECTION = "brief"
COVER, REMINDER, COMPLETION = "werkboek", "herinnering", "aanvulling"
#: Per kind: the keys of its subject and its text.
KEYS = {
    COVER: ("onderwerp", "tekst"),
    REMINDER: ("herinnering_onderwerp", "herinnering_tekst"),
    COMPLETION: ("aanvulling_onderwerp", "aanvulling_tekst"),
}
#: What stands in for an unknown provider name or number (those lines must not vanish).
UNKNOWN_PROVIDER, UNKNOWN = "uw organisatie", "onbekend"
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def text_of(settings: Settings, key: str) -> str:
    """The ``[brief]`` text ``key``: the settings' own, else the declared one."""
    return settings.get(SECTION, key) or default_text(SECTION, key)


def values_for(row: MailRow, settings: Settings, catalogue) -> dict[str, str]:
    """Every placeholder of ``[brief]`` for ``row`` ('' when it has no value)."""
    head = settings.letterhead()
    labels = {info.label: info.status for info in catalogue.statuses}
    overall = labels.get(row.overall)
    # what comes from the provider (by way of the mailing list) is one plain line each: no
    # escape sequence or control character, and no line break that fakes a line of the letter
    values = {
        "aanbieder": one_line(row.provider) or UNKNOWN_PROVIDER,
        "contactpersoon": one_line(row.contact),
        "contractnummer": one_line(row.contract) or UNKNOWN,
        "kvk_nummer": one_line(row.kvk) or UNKNOWN,
        "jaar": one_line(row.year) or (str(head.year) if head.year else UNKNOWN),
        "eindoordeel": one_line(row.overall).lower(),
        "inhoud": one_line(row.content).lower(),
        "aanlevering": one_line(row.delivery).lower(),
        "werkboek": one_line(row.workbook_name),
        "ontbreekt": "\n".join(f"- {one_line(item)}" for item in row.to_complete if one_line(item)),
        "afzender": head.sender,
        "afzender_naam": head.name,
        "afzender_afdeling": head.department,
        "afzender_contactpersoon": head.contact,
        "afzender_email": head.email,
        "afzender_telefoon": head.phone,
        "uiterlijk": date_in_words(head.deadline) if head.deadline else "",
        "periode": head.period,
        "reageren_voor": date_in_words(head.respond_by) if head.respond_by else "",
    }
    verdict_key = f"oordeel_{overall.value}" if overall is not None else ""
    has_sentence = any(k.key == verdict_key for k in section_schema(SECTION).keys)
    values["eindoordeel_zin"] = fill_line(text_of(settings, verdict_key), values) if has_sentence else ""
    greeting = "aanhef" if row.contact else "aanhef_zonder_naam"
    values["aanhef"] = fill_line(text_of(settings, greeting), values)
    return values


def compose(row: MailRow, kind: str, settings: Settings, catalogue) -> Letter:
    """The letter of ``kind`` for ``row``."""
    subject_key, text_key = KEYS[kind]
    values = values_for(row, settings, catalogue)
    return Letter(fill_line(text_of(settings, subject_key), values), fill_text(text_of(settings, text_key), values))


def _names(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def fill_line(template: str, values: Mapping[str, str]) -> str:
    """One line (a subject, a sentence): placeholders without a value become empty."""
    text = template.format_map({name: values.get(name, "") for name in _names(template)})
    return " ".join(text.split())


def fill_text(template: str, values: Mapping[str, str]) -> str:
    """A letter: each line filled in; a line with a placeholder without a value is left out."""
    lines = []
    for line in template.split("\n"):
        names = _names(line)
        if any(not values.get(name) for name in names):
            continue
        lines.append(line.format_map({name: values[name] for name in names}).rstrip())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
