"""The contract register (--contracten)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kvcompliance.catalogue import load_catalogue
from kvcompliance.errors import RegisterError
from kvcompliance.normalise import typed_frame
from kvcompliance.register import load_register, match_returns
from tests.test_validate import BASE, _records

HEADER = "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email;verwacht_aantal_signalen\n"


def _register(tmp_path, body, encoding="utf-8", name="contracten.csv", header=HEADER):
    path = tmp_path / name
    path.write_bytes((header + body).encode(encoding))
    return path


def test_register_from_a_dutch_excel_csv(tmp_path):
    path = _register(
        tmp_path,
        "JH-2025-001;Stichting Voorbeeld;12345678;Jeugdhulp;a@voorbeeld.nl;12,5\n"
        "WMO-7;Zorg & Welzijn Café;87654321;wmo;b@zorg.nl;\n",
        encoding="cp1252",
    )
    register = load_register(path, load_catalogue())
    assert [c.contractnummer for c in register.contracts] == ["JH-2025-001", "WMO-7"]
    assert register.contracts[0].expected_signals == 12.5
    assert register.contracts[0].sector == "jeugdhulp"
    assert register.contracts[1].aanbieder_naam == "Zorg & Welzijn Café"
    assert register.contracts[1].expected_signals is None


def test_register_from_xlsx(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Contractnummer", "Aanbieder naam", "KvK-nummer", "Sector", "Contact e-mail"])
    sheet.append(["JH-2025-001", "Stichting Voorbeeld", "12345678", "jeugdhulp", "a@voorbeeld.nl"])
    workbook.save(tmp_path / "register.xlsx")
    register = load_register(tmp_path / "register.xlsx", load_catalogue())
    assert register.contracts[0].kvk_nummer == "12345678"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("JH-1;Stichting A;1234567;jeugdhulp;a@a.nl;\n", "rij 2: kvk_nummer ‘1234567’ is geen 8 cijfers"),
        ("JH-1;Stichting A;12345678;voetbal;a@a.nl;\n", "rij 2: onbekende sector ‘voetbal’"),
        ("JH-1;Stichting A;12345678;wmo;a@a.nl;veel\n", "rij 2: verwacht_aantal_signalen: ‘veel’ is geen getal"),
        (";Stichting A;12345678;wmo;a@a.nl;\n", "rij 2: contractnummer ontbreekt"),
        ("JH-1;A;12345678;wmo;;\nJH 1;B;87654321;wmo;;\n", "rij 3: contractnummer JH 1 staat ook op rij 2"),
    ],
)
def test_a_bad_row_is_refused_naming_the_row(tmp_path, body, expected):
    with pytest.raises(RegisterError) as caught:
        load_register(_register(tmp_path, body), load_catalogue())
    assert expected in str(caught.value)


@pytest.mark.parametrize(("bad", "rest"), [(11, "; en nog 1 fout."), (12, "; en nog 2 fouten.")])
def test_past_ten_bad_rows_the_rest_is_counted_in_dutch(tmp_path, bad, rest):
    body = "".join(f"JH-{n};Stichting {n};1234567;jeugdhulp;a@a.nl;\n" for n in range(bad))
    with pytest.raises(RegisterError) as caught:
        load_register(_register(tmp_path, body), load_catalogue())
    assert str(caught.value).count("is geen 8 cijfers") == 10 and str(caught.value).endswith(rest)


def test_a_missing_column_is_named(tmp_path):
    path = _register(tmp_path, "JH-1;A;12345678\n", header="contractnummer;aanbieder_naam;kvk_nummer\n")
    with pytest.raises(RegisterError, match="mist de kolom ‘sector’"):
        load_register(path, load_catalogue())


def test_returns_are_matched_and_missing_contracts_listed(tmp_path):
    path = _register(
        tmp_path,
        "JH-2025-001;Stichting Voorbeeld;12345678;jeugdhulp;a@voorbeeld.nl;20\n"
        "JH-2025-002;Stichting Anders;11112222;jeugdhulp;b@anders.nl;\n"
        "JH-2025-003;Stichting Derde;33334444;jeugdhulp;c@derde.nl;\n",
    )
    catalogue = load_catalogue()
    rows = [
        {**BASE, "contractnummer": "jh 2025 001"},  # same contract, typed differently
        {**BASE, "contractnummer": "JH-2025-002"},  # KvK differs from the register
        {**BASE, "contractnummer": "ONBEKEND-9"},
    ]
    frame, _ = typed_frame(_records(rows), catalogue)
    match = match_returns(load_register(path, catalogue), frame)
    assert set(match.matched) == {"R0000", "R0001"}
    assert match.unmatched == ["R0002"]
    assert match.kvk_differs == {"R0001"}
    assert [c.contractnummer for c in match.missing] == ["JH-2025-003"]
    assert match.expectations() == {"R0000": 20.0}


def test_a_register_that_is_too_big_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from kvcompliance import register

    path = _register(tmp_path, "JH-1;Stichting A;12345678;wmo;a@a.nl;\n" * 50)
    monkeypatch.setattr(register, "REGISTER_MAX_BYTES", 1000)
    with pytest.raises(RegisterError, match=r"contracten.csv is te groot \(0 MB; de grens is 0 MB\)"):
        load_register(path, load_catalogue())


def test_a_register_workbook_with_a_cell_far_away_is_refused_not_fatal(tmp_path):
    """One cell in XFD1048576 makes calamine ask for half a terabyte; the audit must refuse
    the register with a Dutch reason instead of aborting with a Rust backtrace."""
    import io
    import re
    import subprocess
    import sys
    import zipfile

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["contractnummer", "aanbieder_naam", "kvk_nummer", "sector", "contact_email"])
    sheet.append(["JH-1", "Stichting A", "12345678", "wmo", "a@a.nl"])
    plain = io.BytesIO()
    workbook.save(plain)
    far = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(far, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data)
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            target.writestr(name, data)
    (tmp_path / "contracten.xlsx").write_bytes(far.getvalue())
    # in a child process: if the guard fails, calamine aborts the process running it
    script = (
        "from pathlib import Path\n"
        "from kvcompliance.catalogue import load_catalogue\n"
        "from kvcompliance.errors import RegisterError\n"
        "from kvcompliance.register import load_register\n"
        "try:\n"
        f"    load_register(Path({str(tmp_path / 'contracten.xlsx')!r}), load_catalogue())\n"
        "except RegisterError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert "contracten.xlsx is te groot om te lezen" in done.stdout
    assert done.stderr == ""


def test_a_damaged_or_protected_register_workbook_is_explained_in_dutch(tmp_path):
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["contractnummer", "aanbieder_naam", "kvk_nummer", "sector", "contact_email"])
    plain = io.BytesIO()
    workbook.save(plain)
    (tmp_path / "kapot.xlsx").write_bytes(plain.getvalue()[:2000])
    # a real password-protected workbook (tests/fixtures/make_fixtures.py; the lowest
    # msoffcrypto-tool we allow cannot encrypt)
    (tmp_path / "beveiligd.xlsx").write_bytes((Path(__file__).parent / "fixtures" / "beveiligd.xlsx").read_bytes())
    for name, expected in (("kapot.xlsx", "beschadigd of onvolledig"), ("beveiligd.xlsx", "met een wachtwoord beveiligd")):
        with pytest.raises(RegisterError) as caught:
            load_register(tmp_path / name, load_catalogue())
        assert expected in str(caught.value)
        assert "Error" not in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pipes with a name need a POSIX system")
def test_a_register_that_is_not_a_regular_file_is_named_as_such(tmp_path):
    fifo = tmp_path / "register.csv"
    os.mkfifo(fifo)
    for path, expected in ((fifo, "geen gewoon bestand"), (tmp_path, "geen gewoon bestand"), (tmp_path / "weg.csv", "bestaat niet")):
        with pytest.raises(RegisterError, match=expected):
            load_register(path, load_catalogue())


def test_a_register_that_cannot_be_read_is_told_in_one_dutch_sentence(tmp_path):
    import io

    import openpyxl

    (tmp_path / "contracten.csv").write_bytes(HEADER.encode() + b"C-1;\x00\x01\x02;12345678\n")
    workbook = openpyxl.Workbook()
    workbook.active.append(["contractnummer", "aanbieder_naam", "kvk_nummer", "sector", "contact_email"])
    whole = io.BytesIO()
    workbook.save(whole)
    (tmp_path / "kapot.xlsx").write_bytes(whole.getvalue()[:2000])
    for name, expected in (
        ("contracten.csv", "Het contractregister contracten.csv kan niet worden gelezen: het bestand is geen tekstbestand, al heet "
                           "het .csv."),
        ("kapot.xlsx", "Het contractregister kapot.xlsx kan niet worden gelezen: het werkblad kon niet worden gelezen (het "
                       "bestand is beschadigd of onvolledig)."),
    ):
        with pytest.raises(RegisterError) as caught:
            load_register(tmp_path / name, load_catalogue())
        assert str(caught.value) == expected
