"""The return form: read back with openpyxl and checked as a provider would meet it."""

from __future__ import annotations

import errno

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from kvcompliance import template
from kvcompliance.catalogue import load_catalogue
from kvcompliance.errors import KvError, OutputError
from kvcompliance.prefill import write_prefilled_forms
from kvcompliance.template import FORM_SHEET, INSTRUCTION_SHEET, write_template

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("form") / "uitvraag.xlsx"
    write_template(path, CATALOGUE)
    return openpyxl.load_workbook(path)


def input_cell(workbook: openpyxl.Workbook, key: str):
    (sheet, coordinate), = workbook.defined_names[f"kv_{key}"].destinations
    return workbook[sheet][coordinate.replace("$", "")]


def validation_for(workbook: openpyxl.Workbook, cell):
    found = [dv for dv in cell.parent.data_validations.dataValidation if cell.coordinate in dv.sqref]
    assert len(found) == 1, f"{cell.coordinate}: expected one data validation, found {len(found)}"
    return found[0]


def all_text(sheet) -> str:
    return "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)


def test_sheets_instructions_first(form):
    assert form.sheetnames == [INSTRUCTION_SHEET, FORM_SHEET]


def test_every_field_has_a_named_input_cell_next_to_its_label(form):
    seen = set()
    for field in CATALOGUE.fields:
        cell = input_cell(form, field.key)
        assert cell.parent.title == FORM_SHEET and cell.column_letter == "B"
        assert cell.coordinate not in seen
        seen.add(cell.coordinate)
        label = cell.parent.cell(row=cell.row, column=1)
        assert label.value == (f"{field.label} *" if field.required else field.label)
        assert label.font.b == field.required
        assert cell.parent.cell(row=cell.row, column=3).value == field.help
        assert cell.value is None


def test_defined_names_are_workbook_level(form):
    for field in CATALOGUE.fields:
        for sheet in form.worksheets:
            assert field.defined_name not in sheet.defined_names


def test_section_titles_in_catalogue_order(form):
    sheet = form[FORM_SHEET]
    texts = [c.value for c in sheet["A"] if c.value]
    positions = [texts.index(section.title) for section in CATALOGUE.sections]
    assert positions == sorted(positions)


def test_form_version_is_stored_three_ways(form, tmp_path):
    assert form.defined_names["kv_formulierversie"].attr_text == f'"{CATALOGUE.form_version}"'
    version_cells = [c for row in form[INSTRUCTION_SHEET].iter_rows() for c in row if c.value == CATALOGUE.form_version]
    assert version_cells, "the form version must be visible on the Toelichting sheet"
    properties = {p.name: p.value for p in form.custom_doc_props.props}
    assert properties["kvcompliance_formulierversie"] == CATALOGUE.form_version


@pytest.mark.parametrize(
    ("key", "kind", "formula"),
    [
        ("meldcode_aanwezig", "list", '"ja,nee"'),
        ("af_opgeleid", "list", '"ja,nee"'),
        ("meldcode_kindcheck", "list", '"ja,nee,n.v.t."'),
        ("verwijsindex_aangesloten", "list", '"ja,nee,n.v.t."'),
        ("sector", "list", '"' + ",".join(s.key for s in CATALOGUE.sectors) + '"'),
    ],
)
def test_dropdowns(form, key, kind, formula):
    dv = validation_for(form, input_cell(form, key))
    assert dv.type == kind and dv.formula1 == formula
    assert dv.showDropDown in (None, False)  # openpyxl: False means the arrow IS shown
    assert dv.errorStyle in (None, "stop") and dv.showErrorMessage


def test_validation_follows_field_type(form):
    expected = {
        "geheel": ("whole", "greaterThanOrEqual", "0", None),
        "getal": ("decimal", "greaterThanOrEqual", "0", None),
        "jaar": ("whole", "between", "2000", "2100"),
        "datum": ("date", "between", None, None),
    }
    for field in CATALOGUE.fields:
        if field.type not in expected:
            continue
        kind, operator, low, high = expected[field.type]
        dv = validation_for(form, input_cell(form, field.key))
        assert (dv.type, dv.operator or "between") == (kind, operator), field.key  # between: the OOXML default
        if low is not None:
            assert dv.formula1 == low, field.key
        if high is not None:
            assert dv.formula2 == high, field.key


