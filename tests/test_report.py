"""The workbooks and the CSV, read back as a user would see them."""

from __future__ import annotations

import csv
import io
import pickle
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from conftest import make_result

import kvcompliance
from kvcompliance.catalogue import Status
from kvcompliance.errors import OutputError
from kvcompliance.explain import norm_text
from kvcompliance.model import RejectedFile, SourceFile
from kvcompliance.report import (
    FINDINGS_COLUMNS,
    findings_rows,
    provider_filename,
    provider_view,
    render_provider,
    write_findings_csv,
    write_overview,
)
from kvcompliance.report.csvout import guard_formula
from kvcompliance.report.tables import FINDINGS_HEADERS
from kvcompliance.report.xlsx import atomic_path

EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_CONTRACT = "+cmd"


def rgb(cell) -> str | None:
    """The fill colour of a cell as '#RRGGBB', None when not filled."""
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    return "#" + cell.fill.fgColor.rgb[-6:].upper()


def colour(result, status: Status, light: bool = False) -> str:
    info = result.catalogue.status_info(status)
    return (info.light if light else info.colour).upper()


def find(ws, value):
    """The first cell whose value equals ``value``."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not found on {ws.title}")


def all_text(wb) -> str:
    """Every cell value, comment, header and footer of a workbook, as one string."""
    parts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    parts.append(str(cell.value))
                if cell.comment is not None:
                    parts.append(cell.comment.text)
        for hf in (ws.oddHeader, ws.oddFooter):
            for part in (hf.left, hf.center, hf.right):
                parts.append(part.text or "")
    return "\n".join(parts)


def write_all(result, out: Path) -> dict[str, str]:
    """Write every output the way the audit command does; return id -> workbook name."""
    taken: set[str] = set()
    files = {}
    for record in result.returns:
        view = provider_view(result, record.return_id)
        name = provider_filename(view.reporting_year, view.name, view.contract, taken)
        taken.add(name)
        files[record.return_id] = name
        render_provider(view, result.catalogue, out / name)
    write_overview(result, out / "overzicht.xlsx", files)
    write_findings_csv(result, out / "bevindingen.csv")
    return files


@pytest.fixture
def result():
    return make_result(
        {
            "aanbieder_naam": "Stichting Alfa",
            "kvk_nummer": "11111111",
            "fte": "ca. 20",
            "statuses": {"KV07": Status.ROOD, "KV06": Status.ORANJE, "KV90": Status.GRIJS, "KV04": Status.NVT, "KV12": Status.ORANJE},
            "notes": ("Deze opgave vervangt de eerdere opgave uit alfa_oud.xlsx.",),
        },
        {"aanbieder_naam": EVIL_NAME, "kvk_nummer": "22222222", "contractnummer": EVIL_CONTRACT, "sector": "wmo"},
        {"aanbieder_naam": "Sportclub Gamma", "kvk_nummer": "33333333", "sector": "sport", "contractnummer": "SP-3",
         "statuses": {"KV11": Status.NVT, "KV12": Status.NVT, "KV13": Status.NVT}},
    )


@pytest.fixture
def written(result, tmp_path):
    files = write_all(result, tmp_path)
    return result, tmp_path, files


def provider_book(written, return_id):
    _, out, files = written
    return openpyxl.load_workbook(out / files[return_id])


# ------------------------------------------------------------------ provider workbook
def test_provider_workbook_has_the_three_sheets(written):
    wb = provider_book(written, "R0001")
    assert wb.sheetnames == ["Samenvatting", "Aanlevering", "Normen"]


def test_summary_shows_identity_overall_status_and_notes(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Samenvatting"]
    assert ws["A1"].value == "Accountgesprek kindermishandeling — Stichting Alfa"
    assert find(ws, "11111111")
    assert find(ws, "wettelijk verplicht (Jeugdwet art. 4.1.7)")
    overall = find(ws, "Eindoordeel").offset(column=2)
    assert overall.value == "Rood"
    assert rgb(overall) == colour(result, Status.ROOD)
    assert find(ws, "Inhoud").offset(column=2).value == "Rood"  # KV07
    assert find(ws, "Aanlevering").offset(column=2).value == "Grijs"  # KV90
    assert "KV90–KV92" in find(ws, "Aanlevering").offset(column=3).value
    assert find(ws, "Let op: Deze opgave vervangt de eerdere opgave uit alfa_oud.xlsx.")


def test_sport_obligation_is_contractual(written):
    ws = provider_book(written, "R0003")["Samenvatting"]
    assert find(ws, "Meldcodeplicht").offset(column=2).value == "een voorwaarde in uw contract of subsidie"
    assert "wettelijk verplicht" not in all_text(provider_book(written, "R0003")).split("Normen en regels")[0].lower()


def test_summary_table_colours_each_status_from_the_catalogue(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Samenvatting"]
    header = find(ws, "Regel")
    assert [c.value for c in ws[header.row]][:8] == [
        "Regel", "Omschrijving", "Status", "Uw waarde", "Norm", "Toelichting", "Grondslag", "Herkomst norm"]
    rows = {ws.cell(r, 1).value: r for r in range(header.row + 1, header.row + 1 + len(result.catalogue.active_rules))}
    assert list(rows) == [r.id for r in result.catalogue.active_rules]
    expected = {"KV07": Status.ROOD, "KV06": Status.ORANJE, "KV90": Status.GRIJS, "KV04": Status.NVT, "KV01": Status.GROEN}
    for rule_id, status in expected.items():
        cell = ws.cell(rows[rule_id], 3)
        assert cell.value == result.catalogue.status_info(status).label
        assert rgb(cell) == colour(result, status), rule_id
    assert ws.cell(rows["KV04"], 3).value == "n.v.t."
    kv07 = rows["KV07"]
    assert ws.cell(kv07, 4).value == "waarde KV07 van Stichting Alfa"
    assert ws.cell(kv07, 5).value == norm_text(result.catalogue, result.catalogue.rule("KV07"))
    assert ws.cell(kv07, 7).value == "Handreiking voor gemeentebesturen (2016), hoofdstuk 2, handhaving c; als contract- of subsidievoorwaarde."
    # no default norm is credited to the law or the Handreiking: each says who set it
    for row in rows.values():
        origin = ws.cell(row, 8).value
        assert origin.startswith("Standaardnorm: voorbeeldnorm van kvcompliance") or origin == "Eis van het uitvraagformulier."
    assert ws.freeze_panes == f"A{header.row + 1}"


def test_agenda_lists_rood_then_oranje_then_grijs(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Samenvatting"]
    start = find(ws, "Gespreksagenda").row
    topics = [ws.cell(r, 2).value for r in range(start, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    assert topics == [
        "KV07 Bereik training",
        "KV06 Aandachtsfunctionaris functioneert",
        "KV90 Aanlevering volledig",
    ]
    first = find(ws, "KV07 Bereik training")
    assert ws.cell(first.row, 1).value == 1
    assert ws.cell(first.row, 4).value == result.catalogue.rule("KV07").agenda["rood"]
    assert rgb(ws.cell(first.row, 3)) == colour(result, Status.ROOD)


def test_agenda_says_so_when_there_is_nothing_to_discuss(written):
    text = all_text(provider_book(written, "R0003"))
    assert "Er zijn geen punten om te bespreken" in text


def test_return_sheet_colours_and_explains_touched_fields(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Aanlevering"]
    assert ws["A4"].value == "Vraag" and ws.freeze_panes == "A5"
    label = result.catalogue.field
    # KV07 (rood) is about medewerkers_getraind: light rood fill, strong rood status, a note.
    row = find(ws, label("medewerkers_getraind").label + " *").row
    value = ws.cell(row, 2)
    assert value.value == 36 and value.data_type == "n"
    assert rgb(value) == colour(result, Status.ROOD, light=True)
    assert rgb(ws.cell(row, 4)) == colour(result, Status.ROOD) and ws.cell(row, 4).value == "Rood"
    assert value.comment is not None and "KV07 (Rood)" in value.comment.text
    # 'ca. 20' could not be understood: kept as typed, grijs, with the reason.
    row = find(ws, label("fte").label + " *").row
    assert ws.cell(row, 2).value == "ca. 20"
    assert rgb(ws.cell(row, 2)) == colour(result, Status.GRIJS, light=True)
    # in the words the Samenvatting uses for it ('is niet te verwerken'), note and printed line alike
    assert "Niet te verwerken: ‘ca. 20’ is geen getal" in ws.cell(row, 2).comment.text
    assert "niet te verwerken: ‘ca. 20’ is geen getal" in ws.cell(row, 5).value
    assert "begrepen" not in ws.cell(row, 2).comment.text + ws.cell(row, 5).value
    # A field no rule looks at stays uncoloured and has no note.
    row = find(ws, label("contact_naam").label).row
    assert rgb(ws.cell(row, 2)) is None and ws.cell(row, 2).comment is None
    assert ws.cell(row, 3).value == "tabblad Formulier, cel C11"


def test_the_cell_of_an_answer_is_shown_whole_however_long_the_providers_sheet_name(tmp_path):
    from kvcompliance.model import CellRef
    from kvcompliance.report.styles import row_height

    result = make_result({})
    cells = result.returns[0].cells
    label = result.catalogue.field
    cells["contact_naam"] = CellRef("Aanlevering", "B100")  # as in the form itself: one line
    cells["contact_email"] = CellRef("Gegevens van onze organisatie", "B12")  # the provider's own sheet: two
    files = write_all(result, tmp_path)
    ws = provider_book((result, tmp_path, files), "R0001")["Aanlevering"]
    short = find(ws, label("contact_naam").label).row
    assert ws.cell(short, 3).value == "tabblad Aanlevering, cel B100"
    assert ws.column_dimensions["C"].width >= 24 and not ws.row_dimensions[short].height
    long = find(ws, label("contact_email").label).row
    assert ws.cell(long, 3).value == "tabblad Gegevens van onze organisatie, cel B12"
    assert ws.row_dimensions[long].height >= row_height(2)


def test_return_sheet_keeps_types_as_typed(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Aanlevering"]
    label = result.catalogue.field
    date_cell = find(ws, label("meldcode_datum").label).offset(column=1)
    assert date_cell.value == datetime(2024, 3, 1) and date_cell.number_format == "d-m-yyyy"
    assert find(ws, label("meldcode_afwegingskader").label).offset(column=1).value == "ja"  # True
    assert find(ws, label("toelichting").label).offset(column=1).value is None
    assert find(ws, "1. Organisatie en contract")  # section header rows


def test_normen_sheet_lists_every_active_rule_and_the_run(written):
    result = written[0]
    ws = provider_book(written, "R0001")["Normen"]
    for rule in result.catalogue.active_rules:
        cell = find(ws, rule.id)
        assert ws.cell(cell.row, 4).value == norm_text(result.catalogue, rule)
        assert ws.cell(cell.row, 5).value in ("Eis van het uitvraagformulier.", result.catalogue.texts["standaardnorm"])
        assert ws.cell(cell.row, 8).value == rule.explanation
    assert find(ws, "Versie kvcompliance").offset(column=2).value == kvcompliance.__version__
    assert find(ws, "Regels").offset(column=2).value == "standaardregels"
    assert find(ws, "Controlejaar").offset(column=2).value == "2025"


def test_normen_sheet_names_sectors_by_their_dutch_label_not_their_key(written):
    """KV10's sector factors and KV04's scope read 'jeugdgezondheidszorg 0,3', 'Wmo 0,1'."""
    catalogue = written[0].catalogue
    for book in (provider_book(written, "R0001"), overview(written)):
        ws = book["Normen"]
        kv10 = ws.cell(find(ws, "KV10").row, 6).value
        assert "jeugdgezondheidszorg 0,3" in kv10 and "Wmo 0,1" in kv10 and "jeugdhulp 0,5" in kv10
        assert all(f" {s.key} " not in f" {kv10} " for s in catalogue.sectors if s.key != s.label_in_sentence)
        kv04 = ws.cell(find(ws, "KV04").row, 3).value
        assert "Wmo en elke aanbieder met volwassen cliënten buiten jeugdhulp, jeugdgezondheidszorg, kinderopvang en onderwijs" in kv04
        assert " jgz" not in kv04 and "sport 0,05 en overig 0,1" in kv10  # a Dutch list ends in "en"


def test_a_workbook_shows_its_own_catalogue_after_another_in_the_same_process(result, tmp_path):
    """What is derived from a catalogue is cached per catalogue: a second catalogue (own
    rules) in the same process shows its own norms, titles and fields, not the first one's."""
    from dataclasses import replace

    render_provider(provider_view(result, "R0001"), result.catalogue, tmp_path / "standaard.xlsx")
    first = result.catalogue.active_rules[0]
    own = replace(
        result.catalogue,
        rules=tuple(replace(r, title="Eigen titel") if r.id == first.id else r for r in result.catalogue.rules),
        fields=tuple(replace(f, label="Eigen vraag") if f.key == "contact_naam" else f for f in result.catalogue.fields),
    )
    render_provider(provider_view(result, "R0001"), own, tmp_path / "eigen.xlsx")
    for name, title, label in (("standaard.xlsx", first.title, result.catalogue.field("contact_naam").label),
                               ("eigen.xlsx", "Eigen titel", "Eigen vraag")):
        wb = openpyxl.load_workbook(tmp_path / name)
        assert find(wb["Normen"], first.id).offset(column=1).value == title, name
        assert find(wb["Samenvatting"], first.id).offset(column=1).value == title, name
        assert find(wb["Aanlevering"], label).column == 1, name


