"""Returns as providers really send them: every format, every kind of mess, nothing lost.

The committed fixtures in tests/fixtures/ were made once with LibreOffice (see
tests/fixtures/make_fixtures.py); everything else is generated here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import sys
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvcompliance.audit import run_audit, write_reports
from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.cli import main
from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest import discover, read_return, source_file
from kvcompliance.ingest.cells import Book
from kvcompliance.ingest.scans import ERROR_CODES
from kvcompliance.ingest.sniff import MAX_FILE_SIZE
from kvcompliance.ingest.worker import read_files
from kvcompliance.model import RejectedFile
from kvcompliance.normalise import normalise
from kvcompliance.register import load_register
from kvcompliance.prefill import write_prefilled_forms
from kvcompliance.template import write_template
from kvcompliance.values import raw_text
from samples import FormFiller, fill_form, write_returns, write_sample_region  # tools/ (pyproject: pythonpath)

CATALOGUE = load_catalogue()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"
YEAR = 2025


# ------------------------------------------------------------------------------ helpers
def read(path: Path):
    return read_return(path, source_file(path, path.parent), "R0001", CATALOGUE)


def refused(path: Path) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as info:
        read(path)
    return info.value


def audit_one(path: Path, tmp_path: Path) -> tuple[dict[str, Status], set[tuple[str, str]]]:
    """Audit a folder holding only ``path``: the status per rule and the values not understood."""
    inbox = tmp_path / f"inbox-{path.name}"
    inbox.mkdir()
    (inbox / path.name).write_bytes(path.read_bytes())
    result = run_audit(inbox, year=YEAR)
    assert not result.rejected, [r.reason for r in result.rejected]
    assert len(result.returns) == 1
    return {f.rule_id: f.status for f in result.findings}, {(i.field, i.raw) for i in result.issues}


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _record(kind: int, body: bytes = b"") -> bytes:
    return _varint(kind) + _varint(len(body)) + body


def _wide(text: str) -> bytes:
    encoded = text.encode("utf-16-le")
    return struct.pack("<I", len(encoded) // 2) + encoded


def write_xlsb(path: Path, sheets: list[tuple[str, list[list[Any]]]]) -> Path:
    """A minimal binary workbook (.xlsb, MS-XLSB): text, numbers and error cells ('#DIV/0!')."""
    errors = {v: k for k, v in ERROR_CODES.items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.bin" ContentType="application/vnd.ms-excel.worksheet"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.'
            f'sheet.binary.macroEnabled.main"/>{overrides}</Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{i}.bin"/>'
            for i in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships">{rels}</Relationships>',
        )
        book = _record(131) + _record(143)  # BrtBeginBook, BrtBeginBundleShs
        for number, (name, _) in enumerate(sheets, start=1):
            book += _record(156, struct.pack("<II", 0, number) + _wide(f"rId{number}") + _wide(name))
        archive.writestr("xl/workbook.bin", book + _record(144) + _record(132))
        for number, (_, rows) in enumerate(sheets, start=1):
            width = max((len(r) for r in rows), default=1)
            data = _record(129) + _record(148, struct.pack("<IIII", 0, max(0, len(rows) - 1), 0, width - 1)) + _record(145)
            for r, row in enumerate(rows):
                data += _record(0, struct.pack("<IIHBBI", r, 0, 300, 0, 0, 0))
                for c, value in enumerate(row):
                    cell = struct.pack("<II", c, 0)
                    if value is None or value == "":
                        continue
                    if isinstance(value, str) and value in errors:
                        data += _record(3, cell + bytes([errors[value]]))
                    elif isinstance(value, str):
                        data += _record(6, cell + _wide(value))
                    elif isinstance(value, (date, datetime)):
                        serial = (value if isinstance(value, date) else value.date()) - date(1899, 12, 30)
                        data += _record(5, cell + struct.pack("<d", float(getattr(serial, "days", 0))))
                    else:
                        data += _record(5, cell + struct.pack("<d", float(value)))
            archive.writestr(f"xl/worksheets/sheet{number}.bin", data + _record(146) + _record(130))
    return path


def sheet_grids(path: Path) -> list[tuple[str, list[list[Any]]]]:
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as workbook:
        return [(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in workbook.sheet_names]


def as_typed(value: Any) -> str:
    """A raw value as a provider would type it in a text file."""
    if isinstance(value, float):
        return raw_text(value).replace(".", ",")
    return raw_text(value)


def patch_zip_member_size(data: bytes, name: str, size: int) -> bytes:
    """Make the zip's local header and central directory claim ``size`` bytes for ``name``."""
    data = bytearray(data)
    encoded = name.encode()
    # (record signature, offset of its name length, of its name, of its uncompressed size)
    for signature, length_at, name_at, size_at in ((b"PK\x03\x04", 26, 30, 22), (b"PK\x01\x02", 28, 46, 24)):
        position = 0
        while (position := data.find(signature, position)) >= 0:
            name_length = struct.unpack_from("<H", data, position + length_at)[0]
            if data[position + name_at : position + name_at + name_length] == encoded:
                struct.pack_into("<I", data, position + size_at, size)
            position += 4
    return bytes(data)