def test_every_input_cell_explains_itself_in_dutch(form):
    for field in CATALOGUE.fields:
        dv = validation_for(form, input_cell(form, field.key))
        assert dv.showInputMessage and dv.promptTitle and dv.prompt
        assert len(dv.promptTitle) <= 32 and len(dv.prompt) <= 255
        assert field.label.startswith(dv.promptTitle.rstrip("…"))
        if dv.type not in (None, "any"):
            assert dv.error and dv.errorTitle, field.key


def test_number_error_message_tells_how_to_type(form):
    dv = validation_for(form, input_cell(form, "fte"))
    assert "12,5" in dv.error and "zonder tekst" in dv.error


def test_codes_are_text_cells_and_dates_have_a_date_format(form):
    for field in CATALOGUE.fields:
        cell = input_cell(form, field.key)
        if field.type == "code":
            assert cell.number_format == "@", field.key  # leading zeros survive
            dv = validation_for(form, cell)
            assert (dv.type, dv.formula1) == ("textLength", str(field.digits))
        if field.type == "datum":
            assert cell.number_format == "d-m-yyyy"


def test_sheets_protected_without_password_and_only_inputs_unlocked(form):
    sheet = form[FORM_SHEET]
    assert sheet.protection.sheet and not sheet.protection.password
    assert form[INSTRUCTION_SHEET].protection.sheet and not form[INSTRUCTION_SHEET].protection.password
    inputs = {input_cell(form, f.key).coordinate for f in CATALOGUE.fields}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.coordinate in inputs:
                assert cell.protection.locked is False, cell.coordinate
                assert cell.fill.fgColor.rgb.endswith("FFF2CC")  # light yellow
            elif cell.value is not None:
                assert cell.protection.locked is not False, cell.coordinate


def test_layout_frozen_and_printable(form):
    sheet = form[FORM_SHEET]
    assert sheet.freeze_panes == f"A{template.FIRST_ROW + 1}"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "portrait"
    # One page wide (fitToWidth 1 is the OOXML default and may be omitted), as many pages tall as needed.
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == f"${template.HEADER_ROW + 1}:${template.HEADER_ROW + 1}"
    assert all(sheet.column_dimensions[c].width >= 20 for c in "ABC")


def test_page_breaks_fall_on_section_headers(form):
    sheet = form[FORM_SHEET]
    section_rows = {c.row for c in sheet["A"] if c.value in {s.title for s in CATALOGUE.sections}}
    breaks = [brk.id for brk in sheet.row_breaks.brk]  # break after row id
    assert breaks, "the form is longer than one page"
    assert all(row + 1 in section_rows for row in breaks)


def test_instructions_tell_the_provider_what_to_do(form):
    text = all_text(form[INSTRUCTION_SHEET])
    for phrase in ("gele cellen", "keuzelijst", "dd-mm-jjjj", ".xlsx", "zonder tekst", "Verplicht"):
        assert phrase in text, phrase
    for sector in CATALOGUE.sectors:
        assert sector.label in text


def test_prefill_locks_and_greys_the_given_cells(tmp_path):
    path = tmp_path / "vooraf.xlsx"
    write_template(
        path,
        CATALOGUE,
        {"aanbieder_naam": "Stichting Vooraf", "kvk_nummer": "01234567", "verslagjaar": 2025,
         "meldcode_aanwezig": True, "meldcode_datum": date(2024, 3, 1), "fte": None},
    )
    workbook = openpyxl.load_workbook(path)
    name = input_cell(workbook, "aanbieder_naam")
    assert name.value == "Stichting Vooraf" and name.protection.locked is True
    assert name.fill.fgColor.rgb.endswith("E7E6E6")
    assert input_cell(workbook, "kvk_nummer").value == "01234567"
    assert input_cell(workbook, "verslagjaar").value == 2025
    assert input_cell(workbook, "meldcode_aanwezig").value == "ja"
    assert input_cell(workbook, "meldcode_datum").value.date() == date(2024, 3, 1)
    fte = input_cell(workbook, "fte")  # None: not prefilled, still the provider's to fill
    assert fte.value is None and fte.protection.locked is False