def test_every_provider_sheet_is_print_ready(written):
    for sheet in provider_book(written, "R0001").worksheets:
        setup = sheet.page_setup
        assert setup.paperSize == 9 and setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToHeight == 0
        assert "Pagina &P van &N" in sheet.oddFooter.center.text
        assert sheet.print_title_rows and sheet.freeze_panes
        # every printed page says whose conversation it is and which sheet it comes from
        assert sheet.oddHeader.left.text.endswith("— Stichting Alfa"), sheet.title
        assert sheet.oddHeader.right.text == sheet.title


def test_provider_text_that_looks_like_a_formula_stays_text(written):
    wb = provider_book(written, "R0002")
    for ws, value in ((wb["Samenvatting"], EVIL_NAME), (wb["Samenvatting"], EVIL_CONTRACT), (wb["Aanlevering"], EVIL_NAME)):
        cell = find(ws, value)
        assert cell.data_type == "s"
    assert find(wb["Samenvatting"], f"Accountgesprek kindermishandeling — {EVIL_NAME}").data_type == "s"


def assert_no_other_providers_data(result, out: Path, files: dict[str, str], others: tuple[str, ...] = ()) -> None:
    """No provider workbook (cells, notes, headers, any XML part) nor the view it was
    written from holds another provider's name or KvK-nummer, nor any of ``others``
    (e.g. contracts from the register that did not send a return)."""
    who = {r.return_id: (r.values["aanbieder_naam"], r.values["kvk_nummer"]) for r in result.returns}
    for rid, name in files.items():
        wb = openpyxl.load_workbook(out / name)
        text = all_text(wb)
        with zipfile.ZipFile(out / name) as zf:
            raw = "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
        view = pickle.dumps(provider_view(result, rid)).decode("utf-8", "replace")
        assert who[rid][1] in text  # its own KvK-nummer is there, so the scan works
        for other, (other_name, other_kvk) in who.items():
            if other == rid:
                continue
            assert other_kvk not in text and other_kvk not in raw, (name, other)
            assert other_name not in text, (name, other)
            assert other_kvk not in view and other_name not in view, (name, other)
        for secret in others:
            assert secret not in text and secret not in raw, (name, secret)


