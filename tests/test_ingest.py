"""Finding files and reading returns: real files in tmp_path, as providers send them."""

from __future__ import annotations

import hashlib
import os
import random
import re
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kvcompliance.catalogue import load_catalogue
from kvcompliance.errors import KvError, UnreadableFile
from kvcompliance.ingest import containers, discover, inbox, read_return, source_file, survey
from kvcompliance.ingest.inbox import relative_path
from kvcompliance.ingest.cells import Book, read_cells
from kvcompliance.ingest.containers import OLE_MAGIC, ole_stream_names
from kvcompliance.ingest.locate import locate_fields, scan_labels
from kvcompliance.ingest.names import WorkbookNames
from kvcompliance.ingest.references import cell_name, cell_position, parse_reference
from kvcompliance.ingest.scans import scan_xlsx_sheet
from kvcompliance.model import CellRef
from kvcompliance.template import write_template

CATALOGUE = load_catalogue()
REQUIRED_LABELS = [f.label for f in CATALOGUE.fields if f.required]

ANSWERS: dict[str, Any] = {
    "aanbieder_naam": "Zorggroep De Brug / Noord: ambulant",
    "kvk_nummer": "01234567",
    "contractnummer": "EV-2025-JH-0042",
    "sector": "jeugdhulp",
    "verslagjaar": 2025,
    "medewerkers": 40,
    "fte": "12,5",
    "meldcode_aanwezig": "Ja ",
    "meldcode_datum": date(2024, 3, 1),
    "af_opgeleid": "x",
    "af_uren_per_week": 6.5,
    "toelichting": '=HYPERLINK("http://x","y")',
}


# ------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def blank_form(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("form") / "uitvraag.xlsx"
    write_template(path, CATALOGUE)
    return path


def fill(form: Path, target: Path, answers: dict[str, Any], edit=None) -> Path:
    """Fill the form's named cells like a provider would; ``edit(workbook)`` changes more."""
    workbook = openpyxl.load_workbook(form)
    for key, value in answers.items():
        (sheet, coordinate), = workbook.defined_names[f"kv_{key}"].destinations
        cell = workbook[sheet][coordinate.replace("$", "")]
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # typed as text
    if edit:
        edit(workbook)
    workbook.save(target)
    return target


def read(path: Path, inbox: Path | None = None):
    inbox = inbox or path.parent
    return read_return(path, source_file(path, inbox), "R0001", CATALOGUE)


def refused(path: Path) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as info:
        read(path)
    assert info.value.reason and info.value.reason == str(info.value)
    return info.value


