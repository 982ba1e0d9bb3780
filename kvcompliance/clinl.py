"""Dutch for click's own words (usage, option errors, help headings).

click marks its messages with ``gettext``; we route those calls in click's modules
through a small Dutch table. Unknown messages fall through unchanged.
"""

from __future__ import annotations

import importlib

DUTCH = {
    "Usage:": "Gebruik:",
    "Options": "Opties",
    "Commands": "Commando's",
    "Positional arguments": "Argumenten",
    "Show the version and exit.": "Toon de versie en stop.",
    "Show this message and exit.": "Toon deze hulp en stop.",
    "Error: {message}": "Fout: {message}",
    "Try '{command} {option}' for help.": "Probeer '{command} {option}' voor hulp.",
    "Invalid value for {param_hint}: {message}": "Ongeldige waarde voor {param_hint}: {message}",
    "Invalid value: {message}": "Ongeldige waarde: {message}",
    "Missing argument": "Argument ontbreekt",
    "Missing option": "Optie ontbreekt",
    "Missing parameter": "Parameter ontbreekt",
    "Missing parameter: {param_name}": "Parameter ontbreekt: {param_name}",
    "Missing {param_type}": "{param_type} ontbreekt",
    "Missing command.": "Geef een commando.",
    "No such command {name!r}.": "Onbekend commando {name!r}.",
    "No such option {name!r}.": "Onbekende optie {name!r}.",
    "Option {name!r} does not take a value.": "Optie {name!r} neemt geen waarde.",
    "Argument {name!r} takes {nargs} values.": "Argument {name!r} neemt {nargs} waarden.",
    "Aborted!": "Afgebroken.",
    "default: {default}": "standaard: {default}",
    "required": "verplicht",
    "directory": "map",
    "file": "bestand",
    "path": "pad",
    "{name} {filename!r} does not exist.": "{name} {filename!r} bestaat niet.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} is een map.",
    "{name} {filename!r} is a file.": "{name} {filename!r} is een bestand.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} is niet leesbaar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} is niet beschrijfbaar.",
    "{value!r} is not a valid {number_type}.": "{value!r} is geen geldig {number_type}.",
    "{value} is not in the range {range}.": "{value} ligt niet tussen {range}.",
    "integer": "geheel getal",
    "float": "getal",
    "Choose from:\n\t{choices}": "Kies uit:\n\t{choices}",
    "Could not open file {filename!r}: {message}": "Kan bestand {filename!r} niet openen: {message}",
}

PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "Onverwacht extra argument ({args})",
        "Onverwachte extra argumenten ({args})",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "{value!r} is niet {choice}.",
        "{value!r} is niet een van {choices}.",
    ),
    ("No such option: {name}", "No such option: {name}"): ("Onbekende optie: {name}", "Onbekende optie: {name}"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "Optie {name!r} vraagt een waarde.",
        "Optie {name!r} vraagt {nargs} waarden.",
    ),
}


def gettext(message: str) -> str:
    return DUTCH.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    dutch = PLURALS.get((singular, plural))
    if dutch is None:
        return singular if n == 1 else plural
    return dutch[0] if n == 1 else dutch[1]


def install() -> None:
    """Make click speak Dutch. Call before any click option or type is created."""
    for name in ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