def test_no_workbook_contains_another_providers_data(written):
    assert_no_other_providers_data(*written)


def test_provider_view_is_picklable_and_renders_after_a_round_trip(result, tmp_path):
    view = provider_view(result, "R0001")
    copy = pickle.loads(pickle.dumps(view))
    assert copy == view
    assert {f.return_id for f in copy.findings} == {"R0001"}
    assert {i.return_id for i in copy.issues} == {"R0001"}
    render_provider(copy, result.catalogue, tmp_path / "x.xlsx")
    assert openpyxl.load_workbook(tmp_path / "x.xlsx")["Samenvatting"]["A1"].value.endswith("Stichting Alfa")


# ------------------------------------------------------------------ overview
def overview(written):
    return openpyxl.load_workbook(written[1] / "overzicht.xlsx")


def test_overview_sheets(written):
    assert overview(written).sheetnames == ["Bellijst", "Overzicht", "Per sector", "Grafiek", "Bevindingen", "Niet verwerkt", "Toezicht", "Normen"]


def test_overzicht_row_per_return_with_coloured_rule_columns(written):
    result, _, files = written
    ws = overview(written)["Overzicht"]
    header = find(ws, "Aanbieder").row
    heads = [c.value for c in ws[header]]
    rule_ids = [r.id for r in result.catalogue.active_rules]
    assert heads[:8] == ["Aanbieder", "KvK-nummer", "Sector", "Contractnummer", "Verslagjaar", "Eindoordeel", "Inhoud", "Aanlevering"]
    assert heads[8:] == rule_ids + ["Bestand", "Werkboek"]  # file names last: the first printed page is the verdict
    first = 9
    kv07 = ws.cell(header, first + rule_ids.index("KV07"))
    assert kv07.comment is not None and "Bereik training" in kv07.comment.text
    alfa = find(ws, "Stichting Alfa").row
    assert ws.cell(alfa, len(heads)).value == files["R0001"]
    assert ws.cell(alfa, len(heads) - 1).value == "opgaven/opgave_1.xlsx"
    assert ws.cell(alfa, 6).value == "Rood" and rgb(ws.cell(alfa, 6)) == colour(result, Status.ROOD)
    assert (ws.cell(alfa, 7).value, ws.cell(alfa, 8).value) == ("Rood", "Grijs")
    cell = ws.cell(alfa, first + rule_ids.index("KV07"))
    assert cell.value == "Rood" and rgb(cell) == colour(result, Status.ROOD)
    gamma = find(ws, "Sportclub Gamma").row
    assert ws.cell(gamma, first + rule_ids.index("KV11")).value == "n.v.t."
    assert ws.cell(gamma, 5).value == 2025
    assert ws.auto_filter.ref.startswith(f"A{header}:")
    assert ws.freeze_panes == f"B{header + 1}"
    # The legend counts the overall statuses.
    assert find(ws, "Legenda").row < header
    rood = next(c for c in ws["B"] if c.value == "Rood" and c.row < header)
    assert ws.cell(rood.row, 3).value == 1 and rgb(rood) == colour(result, Status.ROOD)


