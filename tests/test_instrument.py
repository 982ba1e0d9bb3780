"""The officer's instrument (issue 13): the sender's settings, the form that carries them,
the call list, and a provider workbook with room for what was agreed. Real files, read
back as the officer and the provider see them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from click.testing import CliRunner

import kvcompliance
from kvcompliance.cli import main
from kvcompliance.settings import SettingsError, example_text, load_settings
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_validate import BASE

SETTINGS = """
[afzender]
naam = "Regio Eemvallei"
afdeling = "Inkoop sociaal domein"
contactpersoon = "A. de Vries"
email = "inkoop@eemvallei.example"
telefoon = "033 123 45 67"
[uitvraag]
verslagjaar = 2025
uiterlijk = 2026-03-01
[gesprek]
periode = "april en mei 2026"
reageren_voor = 2026-04-15
"""


def _texts(book) -> list[str]:
    sheets = book.worksheets if hasattr(book, "worksheets") else [book]
    return [str(c.value) for s in sheets for row in s.iter_rows() for c in row if c.value is not None]


@pytest.fixture
def settings_file(tmp_path) -> Path:
    path = tmp_path / "kvcompliance.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return path


# ------------------------------------------------------------------ settings
def test_init_writes_a_commented_example_that_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "kvcompliance.toml").read_text(encoding="utf-8")
    assert text == example_text() and "# de gemeente of regio" in text
    assert load_settings(tmp_path / "kvcompliance.toml").letterhead().name == "Regio Eemvallei"
    again = CliRunner().invoke(main, ["init"])
    assert again.exit_code == 2 and "bestaat al" in again.output  # never overwritten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[afzender]\nnaam = 12\n", "[afzender] naam moet tekst zijn"),
        ("[afzender]\nemail = \"inkoop@\"\n", "[afzender] email is geen geldig e-mailadres"),
        ("[afzender]\nnmae = \"x\"\n", "onbekende sleutel ‘nmae’ in [afzender]"),
        ("[afzendr]\nnaam = \"x\"\n", "onbekende sectie [afzendr]"),
        ("[uitvraag]\nverslagjaar = \"vorig jaar\"\n", "[uitvraag] verslagjaar moet een jaartal zijn"),
        ("[uitvraag]\nuiterlijk = \"volgende week\"\n", "[uitvraag] uiterlijk moet een datum zijn"),
        ("[afzender\n", "geen geldig TOML-bestand"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_key_before_anything_is_read(tmp_path, text, expected):
    path = tmp_path / "instellingen.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=None) as caught:
        load_settings(path)
    assert expected in str(caught.value) and "instellingen.toml" in str(caught.value)
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--instellingen", str(path)])
    assert result.exit_code == 3 and expected in result.output
    assert not (tmp_path / "uit").exists()


def test_without_settings_the_wording_is_neutral(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    head = load_settings().letterhead()
    assert head.sender == "de gemeente" and head.contact_line == "" and head.year is None


# ------------------------------------------------------------------ the form
def test_the_form_carries_sender_contact_deadline_and_year(tmp_path, settings_file):
    out = tmp_path / "uitvraag.xlsx"
    result = CliRunner().invoke(main, ["template", "-o", str(out), "--instellingen", str(settings_file)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    text = "\n".join(_texts(book))
    for expected in ("Regio Eemvallei, Inkoop sociaal domein", "A. de Vries · inkoop@eemvallei.example · 033 123 45 67",
                     "1 maart 2026", "Terugsturen naar", "inkoop@eemvallei.example"):
        assert expected in text, expected
    (sheet, ref), = book.defined_names["kv_verslagjaar"].destinations
    cell = book[sheet][ref.replace("$", "")]
    assert cell.value == 2025 and cell.protection.locked


def test_prefilled_forms_carry_the_sender_and_the_year_too(tmp_path, settings_file):
    register = tmp_path / "contracten.csv"
    register.write_text("contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\nC-1;Stichting Een;12345678;wmo;a@b.nl\n",
                        encoding="utf-8")
    out = tmp_path / "formulieren"
    result = CliRunner().invoke(main, ["template", "--contracten", str(register), "-o", str(out), "--instellingen", str(settings_file)])
    assert result.exit_code == 0, result.output
    (form,) = out.iterdir()
    book = openpyxl.load_workbook(form)
    assert "Regio Eemvallei, Inkoop sociaal domein" in _texts(book)
    (sheet, ref), = book.defined_names["kv_verslagjaar"].destinations
    assert book[sheet][ref.replace("$", "")].value == 2025


# ------------------------------------------------------------------ the audit
@pytest.fixture(scope="module")
def audited(tmp_path_factory, blank_form):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("instrument")
    (tmp_path / "kvcompliance.toml").write_text(SETTINGS, encoding="utf-8")
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    returns = {
        "sport-rood": {"aanbieder_naam": "SV Rood", "kvk_nummer": "10000001", "contractnummer": "S-1", "sector": "sport",
                       "meldcode_aanwezig": "nee", "meldcode_afwegingskader": None, "medewerkers_getraind": 0,
                       "keurmerk_meldcode": "nee"},
        "opvang-rood": {"aanbieder_naam": "Opvang Rood", "kvk_nummer": "10000002", "contractnummer": "K-1",
                        "sector": "kinderopvang", "meldcode_aanwezig": "nee", "meldcode_afwegingskader": None,
                        "medewerkers_getraind": 0, "keurmerk_meldcode": "nee"},
        "groen": {"aanbieder_naam": "Alles Goed", "kvk_nummer": "10000003", "contractnummer": "G-1",
                  "toelichting": "Wij werken sinds 2024 met een nieuwe aandachtsfunctionaris."},
        "oranje": {"aanbieder_naam": "Bijna Goed", "kvk_nummer": "10000004", "contractnummer": "O-1", "intervisie_bijeenkomsten": 2},
        "aanvullen": {"aanbieder_naam": "Vergeten", "kvk_nummer": "10000005", "contractnummer": "V-1", "fte": None},
    }
    for name, changes in returns.items():
        fill(blank_form, inbox / f"{name}.xlsx", {**BASE, **changes})
    out = tmp_path / "uit"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--instellingen", str(tmp_path / "kvcompliance.toml")])
    assert result.exit_code == 0, result.output
    return out


def _call_list(out: Path):
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Bellijst"]
    header = next(c.row for c in ws["A"] if c.value == "Rang")
    heads = [c.value for c in ws[header]]
    rows = [[ws.cell(r, c + 1) for c in range(len(heads))] for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value]
    return ws, heads, rows


def test_the_call_list_comes_first_statutory_rood_at_the_top(audited):
    book = openpyxl.load_workbook(audited / "overzicht.xlsx")
    assert book.sheetnames[0] == "Bellijst" and "Per sector" in book.sheetnames
    _, heads, rows = _call_list(audited)
    names = [row[heads.index("Aanbieder")].value for row in rows]
    assert names == ["Opvang Rood", "SV Rood", "Bijna Goed", "Vergeten", "Alles Goed"]
    assert [row[heads.index("Rang")].value for row in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    assert first[heads.index("Actie")].value == "Eerst bellen: wettelijke plicht, inhoud rood"
    assert first[heads.index("Meldcodeplicht")].value == "wettelijk"
    assert first[heads.index("Rood")].value >= 2  # KV01 and KV05
    assert first[heads.index("Eerste agendapunt")].value.startswith("KV01 Meldcode vastgesteld")
    assert rows[1][heads.index("Meldcodeplicht")].value == "contractueel"
    assert rows[3][heads.index("Actie")].value == "Gegevens laten aanvullen"


def test_sorting_on_the_rank_keeps_the_order_and_each_link_opens_that_workbook(audited):
    ws, heads, rows = _call_list(audited)
    by_rank = sorted(rows, key=lambda row: row[heads.index("Rang")].value)
    assert by_rank == rows
    for row in rows:
        link = row[heads.index("Werkboek")]
        target = unquote(link.hyperlink.target).replace("\\", "/")  # a link escapes spaces as %20
        assert target.startswith("accountgesprek/")
        book = openpyxl.load_workbook(audited / target)
        assert book["Samenvatting"]["A1"].value.endswith(row[heads.index("Aanbieder")].value)
    assert ws.print_title_rows and ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0  # one page wide


def test_per_sector_counts_the_verdicts(audited):
    ws = openpyxl.load_workbook(audited / "overzicht.xlsx")["Per sector"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(2, 12)] for r in range(5, ws.max_row + 1)}
    assert rows["Sport"][:2] == [1, 1] and rows["Kinderopvang"][2] == 1  # one return, one provider; one rood
    assert rows["Totaal"][0] == 5


def test_the_provider_workbook_opens_with_the_sender_and_no_tool_version(audited):
    book = openpyxl.load_workbook(audited / "accountgesprek" / "2025_Bijna Goed_O-1.xlsx")
    first = _texts(book.worksheets[0])
    text = "\n".join(first)
    for expected in ("Regio Eemvallei, Inkoop sociaal domein", "A. de Vries · inkoop@eemvallei.example · 033 123 45 67",
                     "april en mei 2026", "15 april 2026"):
        assert expected in text, expected
    assert kvcompliance.__version__ not in text and "met kvcompliance" not in text
    assert book.properties.description.startswith("Gemaakt met kvcompliance")
    normen = "\n".join(_texts(book["Normen"]))
    assert "Versie kvcompliance" in normen


def test_the_agenda_has_room_for_what_was_agreed(audited):
    book = openpyxl.load_workbook(audited / "accountgesprek" / "2025_Bijna Goed_O-1.xlsx")
    ws = book["Samenvatting"]
    assert ws.protection.sheet  # protected against accidental edits ...
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    assert sheet == "Samenvatting"
    first, last = ref.replace("$", "").split(":")
    header = int("".join(ch for ch in first if ch.isdigit()))
    heads = [c.value for c in ws[header]]
    assert heads[-4:] == ["Afspraak", "Wie", "Termijn", "sleutel"]
    rows = range(header + 1, int("".join(ch for ch in last if ch.isdigit())) + 1)
    keys = [ws.cell(r, len(heads)).value for r in rows]
    assert keys[0] == "KV09" and keys[-3:] == ["overig"] * 3
    for r in rows:  # ... except the agreement cells
        for c in range(len(heads) - 3, len(heads)):
            assert ws.cell(r, c).protection.locked is False
        assert ws.cell(r, 2).protection.locked is not False
    key_column = ws.column_dimensions[openpyxl.utils.get_column_letter(len(heads))]
    assert key_column.hidden


def test_the_providers_own_toelichting_stands_beside_the_agenda(audited):
    ws = openpyxl.load_workbook(audited / "accountgesprek" / "2025_Alles Goed_G-1.xlsx")["Samenvatting"]
    label = next(c for row in ws.iter_rows() for c in row if c.value == "Uw toelichting")
    assert ws.cell(label.row, 3).value == "Wij werken sinds 2024 met een nieuwe aandachtsfunctionaris."
    assert label.row < next(c.row for c in ws["A"] if c.value == "Nr.")
