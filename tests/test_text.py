"""Text for the terminal: file and provider names cannot steer the officer's screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvcompliance.catalogue import load_catalogue
from kvcompliance.cli import main
from kvcompliance.text import REPLACEMENT, after_colon, one_line, plain, printable

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Stichting Café & Zoon 😀", "Stichting Café & Zoon 😀"),
        ("a\x1b[2Jb", "a?[2Jb"),  # ESC: clear the screen
        ("a\x9b2Jb", "a?2Jb"),  # C1 CSI: the same in one character
        ("x\nFout: alles kwijt", "x?Fout: alles kwijt"),  # a faked output line
        ("x\r\x07\x00\x7f", "x????"),
        ("factuur\u202egpj.xlsx", "factuur?gpj.xlsx"),  # right-to-left override
        ("a\u2066b\u2069\u200b\ufeff", "a?b???"),  # isolates, zero width space, BOM
        ("a\u2028b\u2029c\x85d", "a?b?c?d"),
        ("caf\udce9.xlsx", "caf\\xe9.xlsx"),  # a name that is not valid UTF-8, as Python sees it: the byte escaped
    ],
)
def test_printable_replaces_every_character_a_terminal_acts_on(text, shown):
    assert printable(text) == shown.replace("?", REPLACEMENT)
    printable(text).encode("utf-8")  # always printable, also a broken name


def test_file_names_reach_the_terminal_without_control_characters(tmp_path):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    shutil.copy(SAMPLES / "01_stichting-jeugdhulp-de-kern.xlsx", inbox / "goed.xlsx")
    hostile = "x\x1b[2J\x1b[H\nFout: alle opgaven zijn verwijderd\u202e.txt"
    (inbox / hostile).write_text("geen opgave")
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--stil"])
    assert result.exit_code == 1, result.output
    everything = result.output  # stdout and stderr
    assert "\x1b" not in everything and "\u202e" not in everything
    (line,) = [line for line in everything.splitlines() if "niet verwerkt:" in line]
    assert line.startswith(f"  niet verwerkt: x{REPLACEMENT}[2J{REPLACEMENT}[H{REPLACEMENT}Fout: alle opgaven")
    assert not any(line.startswith("Fout:") for line in everything.splitlines())


@pytest.mark.parametrize(
    ("text", "lines", "line"),
    [
        ("Stichting Café & Zoon 😀", "Stichting Café & Zoon 😀", "Stichting Café & Zoon 😀"),
        ("a\x1b[31mrood\x1b[0m", "arood", "arood"),  # colour: gone whole, not '[31m' left behind
        ("a\x9b2Jb", "ab", "ab"),  # C1 CSI
        ("x\x1b]0;venstertitel\x07y", "xy", "xy"),  # OSC: set the window title
        ("Beste,\n\nregel\ttab", "Beste,\n\nregel\ttab", "Beste, regel tab"),  # a letter's own layout
        ("a\u202eb\u2028c\x85d\x00e", "a b c d e", "a b c d e"),
    ],
)
def test_plain_text_keeps_what_is_shown_and_the_lines_asked_for(text, lines, line):
    assert plain(text, keep="\n\t") == lines
    assert one_line(text) == line


@pytest.mark.parametrize(
    ("sentence", "part"),
    [("Het bestand is leeg.", "het bestand is leeg."), ("Deze map is leeg.", "deze map is leeg."),
     ("CSV-bestand te groot.", "CSV-bestand te groot."), ("KvK-nummer ontbreekt.", "KvK-nummer ontbreekt."), ("", "")],
)
def test_a_sentence_after_a_colon_loses_only_an_ordinary_capital(sentence, part):
    assert after_colon(sentence) == part


@pytest.mark.parametrize(
    ("sentence", "part"),
    [("Veilig Thuis is niet bereikt.", "Veilig Thuis is niet bereikt."),
     ("Wmo-aanbieders vullen ook de kindcheck in.", "Wmo-aanbieders vullen ook de kindcheck in."),
     ("Wmo geldt hier.", "Wmo geldt hier."), ("Verwijsindex ontbreekt.", "Verwijsindex ontbreekt."),
     ("Veiligheid eerst.", "veiligheid eerst."), ("Excel kan het niet openen.", "Excel kan het niet openen."),
     ("Het bestand is leeg.", "het bestand is leeg.")],
)
def test_a_name_the_catalogue_declares_keeps_its_capital_after_a_colon(sentence, part):
    names = load_catalogue().proper_names
    assert {"Veilig Thuis", "Verwijsindex", "Wmo"} <= set(names)  # declared, and the sector whose label is a name
    assert "Jeugdhulp" not in names  # a sector whose label is an ordinary word
    assert after_colon(sentence, names) == part


def test_a_file_name_byte_that_is_not_utf8_is_shown_escaped_on_the_terminal():
    import os

    first, second = os.fsdecode(b"opgave-\xe9.xlsx"), os.fsdecode(b"opgave-\xe8.xlsx")
    assert printable(first) == "opgave-\\xe9.xlsx" and printable(second) == "opgave-\\xe8.xlsx"
    assert printable(f"{first}\x1b[2J") == f"opgave-\\xe9.xlsx{REPLACEMENT}[2J"  # a control character still is not sent