def test_prefill_with_unknown_field_is_refused(tmp_path):
    with pytest.raises(KvError, match="Onbekend veld"):
        write_template(tmp_path / "x.xlsx", CATALOGUE, {"bestaat_niet": 1})
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "uitvraag.xlsx"
    path.write_bytes(b"oude versie")

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(template, "_write_form", broken)
    with pytest.raises(OutputError, match="uitvraag.xlsx niet schrijven: de schijf is vol"):
        write_template(path, CATALOGUE)
    assert path.read_bytes() == b"oude versie"
    assert [p.name for p in tmp_path.iterdir()] == ["uitvraag.xlsx"]  # no temporary file left


def test_overwrites_existing_form_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "uitvraag.xlsx"
    path.write_bytes(b"oud")
    write_template(path, CATALOGUE)
    assert openpyxl.load_workbook(path).sheetnames == [INSTRUCTION_SHEET, FORM_SHEET]
    assert [p.name for p in tmp_path.iterdir()] == ["uitvraag.xlsx"]


def test_missing_folder_is_a_dutch_error(tmp_path):
    with pytest.raises(OutputError, match="bestaat niet"):
        write_template(tmp_path / "nergens" / "uitvraag.xlsx", CATALOGUE)


def test_relative_path_in_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_template(Path("uitvraag.xlsx"), CATALOGUE)
    assert (tmp_path / "uitvraag.xlsx").is_file()


# ------------------------------------------------------------------------------ pre-filled forms per contract
REGISTER_CSV = (
    "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
    "EV-2025-JH-0001;Stichting De Brug / Noord: ambulant;01234567;jeugdhulp;info@debrug.nl\n"
    "EV-2025-WMO-0002;Thuiszorg Vallei;12345678;Wmo;zorg@vallei.nl\n"
    "EV-2025-JH-0003;Stichting De Brug / Noord: ambulant;01234567;Jeugdzorg;info@debrug.nl\n"
)


@pytest.fixture()
def register(tmp_path):
    from kvcompliance.register import load_register

    path = tmp_path / "contracten.csv"
    path.write_text(REGISTER_CSV, encoding="utf-8")
    return load_register(path, CATALOGUE)


def test_one_prefilled_form_per_contract_with_safe_names(register, tmp_path):
    written = write_prefilled_forms(register, CATALOGUE, tmp_path / "formulieren")
    assert [p.name for p in written] == [
        "uitvraag_Stichting De Brug _ Noord_ ambulant_EV-2025-JH-0001.xlsx",
        "uitvraag_Thuiszorg Vallei_EV-2025-WMO-0002.xlsx",
        "uitvraag_Stichting De Brug _ Noord_ ambulant_EV-2025-JH-0003.xlsx",
    ]
    assert all(p.parent == tmp_path / "formulieren" for p in written)
    workbook = openpyxl.load_workbook(written[1])
    expected = {"aanbieder_naam": "Thuiszorg Vallei", "kvk_nummer": "12345678", "contractnummer": "EV-2025-WMO-0002",
                "sector": "wmo"}
    for key, value in expected.items():
        cell = input_cell(workbook, key)
        assert cell.value == value and cell.protection.locked is True, key
        assert cell.fill.fgColor.rgb.endswith("E7E6E6")
    assert input_cell(workbook, "medewerkers").protection.locked is False
    assert input_cell(openpyxl.load_workbook(written[0]), "kvk_nummer").value == "01234567"  # leading zero kept