@pytest.fixture(scope="module")
def blank_form(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("form") / "uitvraag.xlsx"
    write_template(path, CATALOGUE)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The fixture return as filled in Excel: statuses per rule and values not understood."""
    return audit_one(FIXTURES / "opgave.xlsx", tmp_path_factory.mktemp("referentie"))


# ------------------------------------------------------------------------------ one return, every format
def test_the_fixture_return_has_every_kind_of_status(reference):
    statuses, issues = reference
    assert {Status.ROOD, Status.ORANJE, Status.GROEN, Status.NVT} <= set(statuses.values())
    # 'ca. 20' consultations is not understood, but KV06 is oranje whatever it says: not grijs
    assert ("af_consultaties", "ca. 20") in issues and statuses["KV06"] == Status.ORANJE


@pytest.mark.parametrize(
    "name", ["opgave_libreoffice.xlsx", "opgave.xls", "opgave.ods", "opgave.csv"],
)
def test_saved_by_libreoffice_or_as_old_excel_ods_or_csv_audits_the_same(name, reference, tmp_path):
    assert audit_one(FIXTURES / name, tmp_path) == reference


def test_as_xlsb_audits_the_same(reference, tmp_path):
    path = write_xlsb(tmp_path / "opgave.xlsb", sheet_grids(FIXTURES / "opgave.xlsx"))
    record = read(path)
    assert record.values["kvk_nummer"] == "01234567" and record.form_version == CATALOGUE.form_version
    assert audit_one(path, tmp_path) == reference


def test_copied_into_another_workbook_audits_the_same(reference, tmp_path):
    """Copy-paste of the answer sheet, shifted, into a provider's own workbook: no defined names."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Onze administratie"
    workbook.active["A1"] = "Interne notities"
    sheet = workbook.create_sheet("Opgave gemeente")
    grid = dict(sheet_grids(FIXTURES / "opgave.xlsx"))["Aanlevering"]
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value != "":
                cell = sheet.cell(row=r + 3, column=c + 2, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # '=SOM(A1) is tekst.' stays text
    path = tmp_path / "eigen-werkmap.xlsx"
    workbook.save(path)
    record = read(path)
    assert record.sheet == "Opgave gemeente" and record.cells["kvk_nummer"].cell == "C8"  # B6 moved two down, one right
    assert audit_one(path, tmp_path) == reference


def _answers() -> dict[str, Any]:
    return dict(read(FIXTURES / "opgave.xlsx").values)


def test_two_column_csv_with_keys_in_windows_1252_audits_the_same(reference, tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["veld", "waarde"])
    for key, value in _answers().items():
        writer.writerow([key, as_typed(value)])
    path = tmp_path / "opgave-sleutels.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    assert "'t Veld" in read(path).values["aanbieder_naam"]
    assert audit_one(path, tmp_path) == reference


def test_wide_csv_one_row_per_return_with_commas_audits_the_same(reference, tmp_path):
    answers = _answers()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",")
    writer.writerow([f"{f.label} *" if f.required else f.label for f in CATALOGUE.fields])
    writer.writerow([as_typed(answers[f.key]) for f in CATALOGUE.fields])
    path = tmp_path / "opgave-breed.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    record = read(path)
    assert record.values["fte"] == "31,5" and record.cells["fte"].cell == "J2"
    assert audit_one(path, tmp_path) == reference


@pytest.mark.parametrize(("name", "delimiter", "encoding"), [
    ("export uit ons systeem.xls", "\t", "utf-16"),  # what many 'export to Excel' buttons write
    ("opgave.xlsx", ";", "cp1252"),  # a CSV renamed by hand
])
def test_a_text_export_with_a_spreadsheet_extension_is_read_as_the_csv_it_is(reference, tmp_path, name, delimiter, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["veld", "waarde"])
    for key, value in _answers().items():
        writer.writerow([key, as_typed(value)])
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    assert audit_one(path, tmp_path) == reference
    # plain text that is no table stays refused as a damaged spreadsheet
    (tmp_path / "kapot.xls").write_text("dit is geen excel", encoding="utf-8")
    assert refused(tmp_path / "kapot.xls").kind == "onleesbaar"


def test_hand_typed_csv_with_an_unquoted_dutch_decimal(tmp_path):
    """'fte,12,5' typed in a ','-separated file: the answer is what was typed, 12,5."""
    lines = ["Naam organisatie,Stichting Getypt", "kvk_nummer,01234567", "fte,12,5",
             "aantal medewerkers met cliënt- of kindcontact,40", "Verslagjaar *,2025", "sector,wmo"]
    lines += [f"{f.key},3" for f in CATALOGUE.fields if f.required and f.type == "geheel" and f.key != "medewerkers"]
    path = tmp_path / "getypt.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    values = read(path).values
    assert values["fte"] == "12,5" and values["medewerkers"] == "40" and values["kvk_nummer"] == "01234567"
    assert values["meldingen_veilig_thuis"] == "3" and values["verslagjaar"] == "2025"


# ------------------------------------------------------------------------------ values in cells
@pytest.mark.parametrize("name", ["fouten.xlsx", "fouten.xls", "fouten.ods"])
def test_error_cells_reach_the_parsers_and_are_quoted(name, tmp_path):
    """#DIV/0! and #N/A, which calamine shows as empty, are findings quoting the error."""
    record = read(FIXTURES / name)
    assert record.values["medewerkers_getraind"] == "#DIV/0!"
    assert record.values["af_consultaties"] == "#N/A"
    assert record.values["fte"] == 31.5  # a formula with an ordinary result is its result
    _, issues = audit_one(FIXTURES / name, tmp_path)
    assert ("medewerkers_getraind", "#DIV/0!") in issues and ("af_consultaties", "#N/A") in issues


def test_error_cells_in_xlsb(tmp_path):
    grids = sheet_grids(FIXTURES / "opgave.xlsx")
    sheet = dict(grids)["Aanlevering"]
    row = next(i for i, r in enumerate(sheet) if str(r[0]).startswith("Aantal medewerkers getraind"))
    sheet[row][1] = "#DIV/0!"
    record = read(write_xlsb(tmp_path / "fout.xlsb", grids))
    assert record.values["medewerkers_getraind"] == "#DIV/0!"


def test_formula_without_a_computed_value_is_empty_with_a_note(blank_form, tmp_path):
    """openpyxl (and some tools) save formulas without their result: calamine sees nothing."""
    path = fill_form(blank_form, {"aanbieder_naam": "Stichting Formule", "medewerkers": 12}, tmp_path / "formule.xlsx")
    workbook = openpyxl.load_workbook(path)
    (sheet, coordinate), = workbook.defined_names["kv_medewerkers_getraind"].destinations
    workbook[sheet][coordinate.replace("$", "")] = "=B5*2"
    workbook.save(path)
    record = read(path)
    assert record.values["medewerkers_getraind"] is None
    assert any("formule zonder berekende uitkomst" in note and "getraind" in note for note in record.notes)


def test_merged_label_and_answer_cells(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for r, field in enumerate(f for f in CATALOGUE.fields if f.required):
        sheet.cell(row=r + 1, column=1, value=field.label)
        sheet.merge_cells(start_row=r + 1, start_column=1, end_row=r + 1, end_column=2)  # label over A:B
        sheet.cell(row=r + 1, column=3, value=f"antwoord {r}")
        sheet.merge_cells(start_row=r + 1, start_column=3, end_row=r + 1, end_column=4)  # answer over C:D
    path = tmp_path / "samengevoegd.xlsx"
    workbook.save(path)
    record = read(path)
    assert record.values["aanbieder_naam"] == "antwoord 0" and record.cells["aanbieder_naam"].cell == "C1"


def test_empty_answer_next_to_the_help_text_is_empty(blank_form, tmp_path):
    """Without defined names, an empty answer cell must not pick up the form's help text."""
    grids = sheet_grids(fill_form(blank_form, {"aanbieder_naam": "Stichting Leeg"}, tmp_path / "leeg.xlsx"))
    record = read(write_xlsb(tmp_path / "leeg.xlsb", grids))
    assert record.values["aanbieder_naam"] == "Stichting Leeg"
    assert all(value is None for key, value in record.values.items() if key != "aanbieder_naam")


# ------------------------------------------------------------------------------ refused before reading
def _zip_with(tmp_path: Path, name: str, payload: bytes, blank_form: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(blank_form) as form, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in form.infolist():
            archive.writestr(info.filename, form.read(info.filename))
        archive.writestr(name, payload)
    return buffer.getvalue()


def test_zip_bomb_that_claims_a_huge_size_is_refused_quickly(blank_form, tmp_path):
    data = _zip_with(tmp_path, "xl/media/opvulling.bin", b"\x00" * 1000, blank_form)
    path = tmp_path / "bom-groot.xlsx"
    path.write_bytes(patch_zip_member_size(data, "xl/media/opvulling.bin", 3_000_000_000))
    start = time.perf_counter()
    error = refused(path)
    assert error.kind == "te groot" and time.perf_counter() - start < 1


def test_zip_bomb_with_an_extreme_packing_ratio_is_refused(blank_form, tmp_path):
    path = tmp_path / "bom-ratio.xlsx"
    path.write_bytes(_zip_with(tmp_path, "xl/worksheets/sheet9.xml", b"\x00" * 20_000_000, blank_form))
    assert path.stat().st_size < 200_000
    error = refused(path)
    assert error.kind == "te groot" and "zip-bom" in error.reason


def test_zip_bomb_that_lies_about_its_size_never_reaches_calamine(blank_form, tmp_path, monkeypatch):
    """The directory says 1 kB; the data unpacks to 20 MB. calamine would unpack it all."""
    data = _zip_with(tmp_path, "xl/sharedStrings2.xml", b"<x/>" * 5_000_000, blank_form)
    path = tmp_path / "bom-liegt.xlsx"
    path.write_bytes(patch_zip_member_size(data, "xl/sharedStrings2.xml", 1000))

    def never(*args, **kwargs):
        raise AssertionError("calamine opened a zip bomb")

    monkeypatch.setattr(Book, "open", never)
    error = refused(path)
    assert error.kind == "te groot"


@pytest.mark.skipif(sys.platform != "linux", reason="the reader processes' memory limit needs Linux")
@pytest.mark.parametrize("cell", ["XFD1048576", "GS100001"])
def test_sheet_that_calamine_would_allocate_densely_is_refused(tmp_path, cell):
    """A 5 kB file with one far-away cell makes calamine allocate the whole sheet: the
    reader process's memory limit stops it, and the file is listed as too large."""
    import xlsxwriter

    path = tmp_path / "ver.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Aanlevering")
    sheet.write("A1", "Naam organisatie *")
    sheet.write(cell, "x")
    workbook.close()
    start = time.perf_counter()
    (outcome,) = read_files([path], tmp_path, None, jobs=1)
    assert isinstance(outcome, RejectedFile) and outcome.kind == "te groot", outcome
    assert "werkgeheugen" in outcome.reason and time.perf_counter() - start < 5


def test_ods_with_repeated_cells_is_refused_before_calamine_opens_it(tmp_path):
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
        'xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:'
        'tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Blad1">'
        '<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" '
        'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "herhaald.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    start = time.perf_counter()
    assert refused(path).kind == "te groot" and time.perf_counter() - start < 1


def test_xls_whose_dimensions_are_huge_is_refused(tmp_path):
    data = bytearray((FIXTURES / "opgave.xls").read_bytes())
    # DIMENSIONS records (0x0200, 14 bytes): claim 65536 rows x 256 columns.
    position = 0
    patched = 0
    while (position := data.find(b"\x00\x02\x0e\x00", position)) >= 0:
        struct.pack_into("<IIHH", data, position + 4, 0, 65536, 0, 256)
        position += 4
        patched += 1
    assert patched
    path = tmp_path / "afmetingen.xls"
    path.write_bytes(bytes(data))
    assert refused(path).kind == "te groot"


def test_file_larger_than_the_cap_is_not_read(tmp_path):
    path = tmp_path / "enorm.xlsx"
    with path.open("wb") as handle:  # sparse: costs no disk space
        handle.truncate(MAX_FILE_SIZE + 1)
    error = refused(path)
    assert error.kind == "te groot" and "MB" in error.reason


def test_a_pipe_is_never_opened(tmp_path):
    path = tmp_path / "pijp.xlsx"
    os.mkfifo(path)
    assert refused(path).kind == "onleesbaar"


@pytest.mark.parametrize("name", ["beveiligd.xlsx", "beveiligd.xls", "beveiligd.ods"])
def test_password_protected_files_are_named_as_such(name):
    error = refused(FIXTURES / name)
    assert error.kind == "beveiligd" and "wachtwoord" in error.reason


def test_web_page_saved_as_xls(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>Naam organisatie</td></tr></table></body></html>")
    error = refused(path)
    assert error.kind == "geen spreadsheet" and "webpagina" in error.reason


# ------------------------------------------------------------------------------ the whole folder
def _ole_with(names: list[str]) -> bytes:
    from test_ingest import make_ole

    return make_ole(names)


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(folder).as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def messy_inbox(tmp_path_factory, blank_form) -> tuple[Path, dict[str, str]]:
    """A folder as an officer collects it: returns in every format, and everything else.

    Returns the folder and the expected outcome per file: "opgave" or the kind of rejection.
    """
    root = tmp_path_factory.mktemp("messy")
    inbox = root / "opgaven 2025"
    expected: dict[str, str] = {}

    def put(relative: str, data: bytes, outcome: str, mtime: int | None = None) -> Path:
        path = inbox / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime:
            os.utime(path, (mtime, mtime))
        expected[relative] = outcome
        return path

    samples = sorted(SAMPLES.glob("[0-9][0-9]_*.xlsx"))
    put(f"regio noord/{samples[0].name}", samples[0].read_bytes(), "opgave")
    put(f"regio noord/{samples[5].name}", samples[5].read_bytes(), "opgave")
    put("oud excel/opgave.xls", (FIXTURES / "opgave.xls").read_bytes(), "vervangen", 1_700_000_000)
    put("libreoffice/opgave.ods", (FIXTURES / "opgave.ods").read_bytes(), "opgave", 1_700_100_000)
    answers = _answers()
    answers["contractnummer"] = "EV-2025-JH-1000"
    text = "".join(f"{key};{as_typed(value)}\n" for key, value in answers.items() if ";" not in as_typed(value))
    put("csv/opgave-sleutels.csv", text.encode("cp1252"), "opgave")
    grids = sheet_grids(samples[2])
    put("binair/opgave.xlsb", write_xlsb(root / "x.xlsb", grids).read_bytes(), "opgave")
    write_returns(root / "snel", 2, seed=3)
    for path in sorted((root / "snel").iterdir()):
        put(f"snel/{path.name}", path.read_bytes(), "opgave")
    register = root / "contracten.csv"
    register.write_text("contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
                        "EV-2025-WZ-0777;Buurthuis De Koppeling;87654321;welzijn;info@koppeling.nl\n", encoding="utf-8")
    (form,) = write_prefilled_forms(load_register(register, CATALOGUE), CATALOGUE, root / "vooraf")
    filled = fill_form(form, {"verslagjaar": 2025, "medewerkers": 10, "fte": 8, "clienten_minderjarig": 300,
                              "meldcode_aanwezig": "ja", "af_aantal": 1, "medewerkers_getraind": 9,
                              "intervisie_bijeenkomsten": 4, "meldingen_veilig_thuis": 1, "adviesvragen_veilig_thuis": 2,
                              "signalen_verwijsindex": 0}, root / "vooraf-ingevuld.xlsx")
    put(f"vooraf/{form.name}", filled.read_bytes(), "opgave")

    put("scan van de opgave.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "geen spreadsheet")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    put("begeleidende brief.docx", docx.getvalue(), "geen spreadsheet")
    put("mail van de aanbieder.msg", _ole_with(["__substg1.0_0037001F", "__properties_version1.0"]), "geen spreadsheet")
    put("foto.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "geen spreadsheet")
    put("export.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "geen spreadsheet")
    put("leeg.xlsx", b"", "leeg")
    put("kapot.xlsx", b"PK\x03\x04" + bytes(range(256)) * 8, "onleesbaar")
    whole = samples[1].read_bytes()
    put("afgebroken.xlsx", whole[: len(whole) // 2], "onleesbaar")
    for name in ("beveiligd.xlsx", "beveiligd.xls", "beveiligd.ods"):
        put(f"beveiligd/{name}", (FIXTURES / name).read_bytes(), "beveiligd")
    bomb = _zip_with(root, "xl/media/opvulling.bin", b"\x00" * 1000, blank_form)
    put("bom.xlsx", patch_zip_member_size(bomb, "xl/media/opvulling.bin", 3_000_000_000), "te groot")
    put("bom-ratio.xlsx", _zip_with(root, "xl/worksheets/sheet9.xml", b"\x00" * 5_000_000, blank_form), "te groot")
    import xlsxwriter

    far = root / "ver.xlsx"
    book = xlsxwriter.Workbook(str(far))
    book.add_worksheet().write("XFD1048576", "x")
    book.close()
    put("reuzenblad.xlsx", far.read_bytes(), "te groot")
    big = put("enorm.xlsx", b"", "te groot")
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_SIZE + 1)
    put("begroting_2026.xlsx", (SAMPLES / "begroting_2026.xlsx").read_bytes(), "geen opgave")
    put("adressen.csv", "naam;adres\nJansen;Dorpsstraat 1\n".encode(), "geen opgave")
    put("half formulier.csv", "Naam organisatie;Stichting Half\nKvK-nummer;12345678\n".encode(), "geen opgave")
    # Never discovered: lock files, hidden files, system files, pipes.
    for name in ("~$opgave.xlsx", ".verborgen.xlsx", "Thumbs.db"):
        (inbox / name).write_bytes(b"x")
    os.mkfifo(inbox / "pijp.xlsx")
    (inbox / "nog te ontvangen").mkdir()  # an empty folder is an entry too
    return inbox, expected


def test_every_file_in_a_messy_folder_is_accounted_for(messy_inbox, tmp_path):
    inbox, expected = messy_inbox
    before = fingerprint(inbox)
    result = run_audit(inbox, year=YEAR)
    reports = write_reports(result, tmp_path / "uit")

    discovered = {p.relative_to(inbox).as_posix() for p in discover(inbox)}
    assert discovered == set(expected)
    returned = {r.source.path for r in result.returns}
    rejected = {r.source.path: r for r in result.rejected}
    assert returned.isdisjoint(rejected) and returned | set(rejected) == discovered
    outcomes = {path: "opgave" for path in returned} | {path: r.kind for path, r in rejected.items()}
    assert outcomes == expected
    for rejection in result.rejected:
        reason = rejection.reason
        assert reason.endswith(".") and len(reason) < (800 if "niet gevonden:" in reason else 400), reason
        assert not any(word in reason for word in ("Error", "Exception", "None", "Traceback", "technische melding")), reason

    # what is skipped on purpose is accounted for too, each with its reason
    skipped = {r.source.path: r.kind for r in result.skipped}
    assert {k: v for k, v in skipped.items() if "/" not in k} == {
        "~$opgave.xlsx": "tijdelijk bestand", ".verborgen.xlsx": "verborgen", "Thumbs.db": "systeembestand",
        "pijp.xlsx": "speciaal bestand", "nog te ontvangen": "lege map",
    }
    log = [json.loads(line) for line in (reports.out_dir / "verwerking.jsonl").read_text(encoding="utf-8").splitlines()]
    assert next(e for e in log if e["bestand"] == "nog te ontvangen")["grootte_bytes"] == 0  # a folder has no size
    assert sorted(entry["bestand"] for entry in log) == sorted(discovered | set(skipped))
    assert {entry["uitkomst"] for entry in log if entry["bestand"] in skipped} == {"overgeslagen"}
    hashes = {entry["bestand"]: entry["sha256"] for entry in log}
    assert hashes["libreoffice/opgave.ods"] == before["libreoffice/opgave.ods"][0]
    assert fingerprint(inbox) == before  # nothing read was changed, not even a timestamp


def test_messy_folder_through_the_command_line(messy_inbox, tmp_path):
    inbox, expected = messy_inbox
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--stil", "--jobs", "1", "--jaar", "2025"])
    assert result.exit_code == 1, result.output
    not_processed = [line for line in result.output.splitlines() if "niet verwerkt:" in line]
    assert len(not_processed) == sum(1 for outcome in expected.values() if outcome != "opgave")


def test_reasons_an_officer_understands(messy_inbox):
    inbox, _ = messy_inbox
    reasons = {r.source.path: r.reason for r in run_audit(inbox, year=YEAR).rejected}
    assert "pdf" in reasons["scan van de opgave.pdf"]
    assert "e-mailbericht" in reasons["mail van de aanbieder.msg"] and "bijlage" in reasons["mail van de aanbieder.msg"]
    assert "wachtwoord" in reasons["beveiligd/beveiligd.xls"]
    assert "zip-bom" in reasons["bom-ratio.xlsx"]
    assert "geen van de velden" in reasons["adressen.csv"]
    assert "KvK-nummer" not in reasons["half formulier.csv"] and "Sector" in reasons["half formulier.csv"]
    assert "libreoffice/opgave.ods" in reasons["oud excel/opgave.xls"]


# ------------------------------------------------------------------------------ never another exception
@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hypothesis")


def _survives(path: Path) -> None:
    try:
        record = read_return(path, source_file(path, path.parent), "R", CATALOGUE)
    except UnreadableFile as error:
        assert error.reason and error.kind
        return
    normalise([record], CATALOGUE)  # whatever was read, the parsers never crash on it


SUFFIXES = [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".pdf", ""]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_give_only_unreadable_file(scratch, data, suffix):
    path = scratch / f"willekeurig{suffix}"
    path.write_bytes(data)
    _survives(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.sampled_from(["opgave.xlsx", "opgave.ods", "opgave.xls", "opgave_libreoffice.xlsx"]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=12),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_damaged_real_returns_give_only_unreadable_file(scratch, source, flips, cut):
    data = bytearray((FIXTURES / source).read_bytes())
    for where, byte in flips:
        data[int(where * len(data))] = byte
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = scratch / f"beschadigd{Path(source).suffix}"
    path.write_bytes(bytes(data))
    _survives(path)


ANY_VALUE = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(["#DIV/0!", "=1/0", "ja ", "12,5", "1.234", "80%", "n.v.t.", "01-03-24", "ca. 20", "\u00a0"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({}, optional={f.key: ANY_VALUE for f in CATALOGUE.fields}))
def test_any_cell_values_are_read_and_parsed_without_crashing(scratch, blank_form, values):
    path = fill_form(blank_form, values, scratch / "willekeurige-waarden.xlsx")
    try:
        record = read_return(path, source_file(path, scratch), "R", CATALOGUE)
    except UnreadableFile as error:
        # Only a huge negative number in the date cell makes python-calamine panic; the file is refused.
        date_cell = values.get("meldcode_datum")
        assert isinstance(date_cell, (int, float)) and date_cell <= -1e9, error.reason
        assert "onmogelijke datum" in error.reason
        return
    for key, value in values.items():
        if isinstance(value, str) and value.strip():
            assert record.values[key] == value  # text arrives as typed
    normalise([record], CATALOGUE)


# ------------------------------------------------------------------------------ sample generators
def cell_values(path: Path) -> dict[str, dict[str, Any]]:
    """Every filled cell of every sheet (value and its type), and the defined names."""
    workbook = openpyxl.load_workbook(path)
    sheets = {
        sheet.title: {cell.coordinate: (cell.value, cell.data_type) for row in sheet.iter_rows() for cell in row
                      if cell.value is not None}
        for sheet in workbook
    }
    return {**sheets, "names": {name: str(workbook.defined_names[name].value) for name in workbook.defined_names}}


def test_sample_region_regenerates_the_committed_samples(tmp_path):
    written = write_sample_region(tmp_path)
    committed = sorted(p.name for p in SAMPLES.iterdir())
    assert committed == sorted(p.name for p in written), "sample_workbooks/ holds only the returns and the budget"
    for path in written:  # values, not bytes: another openpyxl may write other bytes
        assert cell_values(path) == cell_values(SAMPLES / path.name), path.name
    again = write_sample_region(tmp_path / "nogmaals")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]  # same bytes on every run


def test_many_returns_with_mixed_statuses_the_same_in_any_number_of_processes(tmp_path):
    paths = write_returns(tmp_path / "veel", 60, seed=7, jobs=1)
    assert len(paths) == 60 and len({p.name for p in paths}) == 60
    again = write_returns(tmp_path / "nogmaals", 60, seed=7, jobs=2)
    assert [p.name for p in again] == [p.name for p in paths]
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    result = run_audit(tmp_path / "veel", year=YEAR)
    assert not result.rejected and len(result.returns) == 60
    assert all(r.notes == () or all("formulierversie" not in n.lower() for n in r.notes) for r in result.returns)
    assert {Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN} <= set(result.overall.values())
    workbook = openpyxl.load_workbook(paths[0])  # a real workbook: names, validation and protection intact
    assert "kv_kvk_nummer" in workbook.defined_names
    assert workbook["Aanlevering"].data_validations.dataValidation
    assert workbook["Aanlevering"].protection.sheet
    assert workbook.properties.modified == workbook.properties.created == datetime(2026, 1, 15, 9, 0)


def test_form_filler_writes_what_it_is_given_and_nothing_of_the_return_before(blank_form, tmp_path):
    filler = FormFiller(blank_form)
    values = {"aanbieder_naam": "A & B <zorg> 't Huis", "kvk_nummer": "01234567", "fte": 12.5, "verslagjaar": 2025,
              "meldcode_datum": date(2024, 3, 1), "meldcode_aanwezig": True, "toelichting": "  =SOM(A1)  ",
              "medewerkers": "=1/0"}
    filler.save({"agb_code": "98765432", "sector": "wmo", "meldcode_datum": "1-3-2024"}, tmp_path / "eerst.xlsx")
    record = read(filler.save(values, tmp_path / "gevuld.xlsx"))
    assert record.values["aanbieder_naam"] == "A & B <zorg> 't Huis"
    assert record.values["kvk_nummer"] == "01234567" and record.values["fte"] == 12.5
    assert record.values["meldcode_datum"] in (date(2024, 3, 1), datetime(2024, 3, 1))
    assert record.values["meldcode_aanwezig"] is True and record.values["toelichting"] == "  =SOM(A1)  "
    assert record.values["medewerkers"] == "=1/0"  # typed text that looks like a formula stays text
    assert record.values["agb_code"] is None and record.values["sector"] is None  # not left from the first
    assert record.form_version == CATALOGUE.form_version
    assert (tmp_path / "gevuld.xlsx").read_bytes() == FormFiller(blank_form).fill(values)
