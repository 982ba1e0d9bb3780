"""Is an address fit to mail a provider's workbook to? Missing, malformed, or shared.

One check for the audit's ``verzendlijst.csv`` (its ``adrescontrole`` column) and for
``kvcompliance verzend``, which never mails an address that fails it:

* **ontbreekt**: no address in the register or the form;
* **ongeldig**: not an address by the pattern of KV91 (the catalogue's, so the two never
  disagree): ``info@zorgboerderij-terf`` has no dot in its domain and is refused;
* **gedeeld**: the same address (case-insensitive) belongs to another provider (another
  KvK-nummer, or without one another name): a workbook would reach the wrong provider,
  so the officer decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from kvcompliance.text import squash

VALID, MISSING, MALFORMED, SHARED = "geldig", "ontbreekt", "ongeldig", "gedeeld"
#: The field whose pattern in the rules (``niet_patroon``) decides whether an address is well formed.
ADDRESS_FIELD = "contact_email"
#: An address mail can be sent to (name@domain.tld): the shape of the sender's address in the
#: settings, and of a provider's when an own rules file dropped the rules' pattern.
SENDABLE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_KVK = re.compile(r"^[0-9]{8}$")


def address_pattern(catalogue) -> re.Pattern[str]:
    """The e-mail pattern the rules check ``contact_email`` against (a ``niet_patroon`` norm),
    so a mail is sent only where the workbook calls the address valid; :data:`SENDABLE` when
    an own rules file replaced that norm without a pattern."""
    for rule in catalogue.rules:
        for level in rule.levels:
            if level.column == ADDRESS_FIELD and level.op == "niet_patroon":
                return re.compile(level.value)
    return SENDABLE


@dataclass(frozen=True)
class Recipient:
    """Who an address belongs to: the provider's KvK-nummer and name, as the list has them."""

    address: str
    kvk: str
    name: str

    @property
    def provider(self) -> str:
        """The provider, for telling two apart: its KvK-nummer when valid, else its name."""
        return self.kvk if _KVK.match(self.kvk) else "naam:" + squash(self.name)


@dataclass(frozen=True)
class AddressCheck:
    state: str  # VALID, MISSING, MALFORMED or SHARED
    others: tuple[str, ...] = ()  # SHARED: the other providers, 'Stichting X (KvK 12345678)'

    @property
    def ok(self) -> bool:
        return self.state == VALID

    @property
    def text(self) -> str:
        """The ``adrescontrole`` column: 'geldig', 'ontbreekt', 'ongeldig' or 'gedeeld met ...'."""
        if self.state == SHARED:
            return f"{SHARED} met {', '.join(self.others)}"
        return self.state

    @property
    def reason(self) -> str:
        """Why nothing is sent, in Dutch (empty for a valid address)."""
        if self.state == MISSING:
            return "geen e-mailadres (niet in het contractregister en niet in de opgave)"
        if self.state == MALFORMED:
            return "het e-mailadres is ongeldig"
        if self.state == SHARED:
            return f"hetzelfde e-mailadres staat ook bij {', '.join(self.others)}: beslis zelf wie het werkboek krijgt"
        return ""


def state_of(text: str) -> str:
    """The state named by an ``adrescontrole`` text (its first word)."""
    return (text or "").strip().split(" ", 1)[0]


def check_addresses(recipients: Sequence[Recipient], pattern: re.Pattern[str]) -> list[AddressCheck]:
    """One check per recipient, in order (see the module docstring)."""
    providers: dict[str, dict[str, Recipient]] = {}
    for who in recipients:
        if who.address and pattern.match(who.address):
            providers.setdefault(who.address.casefold(), {}).setdefault(who.provider, who)
    checks = []
    for who in recipients:
        if not who.address.strip():
            checks.append(AddressCheck(MISSING))
        elif not pattern.match(who.address):
            checks.append(AddressCheck(MALFORMED))
        else:
            others = [o for key, o in providers[who.address.casefold()].items() if key != who.provider]
            if others:
                checks.append(AddressCheck(SHARED, tuple(_named(o) for o in others)))
            else:
                checks.append(AddressCheck(VALID))
    return checks


def _named(who: Recipient) -> str:
    name = who.name or "onbekende aanbieder"
    return f"{name} (KvK {who.kvk})" if who.kvk else name
