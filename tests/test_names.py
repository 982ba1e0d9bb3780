"""Provider workbook file names: safe on every system, inside the output folder, unique."""

from __future__ import annotations

import re

import pytest

from kvcompliance.report.names import MAX_CHARS, provider_filename

NASTY = [
    "../../etc/passwd",
    "zorg/../../welzijn",
    "Zorg..Welzijn...",
    "..",
    "...",
    "a/b\\c:d*e?f\"g<h>i|j",
    ".verborgen",
    "  spaties  ",
    "tab\tnieuwe\nregel\x00nul\x1b",
    "C:\\Windows\\System32",
    "/absolute/pad",
    "Zorg & Co: Oost/West",
    "\u202eevil\u200b",
    "=HYPERLINK(\"http://x\",\"y\")",
]


def _assert_safe(name: str, folder) -> None:
    assert name.endswith(".xlsx")
    assert "/" not in name and "\\" not in name
    assert ".." not in name
    assert not re.search(r'[:*?"<>|\x00-\x1f\x7f]', name), name
    assert not name.startswith((".", " "))
    assert len(name) <= MAX_CHARS
    assert len(name.encode("utf-8")) <= 255
    target = (folder / name).resolve()
    assert target.parent == folder.resolve()
    target.write_bytes(b"x")  # the file system accepts it
    assert target.exists()


def test_plain_name():
    assert provider_filename(2025, "Stichting De Kern", "EV-2025-JH-0589", set()) == "2025_Stichting De Kern_EV-2025-JH-0589.xlsx"


def test_missing_parts_become_onbekend():
    assert provider_filename(None, None, "", set()) == "onbekend_onbekend_onbekend.xlsx"
    assert provider_filename(2025.0, "   ", None, set()) == "2025_onbekend_onbekend.xlsx"


@pytest.mark.parametrize("nasty", NASTY)
def test_nasty_names_stay_inside_the_output_folder(nasty, tmp_path):
    for parts in ((2025, nasty, "C1"), (nasty, nasty, nasty)):
        name = provider_filename(*parts, set())
        _assert_safe(name, tmp_path)


def test_windows_device_names_are_defused():
    # Windows refuses any name whose part before the first dot is a device name.
    for year in ("CON.txt", "com1.x", "Lpt9.2025", "nul"):
        name = provider_filename(year, "NUL", "AUX", set())
        assert name.split(".")[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}, name


def test_long_names_are_capped_in_characters_and_bytes(tmp_path):
    name = provider_filename(2025, "Stichting " + "Heel Lang " * 80, "C" * 300, set())
    _assert_safe(name, tmp_path)
    assert name.startswith("2025_Stichting Heel Lang")
    emoji = provider_filename(2025, "🙂" * 200, "🙂" * 200, set())
    _assert_safe(emoji, tmp_path)


def test_unique_case_insensitively():
    taken = {"2025_STICHTING X_C1.xlsx".casefold()}
    second = provider_filename(2025, "Stichting X", "C1", taken)
    assert second == "2025_Stichting X_C1_2.xlsx"
    taken.add(second.casefold())
    assert provider_filename(2025, "stichting x", "c1", taken) == "2025_stichting x_c1_3.xlsx"


def test_unique_when_capped():
    long_name = "N" * 500
    taken: set[str] = set()
    for _ in range(12):
        name = provider_filename(2025, long_name, "C", taken)
        assert name.casefold() not in taken
        assert len(name) <= MAX_CHARS
        taken.add(name.casefold())
    assert len(taken) == 12