def test_bevindingen_sheet_is_the_findings_table(written):
    result = written[0]
    ws = overview(written)["Bevindingen"]
    # Dutch headers for the officer; the CSV keeps its stable technical column names
    assert [c.value for c in ws[1]] == ["Aanbieder", "KvK-nummer", "Contractnummer", "Regel", "Omschrijving", "Status",
                                        "Waarde", "Norm", "Toelichting", "Grondslag", "Herkomst norm", "Bestand"]
    assert list(FINDINGS_HEADERS) == list(FINDINGS_COLUMNS)
    header = next(csv.reader(io.StringIO((written[1] / "bevindingen.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert header == list(FINDINGS_COLUMNS) and header[:3] == ["aanbieder", "kvk_nummer", "contractnummer"]
    assert ws.max_row - 1 == len(result.returns) * len(result.catalogue.active_rules)
    assert ws.auto_filter.ref.startswith("A1:") and ws.freeze_panes == "A2"
    sheet_rows = [[c.value or "" for c in row] for row in ws.iter_rows(min_row=2)]
    assert sheet_rows == [[r.cells[c] for c in FINDINGS_COLUMNS] for r in findings_rows(result)]
    status = FINDINGS_COLUMNS.index("status") + 1
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row, status)
        found = next(s for s in Status if result.catalogue.status_info(s).label == cell.value)
        assert rgb(cell) == colour(result, found)
    assert find(ws, EVIL_NAME).data_type == "s" and find(ws, EVIL_CONTRACT).data_type == "s"


def test_niet_verwerkt_lists_rejected_files(tmp_path):
    bad = RejectedFile(SourceFile("kapot.xlsx", 1, 0.0, "x"), "Het bestand is beveiligd met een wachtwoord.", "beveiligd")
    result = make_result({}, rejected=(bad,))
    write_overview(result, tmp_path / "o.xlsx", {})
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["Niet verwerkt"]
    assert [c.value for c in ws[2]] == ["kapot.xlsx", "beveiligd", "Het bestand is beveiligd met een wachtwoord."]


def test_niet_verwerkt_says_all_files_were_processed(written):
    ws = overview(written)["Niet verwerkt"]
    assert ws["A2"].value == "Alle bestanden zijn verwerkt."


def test_overview_has_a_status_chart_fed_by_a_count_table(written):
    result, out, _ = written
    with zipfile.ZipFile(out / "overzicht.xlsx") as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and '<c:grouping val="stacked"/>' in chart
    for status in (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN):
        assert colour(result, status).lstrip("#") in chart.upper()
    assert "Grafiek!$A$5:$A$" in chart
    ws = overview(written)["Grafiek"]
    kv07 = find(ws, "KV07").row
    assert [ws.cell(4, c).value for c in range(3, 8)] == ["Rood", "Oranje", "Grijs", "Groen", "n.v.t."]
    assert [ws.cell(kv07, c).value for c in range(3, 9)] == [1, 0, 0, 2, 0, 3]


def test_overview_normen_tells_where_the_audit_year_came_from(written):
    result = written[0]
    ws = overview(written)["Normen"]
    assert find(ws, "Herkomst controlejaar").offset(column=2).value == result.audit_year_source
    assert find(ws, "Map met opgaven").offset(column=2).value == "/data/opgaven"
    assert find(ws, "KV93")


# ------------------------------------------------------------------ CSV
def test_csv_is_excel_friendly_and_guards_formulas(written):
    result, out, _ = written
    data = (out / "bevindingen.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(FINDINGS_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == len(result.returns) * len(result.catalogue.active_rules)
    evil = [r for r in rows if r["kvk_nummer"] == "22222222"]
    assert evil and all(r["aanbieder"] == "'" + EVIL_NAME and r["contractnummer"] == "'" + EVIL_CONTRACT for r in evil)
    assert {r["status"] for r in rows} == {"Rood", "Oranje", "Grijs", "Groen", "n.v.t."}
    alfa_kv07 = next(r for r in rows if r["aanbieder"] == "Stichting Alfa" and r["regel"] == "KV07")
    assert alfa_kv07["status"] == "Rood" and alfa_kv07["omschrijving"] == "Bereik training"


@pytest.mark.parametrize("text", ["=1+1", "+31 6", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_guard_formula_prefixes_dangerous_starts(text):
    assert guard_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["Stichting", "12345678", "", "a=b", " =x"])
def test_guard_formula_leaves_other_text_alone(text):
    assert guard_formula(text) == text


# ------------------------------------------------------------------ whole or not at all
def test_no_temporary_files_are_left_behind(written):
    out = written[1]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "overzicht.xlsx"
    target.write_bytes(b"oud")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("stroomstoring")
    assert target.read_bytes() == b"oud"
    assert [p.name for p in tmp_path.iterdir()] == ["overzicht.xlsx"]


def test_unwritable_target_raises_a_dutch_output_error(tmp_path, result):
    blocker = tmp_path / "bestand"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Kan de map"):
        write_findings_csv(result, blocker / "bevindingen.csv")


# ------------------------------------------------------------------ text stays text
def _all_values(path: Path) -> set:
    return {c.value for s in openpyxl.load_workbook(path).worksheets for r in s.iter_rows() for c in r}


@pytest.mark.parametrize("streamed", [False, True])
def test_provider_text_that_looks_like_rich_text_stays_text(tmp_path, monkeypatch, streamed):
    """xlsxwriter puts a string that starts with <r> and ends with </r> into the file as
    XML: '<r>abc</r>' would show as an empty cell, and broken XML would break the file.
    A provider's text is shown exactly as typed, in memory and streamed; real rich text
    (the trend marks) still works."""
    from kvcompliance.report import overview

    texts = ["<r>abc</r>", "<r><t>x</t></r>", "<r>kapot<t></r>"]
    result = make_result(
        {"statuses": {"KV07": Status.ROOD}, "previous": {"KV07": Status.GROEN},  # history: real rich text too
         "aanbieder_naam": texts[0], "toelichting": texts[1], "contact_naam": texts[2]}
    )
    monkeypatch.setattr(overview, "STREAM_FROM_FINDINGS", 0 if streamed else 10**9)
    render_provider(provider_view(result, "R0001"), result.catalogue, tmp_path / "a.xlsx")
    write_overview(result, tmp_path / "o.xlsx", {"R0001": "a.xlsx"})
    assert texts[0] in _all_values(tmp_path / "o.xlsx")
    provider = _all_values(tmp_path / "a.xlsx")
    assert set(texts) <= provider
    assert any(isinstance(v, str) and "verslechterd" in v for v in provider)  # the rich trend text


def test_awkward_text_in_cells_and_notes_reads_back_exactly(tmp_path):
    """Markup and control characters, edge spaces, Excel's own _xHHHH_ escapes: what goes
    into a cell or a note is what Excel shows, in memory and streamed."""
    from kvcompliance.report.xlsx import new_workbook

    texts = ["a & b < c > d \"e\" 'f'", " edge ", "escape _x0041_ stays", "=1+1", "<r>x</r>"]
    for streamed in (False, True):
        path = tmp_path / f"t{int(streamed)}.xlsx"
        with new_workbook(path, streamed=streamed) as workbook:
            sheet = workbook.add_worksheet("Blad")
            fmt = workbook.add_format({"text_wrap": True})
            for row, text in enumerate(texts):
                sheet.write_string(row, 0, text, fmt)
                sheet.write(row, 1, text)
                if not streamed:
                    sheet.write_comment(row, 0, text, {"author": "K & V"})
        # read back as LibreOffice and Excel show it (openpyxl leaves Excel's escape of a
        # literal '_x' in streamed cells and notes as it is in the file)
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Blad").to_python()
        assert rows == [[t, t] for t in texts]
        if not streamed:
            book = openpyxl.load_workbook(path)
            notes = [r[0].comment.text.replace("_x005F_", "_") for r in book["Blad"].iter_rows()]
            assert notes == texts