def make_ole(names: list[str]) -> bytes:
    """A minimal, well-formed OLE2 compound file whose directory holds ``names`` (max 3)."""
    assert len(names) <= 3
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<HHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9)  # versions, byte order, 512-byte sectors
    struct.pack_into("<H", header, 0x20, 6)
    struct.pack_into("<II", header, 0x2C, 1, 1)  # one FAT sector; directory starts at sector 1
    struct.pack_into("<III", header, 0x38, 4096, 0xFFFFFFFE, 0)  # mini cutoff, no mini FAT
    struct.pack_into("<II", header, 0x44, 0xFFFFFFFE, 0)  # no DIFAT sectors
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))  # the FAT is sector 0
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *([0xFFFFFFFF] * 126))
    directory = bytearray()
    for number, (name, kind) in enumerate([("Root Entry", 5)] + [(n, 2) for n in names]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
        left, right, child = 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        if kind == 5 and names:
            child = 1
        elif kind == 2 and number < len(names):
            right = number + 1
        struct.pack_into("<III", entry, 68, left, right, child)
        struct.pack_into("<IQ", entry, 116, 0xFFFFFFFE, 0)  # start sector, size 0
        directory += entry
    directory += b"\x00" * (512 - len(directory))
    return bytes(header) + fat + bytes(directory)


# ------------------------------------------------------------------------------ round trip
def test_round_trip_gives_values_and_cells(blank_form, tmp_path):
    path = fill(blank_form, tmp_path / "opgave.xlsx", ANSWERS)
    record = read(path)
    assert record.return_id == "R0001"
    assert set(record.values) == {f.key for f in CATALOGUE.fields}
    assert record.values["aanbieder_naam"] == "Zorggroep De Brug / Noord: ambulant"
    assert record.values["kvk_nummer"] == "01234567"  # leading zero kept
    assert record.values["fte"] == "12,5"  # raw: normalise understands it
    assert record.values["meldcode_aanwezig"] == "Ja "  # nothing stripped
    assert record.values["meldcode_datum"] in (date(2024, 3, 1), datetime(2024, 3, 1))
    assert record.values["af_uren_per_week"] == 6.5
    assert record.values["verslagjaar"] == 2025
    assert record.values["toelichting"] == '=HYPERLINK("http://x","y")'  # text, not a formula
    assert record.values["agb_code"] is None  # empty cell
    workbook = openpyxl.load_workbook(path)
    for field in CATALOGUE.fields:
        (sheet, coordinate), = workbook.defined_names[field.defined_name].destinations
        assert record.cells[field.key] == CellRef(sheet, coordinate.replace("$", ""))
    assert record.form_version == CATALOGUE.form_version
    assert record.sheet == "Aanlevering"
    assert record.notes == ()
    assert record.source.path == "opgave.xlsx"


def test_every_field_round_trips(blank_form, tmp_path):
    answers = {f.key: f"waarde {i}" for i, f in enumerate(CATALOGUE.fields)}
    record = read(fill(blank_form, tmp_path / "alles.xlsx", answers))
    assert record.values == answers


def test_xlsm_extension_is_read(blank_form, tmp_path):
    path = fill(blank_form, tmp_path / "opgave.xlsx", ANSWERS)
    macro = path.rename(tmp_path / "opgave.xlsm")
    assert read(macro).values["contractnummer"] == "EV-2025-JH-0042"


def test_names_that_moved_are_followed(blank_form, tmp_path):
    """A provider inserted rows or renamed the sheet: the names move with the cells."""

    def move(workbook):
        sheet = workbook["Aanlevering"]
        sheet.title = "Opgave 'Noord' 2025"
        for name in list(workbook.defined_names):
            text = workbook.defined_names[name].attr_text
            workbook.defined_names[name].attr_text = text.replace("Aanlevering!", "'Opgave ''Noord'' 2025'!")
        sheet["E60"] = 99
        workbook.defined_names["kv_medewerkers"].attr_text = "'Opgave ''Noord'' 2025'!$E$60"
        sheet["A5"] = "Naam van de organisatie (door aanbieder aangepast)"

    record = read(fill(blank_form, tmp_path / "verplaatst.xlsx", ANSWERS, move))
    assert record.values["medewerkers"] == 99
    assert record.cells["medewerkers"] == CellRef("Opgave 'Noord' 2025", "E60")
    assert record.values["aanbieder_naam"] == ANSWERS["aanbieder_naam"]
    assert record.sheet == "Opgave 'Noord' 2025"


def label_cell(workbook, key: str):
    """The cell holding a field's label (left of its answer cell)."""
    (sheet, coordinate), = workbook.defined_names[f"kv_{key}"].destinations
    answer = workbook[sheet][coordinate.replace("$", "")]
    return answer.parent.cell(row=answer.row, column=answer.column - 1)


def test_field_missing_from_an_older_form_is_empty_with_a_note(blank_form, tmp_path):
    def older(workbook):
        label_cell(workbook, "kwaliteitskader_smb").value = "Een vraag uit een ouder formulier"
        del workbook.defined_names["kv_kwaliteitskader_smb"]
        workbook.defined_names["kv_formulierversie"].attr_text = '"2025.1"'

    record = read(fill(blank_form, tmp_path / "oud.xlsx", {**ANSWERS, "kwaliteitskader_smb": "ja"}, older))
    assert record.values["kwaliteitskader_smb"] is None
    assert "kwaliteitskader_smb" not in record.cells
    assert record.form_version == "2025.1"
    notes = " ".join(record.notes)
    assert "Kwaliteitskader Voorkomen seksueel misbruik" in notes and "2025.1" in notes


def test_field_without_its_name_is_found_by_its_label(blank_form, tmp_path):
    """A provider copied the row back in: the defined name is gone, the label is still there."""

    def lost_name(workbook):
        del workbook.defined_names["kv_kwaliteitskader_smb"]
        del workbook.defined_names["kv_fte"]

    answers = {**ANSWERS, "kwaliteitskader_smb": "nee"}
    record = read(fill(blank_form, tmp_path / "zonder-naam.xlsx", answers, lost_name))
    assert record.values["kwaliteitskader_smb"] == "nee"
    assert record.values["fte"] == "12,5"
    workbook = openpyxl.load_workbook(blank_form)
    (_, coordinate), = workbook.defined_names["kv_fte"].destinations
    assert record.cells["fte"] == CellRef("Aanlevering", coordinate.replace("$", ""))
    notes = " ".join(record.notes)
    assert "herkend aan de tekst van de vraag" in notes and "Aantal fte van deze medewerkers" in notes
    assert "staan niet in" not in notes


def test_sheet_level_names_are_ignored(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B2"] = "Stichting Lokaal"
    from openpyxl.workbook.defined_name import DefinedName

    sheet.defined_names["kv_aanbieder_naam"] = DefinedName("kv_aanbieder_naam", attr_text="Sheet!$B$2")
    workbook.save(tmp_path / "lokaal.xlsx")
    assert refused(tmp_path / "lokaal.xlsx").kind == "geen opgave"


def test_minimal_ods_with_named_ranges(tmp_path):
    """LibreOffice users may save the form as .ods; its named ranges are read the same way."""
    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="{table}" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Mijn opgave">
<table:table-row><table:table-cell/><table:table-cell/></table:table-row>
<table:table-row><table:table-cell/><table:table-cell office:value-type="string"><text:p>Stichting Ods</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell/><table:table-cell office:value-type="float" office:value="12.5"><text:p>12,5</text:p></table:table-cell></table:table-row>
<table:named-expressions><table:named-range table:name="kv_contractnummer" table:cell-range-address="$'Mijn opgave'.$B$2"/></table:named-expressions>
</table:table>
<table:named-expressions>
<table:named-range table:name="kv_aanbieder_naam" table:base-cell-address="$'Mijn opgave'.$A$1" table:cell-range-address="$'Mijn opgave'.$B$2"/>
<table:named-range table:name="kv_fte" table:base-cell-address="$'Mijn opgave'.$A$1" table:cell-range-address="$'Mijn opgave'.$B$3"/>
<table:named-expression table:name="kv_formulierversie" table:base-cell-address="$'Mijn opgave'.$A$1" table:expression="&quot;2026.1&quot;"/>
</table:named-expressions>
</office:spreadsheet></office:body></office:document-content>"""
    content = re.sub(r">\s+<", "><", content)  # like LibreOffice: no whitespace between tags
    path = tmp_path / "opgave.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            "</manifest:manifest>",
        )
        archive.writestr("content.xml", content)
    record = read(path)
    assert record.values["aanbieder_naam"] == "Stichting Ods"
    assert record.values["fte"] == 12.5
    assert record.values["contractnummer"] is None  # that name was local to the sheet
    assert record.cells["fte"] == CellRef("Mijn opgave", "B3")
    assert record.form_version == "2026.1"


# ------------------------------------------------------------------------------ references
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("Aanlevering!$B$7", CellRef("Aanlevering", "B7")),
        ("=Aanlevering!$B$7", CellRef("Aanlevering", "B7")),
        ("Aanlevering!b7", CellRef("Aanlevering", "B7")),
        ("'My sheet'!$B$7", CellRef("My sheet", "B7")),
        ("'Opgave ''Noord'''!$AB$120", CellRef("Opgave 'Noord'", "AB120")),
        ("Aanlevering!$B$7:$B$9", CellRef("Aanlevering", "B7")),
        ("Aanlevering!#REF!", None),
        ("#REF!$B$7", None),
        ("[1]Aanlevering!$B$7", None),
        ('"2026.1"', None),
        ("SUM(Aanlevering!$B$7:$B$9)", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_reference(target, expected):
    assert parse_reference(target) == expected


def test_locate_fields_ignores_names_on_missing_sheets():
    names = WorkbookNames(
        sheets=["Aanlevering"],
        names={"kv_fte": CellRef("Aanlevering", "B9"), "kv_medewerkers": CellRef("Weg", "B8"), "kv_sector": "jeugdhulp"},
    )
    assert locate_fields(names, CATALOGUE) == {"fte": CellRef("Aanlevering", "B9")}


def test_cells_past_the_used_area_are_empty(blank_form, tmp_path):
    def far(workbook):
        workbook.defined_names["kv_toelichting"].attr_text = "Aanlevering!$Z$900"

    assert read(fill(blank_form, tmp_path / "ver.xlsx", ANSWERS, far)).values["toelichting"] is None


# ------------------------------------------------------------------------------ refused files
def test_empty_file(tmp_path):
    (tmp_path / "leeg.xlsx").write_bytes(b"")
    error = refused(tmp_path / "leeg.xlsx")
    assert error.kind == "leeg" and "leeg" in error.reason


@pytest.mark.parametrize("content", [b"dit is geen excel", b"PK\x03\x04" + b"\x00" * 40, os.urandom(2000)])
def test_corrupt_xlsx(tmp_path, content):
    (tmp_path / "kapot.xlsx").write_bytes(content)
    error = refused(tmp_path / "kapot.xlsx")
    assert error.kind == "onleesbaar" and ("beschadigd" in error.reason or "geen geldige" in error.reason)


def test_truncated_xlsx(blank_form, tmp_path):
    data = fill(blank_form, tmp_path / "heel.xlsx", ANSWERS).read_bytes()
    (tmp_path / "half.xlsx").write_bytes(data[: len(data) // 2])
    assert refused(tmp_path / "half.xlsx").kind == "onleesbaar"


def test_pdf(tmp_path):
    (tmp_path / "opgave.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    error = refused(tmp_path / "opgave.pdf")
    assert error.kind == "geen spreadsheet" and "pdf" in error.reason and ".xlsx" in error.reason


def test_pdf_named_xlsx_is_still_a_pdf(tmp_path):
    (tmp_path / "opgave.xlsx").write_bytes(b"%PDF-1.4 ...")
    assert refused(tmp_path / "opgave.xlsx").kind == "geen spreadsheet"


def test_empty_zip_named_xlsx(tmp_path):
    path = tmp_path / "opgave.xlsx"
    with zipfile.ZipFile(path, "w"):
        pass
    error = refused(path)
    assert error.kind == "onleesbaar" and "geen geldige spreadsheet" in error.reason


def test_zip_archive_of_returns(tmp_path):
    path = tmp_path / "opgaven.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("opgave.xlsx", b"x")
    error = refused(path)
    assert error.kind == "geen spreadsheet" and "Pak het uit" in error.reason


def test_word_document(tmp_path):
    path = tmp_path / "opgave.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    error = refused(path)
    assert error.kind == "geen spreadsheet" and "Word" in error.reason


@pytest.mark.parametrize(
    ("name", "content"),
    [("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20), ("foto.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
     ("leesmij.txt", b"Hierbij onze opgave."), ("notities", b"zonder extensie")],
)
def test_other_files_are_no_spreadsheet(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    assert refused(tmp_path / name).kind == "geen spreadsheet"


def test_password_protected_xlsx(tmp_path):
    path = tmp_path / "beveiligd.xlsx"
    path.write_bytes(make_ole(["EncryptionInfo", "EncryptedPackage"]))
    assert ole_stream_names(path) >= {"encryptioninfo", "encryptedpackage"}
    error = refused(path)
    assert error.kind == "beveiligd" and "wachtwoord" in error.reason


def test_password_protected_file_with_damaged_directory(tmp_path):
    path = tmp_path / "beveiligd.xlsx"
    path.write_bytes(OLE_MAGIC + b"\x00" * 600 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 100)
    assert refused(path).kind == "beveiligd"


def test_xls_with_an_empty_workbook_stream_is_unreadable(tmp_path):
    path = tmp_path / "opgave.xls"
    path.write_bytes(make_ole(["Workbook"]))
    error = refused(path)
    assert error.kind == "onleesbaar" and ".xlsx" in error.reason


def test_old_word_document(tmp_path):
    path = tmp_path / "brief.doc"
    path.write_bytes(make_ole(["WordDocument"]))
    assert refused(path).kind == "geen spreadsheet"


def test_spreadsheet_that_is_not_the_form(tmp_path):
    """No field at all: a short reason, no list of fifteen labels."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["Begroting 2026", 412000])
    workbook.active.append(["Toelichting", "Alle bedragen in euro"])  # an ordinary word, not a return
    workbook.save(tmp_path / "begroting.xlsx")
    error = refused(tmp_path / "begroting.xlsx")
    assert error.kind == "geen opgave"
    assert "geen van de velden van het uitvraagformulier gevonden" in error.reason
    assert not any(label in error.reason for label in REQUIRED_LABELS)
    assert len(error.reason) < 200


def test_spreadsheet_with_a_few_of_the_fields_says_which_are_missing(tmp_path):
    workbook = openpyxl.Workbook()
    for row in (["Naam organisatie", "Stichting Eigen Lijst"], ["KvK-nummer", "12345678"], ["Sector", "wmo"]):
        workbook.active.append(row)
    workbook.save(tmp_path / "eigen.xlsx")
    error = refused(tmp_path / "eigen.xlsx")
    assert error.kind == "geen opgave"
    missing = [label for label in REQUIRED_LABELS if label not in ("Naam organisatie", "KvK-nummer", "Sector")]
    assert all(label in error.reason for label in missing)
    assert "Naam organisatie" not in error.reason and "Toelichting" not in error.reason  # only required, missing


def test_zip_bomb_is_refused_before_reading(blank_form, tmp_path, monkeypatch):
    path = tmp_path / "groot.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(blank_form) as form:
            for info in form.infolist():
                archive.writestr(info.filename, form.read(info.filename))
        archive.writestr("xl/media/opvulling.bin", b"\x00" * 3_000_000)
    monkeypatch.setattr(containers, "MAX_UNCOMPRESSED", 2_000_000)
    error = refused(path)
    assert error.kind == "te groot" and "MB" in error.reason


def test_too_many_parts_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "veel.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(30):
            archive.writestr(f"xl/part{number}.xml", "<x/>")
    monkeypatch.setattr(containers, "MAX_MEMBERS", 20)
    assert refused(path).kind == "te groot"


def test_hostile_xml_in_workbook_part(blank_form, tmp_path):
    path = tmp_path / "entiteiten.xlsx"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>'
    )
    with zipfile.ZipFile(blank_form) as form, zipfile.ZipFile(path, "w") as archive:
        for info in form.infolist():
            archive.writestr(info.filename, bomb if info.filename == "xl/workbook.xml" else form.read(info.filename))
    assert refused(path).kind == "onleesbaar"


def copy_with_part(source: Path, target: Path, part: str, change) -> Path:
    """A copy of the zip ``source`` in which ``change(data)`` replaced the content of ``part``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            archive.writestr(info.filename, change(data) if info.filename == part else data)
    return target


HOSTILE_DOCTYPES = {
    "entiteiten": b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY kv "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    "extern": b'<!DOCTYPE x [<!ENTITY kv SYSTEM "file:///etc/passwd">]>',
    "parameter": b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    "onbekend": b'<!DOCTYPE x SYSTEM "file:///etc/passwd">',  # &kv; is declared nowhere we read
}


@pytest.mark.parametrize("attack", sorted(HOSTILE_DOCTYPES))
@pytest.mark.parametrize("part", ["_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml"])
def test_hostile_xml_in_package_parts_is_refused(blank_form, tmp_path, monkeypatch, part, attack):
    """Entity declarations and references are refused in every part we parse ourselves,
    before python-calamine is given the file: never expanded, never fetched, never a crash."""

    def hostile(data: bytes) -> bytes:
        declaration = data[: data.index(b"?>") + 2] if data.startswith(b"<?xml") else b""
        body = data[len(declaration) :]
        closing = body.rindex(b"</")
        return declaration + HOSTILE_DOCTYPES[attack] + body[:closing] + b"&kv;" + body[closing:]

    path = copy_with_part(fill(blank_form, tmp_path / "bron.xlsx", ANSWERS), tmp_path / "entiteit.xlsx", part, hostile)

    def never(*args, **kwargs):
        raise AssertionError("calamine opened hostile XML")

    monkeypatch.setattr(Book, "open", never)
    error = refused(path)
    assert error.kind == "onleesbaar" and "beschadigd" in error.reason


XLSX_ERROR_CELLS = [
    b'<row r="2"><c r="B2" t="e"><v>#DIV/0!</v></c></row>',
    b"<row r='2'><c r='B2' t='e'><v>#DIV/0!</v></c></row>",
    b'<row r = "2"><c\n r = "B2"\tt = "e" ><v>#DIV/0!</v></c></row>',
    b'<x:row r="2"><x:c r="B2" t="e"><x:v>#DIV/0!</x:v></x:c></x:row>',
]


@pytest.mark.parametrize("cells", XLSX_ERROR_CELLS)
def test_error_cells_are_found_however_the_xml_spells_them(cells):
    """Quotes, spaces and namespace prefixes are all XML allows; the error text still arrives."""
    xml = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        + cells
        + b"</x:sheetData></x:worksheet>"
    )
    assert scan_xlsx_sheet(xml).errors == {(1, 1): "#DIV/0!"}


def test_unexpected_library_error_becomes_unreadable(blank_form, tmp_path, monkeypatch):
    path = fill(blank_form, tmp_path / "opgave.xlsx", ANSWERS)

    def crash(*args, **kwargs):
        raise RuntimeError("internal error in a library")

    monkeypatch.setattr(Book, "grid", crash)
    error = refused(path)
    assert error.kind == "onleesbaar" and "beschadigd" in error.reason and "RuntimeError" in error.reason


def test_damaged_files_never_crash(blank_form, tmp_path):
    """Flip bytes all over a real return: read_return returns a record or says why not."""
    data = bytearray(fill(blank_form, tmp_path / "bron.xlsx", ANSWERS).read_bytes())
    rng = random.Random(7)
    kinds = set()
    for attempt in range(40):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"kapot{attempt}.xlsx"
        path.write_bytes(bytes(damaged))
        try:
            read(path)
            kinds.add("gelezen")
        except UnreadableFile as error:
            assert error.reason
            kinds.add(error.kind)
    assert "onleesbaar" in kinds


def test_unreadable_file_has_a_dutch_reason(tmp_path):
    path = tmp_path / "opgave.xlsx"
    path.write_bytes(b"PK\x03\x04kapot")
    path.chmod(0o000)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read anything (root)")
        assert "geen leesrechten" in refused(path).reason
    finally:
        path.chmod(0o644)


# ------------------------------------------------------------------------------ discover, source
def test_discover_finds_files_recursively_and_skips_lock_and_hidden_files(tmp_path):
    inbox = tmp_path / "inbox"
    for name in ["b.xlsx", "a.xlsx", "sub/c.xlsx", "sub/deeper/d.ods", "~$a.xlsx", ".hidden.xlsx",
                 ".git/e.xlsx", "sub/.cache/f.xlsx", "Thumbs.db", "sub/~$c.xlsx"]:
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    found = [p.relative_to(inbox).as_posix() for p in discover(inbox)]
    assert found == ["a.xlsx", "b.xlsx", "sub/c.xlsx", "sub/deeper/d.ods"]


def test_discover_never_follows_links_and_accounts_for_every_entry(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "elders"
    inbox.mkdir()
    outside.mkdir()
    (outside / "geheim.xlsx").write_bytes(b"x")
    (inbox / "echt.xlsx").write_bytes(b"x")
    (inbox / "link-naar-buiten.xlsx").symlink_to(outside / "geheim.xlsx")
    (inbox / "map-naar-buiten").symlink_to(outside, target_is_directory=True)
    (inbox / "link-binnen.xlsx").symlink_to(inbox / "echt.xlsx")
    (inbox / "kapotte-link.xlsx").symlink_to(tmp_path / "bestaat-niet.xlsx")
    os.mkfifo(inbox / "pijp.xlsx")
    (inbox / "~$echt.xlsx").write_bytes(b"x")
    (inbox / ".verborgen.xlsx").write_bytes(b"x")
    (inbox / "Thumbs.db").write_bytes(b"x")
    result = survey(inbox)
    assert [p.name for p in result.files] == ["echt.xlsx"]
    skipped = {entry.path.name: entry.kind for entry in result.skipped}
    assert skipped == {
        "link-naar-buiten.xlsx": "snelkoppeling", "map-naar-buiten": "snelkoppeling", "link-binnen.xlsx": "snelkoppeling",
        "kapotte-link.xlsx": "snelkoppeling", "pijp.xlsx": "speciaal bestand", "~$echt.xlsx": "tijdelijk bestand",
        ".verborgen.xlsx": "verborgen", "Thumbs.db": "systeembestand",
    }
    # every entry of the folder is either read or skipped with a reason
    assert len(result.files) + len(result.skipped) == len(list(inbox.iterdir()))


def test_an_empty_sub_folder_is_accounted_for(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"x")
    (tmp_path / "regio noord" / "leeg").mkdir(parents=True)
    (tmp_path / "alleen verborgen").mkdir()
    (tmp_path / "alleen verborgen" / ".DS_Store").write_bytes(b"x")
    result = survey(tmp_path)
    assert [p.name for p in result.files] == ["a.xlsx"]
    # the leaf is empty; its parent holds it, the other folder holds a skipped file
    assert [(relative_path(e.path, tmp_path), e.kind) for e in result.skipped] == [
        ("alleen verborgen/.DS_Store", "systeembestand"), ("regio noord/leeg", "lege map")]
    assert survey(tmp_path / "regio noord" / "leeg").skipped == []  # the inbox itself is not an entry of itself


def test_unreadable_sub_folder_is_reported_not_lost(tmp_path, monkeypatch):
    (tmp_path / "a.xlsx").write_bytes(b"x")
    (tmp_path / "geheim").mkdir()
    real_walk = os.walk

    def walk(top, onerror=None, followlinks=False):  # as if 'geheim' had no read permission
        for folder, dirs, files in real_walk(top, followlinks=followlinks):
            if folder.endswith("geheim"):
                onerror(PermissionError(13, "Permission denied", folder))
                continue
            yield folder, dirs, files

    monkeypatch.setattr(inbox.os, "walk", walk)
    result = survey(tmp_path)
    assert [p.name for p in result.files] == ["a.xlsx"]
    (entry,) = result.skipped
    assert (entry.path.name, entry.kind) == ("geheim", "map niet leesbaar")
    assert entry.values["fout"] == "geen leesrechten"


def test_discover_refuses_a_missing_folder(tmp_path):
    with pytest.raises(KvError, match="bestaat niet"):
        discover(tmp_path / "nergens")


def test_source_file(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "regio noord").mkdir(parents=True)
    path = inbox / "regio noord" / "opgave.xlsx"
    content = b"inhoud" * 500_000  # larger than one hashing chunk
    path.write_bytes(content)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    source = source_file(path, inbox)
    assert source.path == "regio noord/opgave.xlsx"
    assert source.size == len(content)
    assert source.modified == 1_700_000_000
    assert source.sha256 == hashlib.sha256(content).hexdigest()


def test_sample_workbooks_are_all_read():
    """The committed samples: every numbered file is a return, the budget is not."""
    folder = Path(__file__).resolve().parent.parent / "sample_workbooks"
    paths = [p for p in discover(folder) if p.suffix == ".xlsx"]
    if not paths:
        pytest.skip("sample workbooks not generated")
    for path in paths:
        if path.name[:2].isdigit():
            record = read(path, folder)
            assert record.values["aanbieder_naam"], path.name
        else:
            assert refused(path).kind == "geen opgave"


def test_speed_of_reading(blank_form, tmp_path):
    """Thousands of returns: reading one form takes milliseconds, not the ~20 ms of openpyxl."""
    import time

    path = fill(blank_form, tmp_path / "opgave.xlsx", ANSWERS)
    source = source_file(path, tmp_path)
    read_return(path, source, "R", CATALOGUE)
    timings = []
    for _ in range(5):  # best of 5 batches: robust against a busy machine
        start = time.perf_counter()
        for _ in range(10):
            read_return(path, source, "R", CATALOGUE)
        timings.append((time.perf_counter() - start) / 10)
    assert min(timings) < 0.015


# ------------------------------------------------------------------------------ labels and sheet scans
def test_scan_labels_on_a_plain_grid():
    grid = [
        ["Vraag", "Uw antwoord", "Uitleg bij de vraag"],
        ["Naam organisatie *", "Stichting Raster", "De statutaire naam van uw organisatie, zoals bij de KvK ingeschreven."],
        ["KVK NUMMER", "", "Het KvK-nummer van uw organisatie: precies 8 cijfers."],  # empty: not the help text
        ["fte", "", "12,5"],  # an answer one column further
    ]
    hits = scan_labels(grid, CATALOGUE)
    assert hits["aanbieder_naam"].value == (1, 1)
    assert hits["kvk_nummer"].value == (2, 1)  # points at the empty answer cell
    assert hits["fte"].value == (3, 2)


def test_scan_labels_header_row_means_one_return_per_row():
    grid = [["kvk_nummer", "Sector *", "fte"], ["01234567", "wmo", "3,5"]]
    hits = scan_labels(grid, CATALOGUE)
    assert {key: hit.value for key, hit in hits.items()} == {"kvk_nummer": (1, 0), "sector": (1, 1), "fte": (1, 2)}


def test_scan_xlsx_sheet_finds_errors_and_formulas_where_they_are():
    xml = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="2"><x:c r="B2" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c><x:c r="C2"><x:f>A1*2</x:f></x:c>'
        b'<x:c t="e"><x:v>#N/A</x:v></x:c></x:row><x:row><x:c t="e"><x:v>#REF!</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    scan = scan_xlsx_sheet(xml)
    # a cell without r is the column after the one before it; a row without r the row after
    assert scan.errors == {(1, 1): "#DIV/0!", (1, 3): "#N/A", (2, 0): "#REF!"}
    assert scan.no_value == {(1, 2)}


def test_read_cells_gives_error_text(tmp_path):
    import xlsxwriter

    path = tmp_path / "fout.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet("Blad").write_formula("B2", "=1/0", None, "#DIV/0!")
    workbook.close()
    assert read_cells(path, {"x": CellRef("Blad", "B2"), "y": CellRef("Blad", "C9")}) == {"x": "#DIV/0!", "y": None}


def test_cell_names_round_trip():
    for cell in ("A1", "B7", "Z10", "AA1", "XFD1048576"):
        assert cell_name(*cell_position(cell)) == cell