def test_a_prefilled_form_filled_in_audits_normally(register, tmp_path):
    from kvcompliance.audit import run_audit
    from samples import fill_form  # tools/

    (form, *_) = write_prefilled_forms(register, CATALOGUE, tmp_path / "formulieren")
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    answers = {"verslagjaar": 2025, "medewerkers": 40, "fte": "32,5", "clienten_minderjarig": 300,
               "meldcode_aanwezig": "ja", "meldcode_afwegingskader": "ja", "meldcode_datum": date(2024, 3, 1),
               "verwijsindex_aangesloten": "ja", "af_aantal": 2, "af_uren_per_week": 6, "af_opgeleid": "ja",
               "af_consultaties": 25, "medewerkers_getraind": 36, "trainingsuren": 120, "intervisie_bijeenkomsten": 6,
               "meldingen_veilig_thuis": 3, "adviesvragen_veilig_thuis": 5, "signalen_verwijsindex": 2,
               "keurmerk_meldcode": "ja", "kwaliteitskader_smb": "ja", "clienten_volwassen": 0}
    fill_form(form, answers, inbox / form.name)
    result = run_audit(inbox, year=2025, register_file=tmp_path / "contracten.csv")
    assert not result.rejected and len(result.returns) == 1
    record = result.returns[0]
    assert record.values["aanbieder_naam"] == "Stichting De Brug / Noord: ambulant"
    assert record.notes == ()
    assert set(result.overall.values()) == {"groen"}
    assert result.register.matched[record.return_id].contractnummer == "EV-2025-JH-0001"


def test_a_register_name_that_looks_like_markup_is_written_as_typed(tmp_path):
    from kvcompliance.register import load_register

    path = tmp_path / "contracten.csv"
    names = ["<r><t>x</r>", "<r>Zorg & Co</r>"]
    path.write_text(
        "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
        + "".join(f"C-{n};{name};1234567{n};wmo;a@b.nl\n" for n, name in enumerate(names)),
        encoding="utf-8",
    )
    written = write_prefilled_forms(load_register(path, CATALOGUE), CATALOGUE, tmp_path / "formulieren")
    for form, name in zip(written, names):
        assert input_cell(openpyxl.load_workbook(form), "aanbieder_naam").value == name


def test_prefilled_forms_refuse_a_file_as_folder(register, tmp_path):
    (tmp_path / "bestand.xlsx").write_bytes(b"x")
    with pytest.raises(OutputError, match="is een bestand"):
        write_prefilled_forms(register, CATALOGUE, tmp_path / "bestand.xlsx")


def test_template_command_with_contract_register(tmp_path):
    from click.testing import CliRunner

    from kvcompliance.cli import main

    (tmp_path / "contracten.csv").write_text(REGISTER_CSV, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["template", "--contracten", str(tmp_path / "contracten.csv"), "-o", str(tmp_path / "formulieren")]
    )
    assert result.exit_code == 0, result.output
    assert "3 vooraf ingevulde formulieren" in result.output
    assert len(list((tmp_path / "formulieren").glob("uitvraag_*.xlsx"))) == 3
    bad = tmp_path / "fout.csv"
    bad.write_text("contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\nX;Y;123;jeugdhulp;a@b.nl\n")
    result = CliRunner().invoke(main, ["template", "--contracten", str(bad), "-o", str(tmp_path / "f2")])
    assert result.exit_code == 3 and "rij 2" in result.output and "8 cijfers" in result.output


def test_forms_written_by_two_processes_are_the_forms_one_process_writes(tmp_path):
    from kvcompliance.register import Contract, Register

    register = Register("r.csv", [Contract(n, f"C-{n}", f"Aanbieder {n}", f"{10000000 + n}", "wmo", "a@b.nl") for n in range(20)])

    class Steps:
        def __init__(self):
            self.total, self.count = 0, 0

        def stage(self, label, total):
            self.total = total

        def step(self, n=1):
            self.count += n

        def done(self):
            pass

    steps = Steps()
    one = write_prefilled_forms(register, CATALOGUE, tmp_path / "een", jobs=1)
    two = write_prefilled_forms(register, CATALOGUE, tmp_path / "twee", progress=steps, jobs=2)
    assert [p.name for p in one] == [p.name for p in two] and len(two) == 20
    assert steps.total == 20 and steps.count == 20
    for a, b in zip(one, two):
        assert input_cell(openpyxl.load_workbook(a), "aanbieder_naam").value == input_cell(openpyxl.load_workbook(b), "aanbieder_naam").value
