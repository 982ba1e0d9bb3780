"""Follow-up in the workbooks: year on year (--vorige), the contract register
(--contracten), the sector comparison and reproducible workbooks, read back as a user sees them."""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from conftest import make_result
from test_report import all_text, assert_no_other_providers_data, colour, find, rgb, write_all

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.model import RejectedFile, SourceFile
from kvcompliance.register import Contract, RegisterMatch
from kvcompliance.report import provider_view, render_provider, write_overview
from kvcompliance.values import format_percent
from kvcompliance.report.compare import (
    FEW_PROVIDERS,
    MIN_OTHER_PROVIDERS,
    TREND_LOOK,
    WORSENED_MARK,
    WORSENED_QUESTION,
    agenda,
    median_without,
    sector_comparisons,
)

G, O, R = Status.GROEN, Status.ORANJE, Status.ROOD


def header_row(ws, first: str = "Regel") -> list:
    cell = find(ws, first)
    return [c.value for c in ws[cell.row]]


def row_of(ws, value) -> int:
    return find(ws, value).row


def column(ws, name: str, first: str = "Regel") -> int:
    """1-based column of header ``name`` in the table whose first header is ``first``."""
    return header_row(ws, first).index(name) + 1


def font_rgb(cell) -> str:
    return "#" + (cell.font.color.rgb or "")[-6:].upper() if cell.font.color is not None else ""


def agenda_rows(ws) -> list[tuple[str, str, str]]:
    """(onderwerp, status, vraag) of every numbered agenda row."""
    start = row_of(ws, "Gespreksagenda")
    end = row_of(ws, "Vergelijking met de sector")
    return [
        (ws.cell(r, 2).value, ws.cell(r, 3).value, ws.cell(r, 4).value)
        for r in range(start, end)
        if isinstance(ws.cell(r, 1).value, int)
    ]


# ------------------------------------------------------------------ year on year
def test_every_trend_word_of_history_has_a_look_and_writing_a_workbook_needs_no_pandas():
    import subprocess
    import sys

    from kvcompliance import history

    assert set(TREND_LOOK) == {history.IMPROVED, history.WORSENED, history.SAME, history.NEW, history.NOT_COMPARABLE}
    # a worker process writing provider workbooks imports neither pandas nor history
    code = "import sys, kvcompliance.audit, kvcompliance.report.provider; print(sorted({'pandas', 'kvcompliance.history'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.fixture
def with_history(tmp_path):
    result = make_result(
        # KV06 worsened groen -> oranje, KV09 improved rood -> oranje, overall rood -> oranje
        {"aanbieder_naam": "Stichting Alfa", "kvk_nummer": "11111111",
         "statuses": {"KV06": O, "KV09": O}, "previous": {"KV06": G, "KV09": R}},
        # no return last year
        {"aanbieder_naam": "Stichting Beta", "kvk_nummer": "22222222", "contractnummer": "B-2"},
    )
    files = write_all(result, tmp_path)
    return result, tmp_path, files


def test_summary_shows_last_years_status_and_the_trend_per_rule(with_history):
    result, out, files = with_history
    ws = openpyxl.load_workbook(out / files["R0001"])["Samenvatting"]
    heads = header_row(ws)
    assert heads[:5] == ["Regel", "Omschrijving", "Status", "Vorig jaar", "Ontwikkeling"]
    kv06, kv09, kv01 = (row_of(ws, rule) for rule in ("KV06", "KV09", "KV01"))
    assert ws.cell(kv06, 3).value == "Oranje"
    previous = ws.cell(kv06, 4)
    assert previous.value == "Groen" and rgb(previous) == colour(result, G)
    worse = ws.cell(kv06, 5)
    assert worse.value == "↓ verslechterd" and font_rgb(worse) == "#C00000"
    better = ws.cell(kv09, 5)
    assert ws.cell(kv09, 4).value == "Rood" and better.value == "↑ verbeterd" and font_rgb(better) == "#006100"
    assert ws.cell(kv01, 5).value == "gelijk"
    # beside the overall status: last year's overall status, coloured, and the trend
    label = find(ws, "Vorig jaar")
    assert label.column == 1 and label.row < row_of(ws, "Regel")
    assert ws.cell(label.row, 3).value == "Rood" and rgb(ws.cell(label.row, 3)) == colour(result, R)
    sentence = ws.cell(label.row, 4).value
    assert sentence.startswith("↑ verbeterd: het eindoordeel is beter dan vorig jaar.")
    assert "Per regel: 1 verbeterd, 1 verslechterd" in sentence


def test_a_provider_without_a_return_last_year_is_new(with_history):
    _, out, files = with_history
    ws = openpyxl.load_workbook(out / files["R0002"])["Samenvatting"]
    label = find(ws, "Vorig jaar")
    assert ws.cell(label.row, 3).value == "geen opgave"
    assert ws.cell(label.row, 4).value.startswith("nieuw: er is geen opgave van vorig jaar gevonden")
    kv01 = row_of(ws, "KV01")
    assert ws.cell(kv01, 4).value is None and ws.cell(kv01, 5).value is None


def test_a_worsened_oranje_rule_is_on_the_agenda_marked(with_history):
    result, out, files = with_history
    ws = openpyxl.load_workbook(out / files["R0001"])["Samenvatting"]
    rows = agenda_rows(ws)
    worsened = [r for r in rows if r[0].startswith("KV06")]
    assert worsened == [
        (f"KV06 Aandachtsfunctionaris functioneert {WORSENED_MARK}", "Oranje", result.catalogue.rule("KV06").agenda["oranje"])
    ]
    # within oranje the rule that worsened comes first; the one that improved is not marked
    assert [r[0] for r in rows] == [f"KV06 Aandachtsfunctionaris functioneert {WORSENED_MARK}", "KV09 Intervisie"]


def test_a_worsened_rule_without_an_agenda_text_gets_the_general_question(tmp_path):
    result = make_result({"statuses": {"KV06": O}, "previous": {"KV06": G}})
    result = replace(result, findings=tuple(replace(f, agenda=None) if f.rule_id == "KV06" else f for f in result.findings))
    render_provider(provider_view(result, "R0001"), result.catalogue, tmp_path / "a.xlsx")
    rows = agenda_rows(openpyxl.load_workbook(tmp_path / "a.xlsx")["Samenvatting"])
    assert rows == [(f"KV06 Aandachtsfunctionaris functioneert {WORSENED_MARK}", "Oranje", WORSENED_QUESTION)]


def test_a_worsened_rule_is_on_the_agenda_whatever_its_status():
    """Whatever statuses a rules file gives: a rule that worsened is discussed."""
    result = make_result({})
    findings = result.findings_for("R0001")
    assert agenda(findings, result.catalogue) == ()
    items = agenda(findings, result.catalogue, {"KV08"})
    assert [(i.rule_id, i.status, i.worsened, i.question) for i in items] == [("KV08", G, True, WORSENED_QUESTION)]


def test_overview_shows_last_years_status_and_the_trend(with_history):
    result, out, _ = with_history
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Overzicht"]
    heads = header_row(ws, "Aanbieder")
    at = heads.index("Vorig jaar")
    assert heads[at - 3 : at + 3] == ["Eindoordeel", "Inhoud", "Aanlevering", "Vorig jaar", "Trend", "Per regel"]
    assert heads[at + 3] == "KV01"  # no register: no Contract column
    alfa, beta = row_of(ws, "Stichting Alfa"), row_of(ws, "Stichting Beta")
    previous = ws.cell(alfa, at + 1)
    assert previous.value == "Rood" and rgb(previous) == colour(result, R)
    assert ws.cell(alfa, at + 2).value == "↑ verbeterd"
    assert ws.cell(beta, at + 1).value is None and ws.cell(beta, at + 2).value == "nieuw"
    assert "Ten opzichte van vorig jaar: 1 verbeterd, 0 verslechterd, 0 gelijk, 1 nieuw" in all_text(ws.parent)
    # per rule: which rules worsened and improved (the overall trend alone can hide them)
    assert ws.cell(alfa, at + 3).value == "KV06 verslechterd; KV09 verbeterd"
    assert ws.cell(beta, at + 3).value == "nieuw"
    calls = openpyxl.load_workbook(out / "overzicht.xlsx")["Bellijst"]
    heads = header_row(calls, "Rang")
    column = heads.index("Ten opzichte van vorig jaar") + 1
    assert calls.cell(row_of(calls, "Stichting Alfa"), column).value == "KV06 verslechterd; KV09 verbeterd"


def test_the_findings_table_is_the_same_with_or_without_history(with_history):
    _, out, _ = with_history
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Bevindingen"]
    assert "Vorig jaar" not in [c.value for c in ws[1]]
    header = (out / "bevindingen.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "aanbieder;kvk_nummer;contractnummer;regel;omschrijving;status;waarde;norm;toelichting;grondslag;herkomst;bestand"


def test_without_history_or_register_nothing_extra_appears(tmp_path):
    result = make_result({"statuses": {"KV06": O}})
    files = write_all(result, tmp_path)
    summary = openpyxl.load_workbook(tmp_path / files["R0001"])["Samenvatting"]
    assert header_row(summary)[:4] == ["Regel", "Omschrijving", "Status", "Uw waarde"]
    text = all_text(summary.parent)
    assert "Vorig jaar" not in text and "Ontwikkeling" not in text and "verslechterd" not in text
    overview = openpyxl.load_workbook(tmp_path / "overzicht.xlsx")
    assert overview.sheetnames == ["Bellijst", "Overzicht", "Per sector", "Grafiek", "Bevindingen", "Niet verwerkt", "Toezicht", "Normen"]
    heads = header_row(overview["Overzicht"], "Aanbieder")
    assert not {"Vorig jaar", "Trend", "Contract"} & set(heads)


# ------------------------------------------------------------------ contract register
def _contract(row, number, name, kvk, sector="jeugdhulp"):
    return Contract(row, number, name, kvk, sector, f"info@{kvk}.nl")


@pytest.fixture
def with_register(tmp_path):
    result = make_result(
        {"aanbieder_naam": "Stichting Alfa", "kvk_nummer": "11111111", "contractnummer": "A-1"},
        {"aanbieder_naam": "Stichting Beta", "kvk_nummer": "22222222", "contractnummer": "B-2",
         "notes": ("Deze opgave hoort bij geen enkel contract in het contractregister: controleer het contractnummer.",)},
        {"aanbieder_naam": "Stichting Gamma", "kvk_nummer": "33333333", "contractnummer": "C-3"},
    )
    result = replace(result, register=RegisterMatch(
        matched={"R0001": _contract(2, "A-1", "Stichting Alfa", "11111111"), "R0003": _contract(3, "C-3", "Gamma", "39999999")},
        unmatched=["R0002"],
        kvk_differs={"R0003"},
        missing=[_contract(4, "D-4", "Stichting Stil", "44444444", "wmo")],
    ))
    files = write_all(result, tmp_path)
    return result, tmp_path, files


def test_ontbrekend_lists_contracts_without_a_return(with_register):
    _, out, _ = with_register
    book = openpyxl.load_workbook(out / "overzicht.xlsx")
    assert book.sheetnames == ["Bellijst", "Overzicht", "Per sector", "Grafiek", "Bevindingen", "Niet verwerkt", "Toezicht", "Ontbrekend", "Normen"]
    ws = book["Ontbrekend"]
    assert [c.value for c in ws[1]] == [
        "Contractnummer", "Aanbieder", "KvK-nummer", "Sector", "E-mailadres", "Rij in register", "Opmerking"
    ]
    assert [c.value for c in ws[2]] == ["D-4", "Stichting Stil", "44444444", "Wmo", "info@44444444.nl", 4, "Geen opgave ontvangen"]
    assert ws.max_row == 2


def test_contract_column_flags_returns_outside_the_register(with_register):
    result, out, _ = with_register
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Overzicht"]
    contract = column(ws, "Contract", "Aanbieder")
    assert header_row(ws, "Aanbieder")[contract] == "KV01"
    cells = {name: ws.cell(row_of(ws, name), contract) for name in ("Stichting Alfa", "Stichting Beta", "Stichting Gamma")}
    assert {name: c.value for name, c in cells.items()} == {
        "Stichting Alfa": "in register",
        "Stichting Beta": "niet in register",
        "Stichting Gamma": "KvK wijkt af",
    }
    flag = colour(result, O, light=True)
    assert rgb(cells["Stichting Alfa"]) is None
    assert rgb(cells["Stichting Beta"]) == flag and rgb(cells["Stichting Gamma"]) == flag
    assert "1 niet in het register" in all_text(ws.parent)


def test_provider_workbooks_leak_nothing_of_others_with_every_option_on(tmp_path):
    """History, register and sector comparison on: still nothing of any other provider."""
    specs = [
        {"aanbieder_naam": f"Aanbieder {n}", "kvk_nummer": f"{n}" * 8, "contractnummer": f"C-{n}",
         "medewerkers_getraind": 20 + n, "statuses": {"KV07": O}, "previous": {"KV07": G}}
        for n in range(1, 7)
    ]
    result = make_result(*specs)
    result = replace(result, register=RegisterMatch(
        matched={r.return_id: _contract(n, f"C-{n}", f"Aanbieder {n}", f"{n}" * 8) for n, r in enumerate(result.returns, start=1)},
        missing=[_contract(9, "D-9", "Stichting Onzichtbaar", "98765432")],
    ))
    files = write_all(result, tmp_path)
    text = all_text(openpyxl.load_workbook(tmp_path / files["R0001"]))
    assert "Mediaan van 5 andere aanbieders" in text and WORSENED_MARK in text  # the new parts are there
    assert_no_other_providers_data(result, tmp_path, files, others=("Stichting Onzichtbaar", "98765432", "D-9"))


def test_register_note_reaches_the_provider_workbook(with_register):
    _, out, files = with_register
    ws = openpyxl.load_workbook(out / files["R0002"])["Samenvatting"]
    assert find(ws, "Let op: Deze opgave hoort bij geen enkel contract in het contractregister: controleer het contractnummer.")


def test_replaced_return_reads_clearly_in_niet_verwerkt(tmp_path):
    replaced = RejectedFile(
        SourceFile("oud/alfa.xlsx", 10, 0.0, "x"),
        "Vervangen door een nieuwere opgave voor hetzelfde contract en verslagjaar: alfa.xlsx.",
        "vervangen",
    )
    result = make_result({}, rejected=(replaced,))
    write_overview(result, tmp_path / "o.xlsx", {})
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["Niet verwerkt"]
    assert [c.value for c in ws[2]] == ["oud/alfa.xlsx", "vervangen", replaced.reason]


# ------------------------------------------------------------------ sector comparison
def _jeugdhulp(n: int, **extra):
    return {"aanbieder_naam": f"Jeugdhulp {n}", "kvk_nummer": f"{n}" * 8, "contractnummer": f"JH-{n}", **extra}


def comparison_rows(ws) -> dict[str, tuple]:
    start = row_of(ws, "Kengetal")
    rows = {}
    for r in range(start + 1, ws.max_row + 1):
        if ws.cell(r, 1).value:
            rows[ws.cell(r, 1).value] = (ws.cell(r, 3).value, ws.cell(r, 4).value, ws.cell(r, 5).value)
    return rows


def comparison(result, return_id: str) -> dict:
    return {f.key: f for f in sector_comparisons(result)[return_id]}


def test_sector_median_of_five_other_providers_is_shown(tmp_path):
    # 40 staff: 18, 22, 26, 30, 34, 38 trained; the others of the first: 55%, 65%, 75%, 85%, 95%
    result = make_result(
        *(_jeugdhulp(n, medewerkers_getraind=14 + 4 * n) for n in range(1, MIN_OTHER_PROVIDERS + 2)),
        {"aanbieder_naam": "Welzijn", "kvk_nummer": "90000000", "sector": "welzijn", "medewerkers_getraind": 1},
    )
    files = write_all(result, tmp_path)
    ws = openpyxl.load_workbook(tmp_path / files["R0001"])["Samenvatting"]
    rows = comparison_rows(ws)
    own, median, note = rows["Bereik training meldcode"]
    assert (own, median) == ("45%", "75%")
    assert note.startswith("Mediaan van 5 andere aanbieders in de sector jeugdhulp in deze controle.")  # inside a sentence
    intro = next(str(c.value) for row in ws.iter_rows() for c in row if str(c.value).startswith("Uw kengetallen"))
    assert "in uw sector (jeugdhulp)" in intro
    # 10 signals per 300 children; 6 AF hours for 40 staff
    assert rows["Signalen per 100 bereikte jeugdigen"][:2] == ("3,3", "3,3")
    assert rows["Uren aandachtsfunctionaris per week per 25 medewerkers"][:2] == ("3,8", "3,8")
    # the welzijn provider is alone in its sector
    welzijn = comparison_rows(openpyxl.load_workbook(tmp_path / files["R0007"])["Samenvatting"])
    assert welzijn["Bereik training meldcode"][:2] == ("2,5%", "niet getoond")
    assert welzijn["Bereik training meldcode"][2].startswith(FEW_PROVIDERS)


def test_the_median_of_the_others_is_the_median_of_the_list_without_the_own_value():
    import random
    import statistics

    rng = random.Random(7)
    for _ in range(500):
        values = sorted(rng.choice([0.0, 0.5, 1.0, 2.5, rng.random()]) for _ in range(rng.randint(2, 12)))
        assert median_without(values, None) == statistics.median(values)
        i = rng.randrange(len(values))
        assert median_without(values, i) == statistics.median(values[:i] + values[i + 1:])


def test_sector_median_is_not_shown_with_four_other_providers(tmp_path):
    result = make_result(*(_jeugdhulp(n) for n in range(1, MIN_OTHER_PROVIDERS + 1)))
    files = write_all(result, tmp_path)
    ws = openpyxl.load_workbook(tmp_path / files["R0001"])["Samenvatting"]
    for label, (own, median, note) in comparison_rows(ws).items():
        assert median == "niet getoond", label
        assert "minder dan 5 andere aanbieders in deze sector met een waarde" in note.lower()
        assert own not in ("", None)


def test_providers_are_counted_once_whatever_their_number_of_contracts():
    """One provider with four contracts beside one other provider: neither sees a median,
    so the other's exact figures never appear in a workbook."""
    same = {"aanbieder_naam": "Groot", "kvk_nummer": "77777777"}
    result = make_result(
        *({**same, "contractnummer": f"G-{n}", "medewerkers_getraind": 20 + n} for n in range(4)),
        _jeugdhulp(1, medewerkers_getraind=39),
        {"aanbieder_naam": "Zonder KvK", "kvk_nummer": None, "contractnummer": "Z-1"},
    )
    for rid in ("R0001", "R0005", "R0006"):
        assert not comparison(result, rid)["bereik_training"].shown, rid
    # with five other distinct providers the big one counts once, by the median of its own returns
    result = make_result(
        *({**same, "contractnummer": f"G-{n}", "medewerkers_getraind": 10 + 2 * n} for n in range(4)),  # 10..16: median 13
        *(_jeugdhulp(n, medewerkers_getraind=30 + n) for n in range(1, 6)),
    )
    figure = comparison(result, "R0005")["bereik_training"]  # others: Groot (13/40) and 32..35 of 40
    assert figure.median == format_percent(33 / 40) and "5 andere aanbieders" in figure.note


def test_only_providers_with_a_value_count_for_a_figure():
    # six jeugdhulp providers, one without children reached: for it no signals figure
    result = make_result(*(_jeugdhulp(n) for n in range(1, 6)), _jeugdhulp(6, clienten_minderjarig=0))
    figures = comparison(result, "R0006")
    assert figures["bereik_training"].shown and figures["af_uren_per_25"].shown
    assert figures["signalen_per_100"].shown and figures["signalen_per_100"].own == "niet te berekenen"
    assert not comparison(result, "R0001")["signalen_per_100"].shown  # four others with a value
    assert figures["bereik_training"].median_value == pytest.approx(36 / 40)


def test_more_trained_than_staff_is_no_value_and_unknown_sector_gets_no_comparison():
    result = make_result(_jeugdhulp(1, medewerkers_getraind=50), _jeugdhulp(2, sector="onbekend"))
    assert comparison(result, "R0001")["bereik_training"].own_value is None
    second = sector_comparisons(result)["R0002"]
    assert all(not f.shown and f.note.startswith("Uw sector ontbreekt of is onbekend") for f in second)


def test_the_view_holds_only_the_median_not_the_other_values():
    # 40 staff; 18, 22, 26, 30, 34, 38 trained
    result = make_result(*(_jeugdhulp(n, medewerkers_getraind=14 + 4 * n) for n in range(1, 7)))
    view = provider_view(result, "R0001")
    data = pickle.dumps(view)
    assert pickle.loads(data) == view
    training = next(f for f in view.sector if f.key == "bereik_training")
    assert training.own_value == 18 / 40 and training.median_value == pytest.approx(30 / 40)
    assert (training.own, training.median) == ("45%", "75%")
    for n in range(2, 7):  # nobody else's name or value
        assert f"Jeugdhulp {n}".encode() not in data
    assert not any(isinstance(v, (list, dict)) for f in view.sector for v in vars(f).values())


# ------------------------------------------------------------------ Aanlevering
def test_every_field_of_a_passing_rule_is_coloured_unless_a_worse_rule_touches_it(tmp_path):
    result = make_result({"statuses": {"KV08": O}})
    catalogue = result.catalogue
    # a groen finding may name more fields than the rule's inputs (all it reads or tests)
    wide = ("medewerkers_getraind", "medewerkers", "contact_naam", "fte")
    result = replace(result, findings=tuple(replace(f, fields=wide) if f.rule_id == "KV07" else f for f in result.findings))
    render_provider(provider_view(result, "R0001"), catalogue, tmp_path / "a.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["Aanlevering"]

    def status_of(key):
        label = catalogue.field(key).label
        cell = next(c for c in ws["A"] if c.value in (label, label + " *"))
        return ws.cell(cell.row, 4).value, ws.cell(cell.row, 2), ws.cell(cell.row, 5).value

    status, value, why = status_of("contact_naam")
    assert status == "Groen" and rgb(value) == colour(result, G, light=True)
    # a groen cell says why in 'Waarom deze kleur' (printed); only what is not groen gets a note
    assert ws.cell(4, 5).value == "Waarom deze kleur"
    assert why == "voldoet aan KV07" and value.comment is None
    status, value, why = status_of("fte")
    assert status == "Oranje"  # KV08 oranje wins over KV07 groen
    assert why.startswith("KV08 ") and "(oranje)" in why and "KV08 (Oranje)" in value.comment.text


# ------------------------------------------------------------------ reproducible
def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_workbooks_are_reproducible_and_dated_by_the_run(tmp_path):
    """Same result, same workbook: also in a worker process (a pickled view), at another time."""
    result = make_result({"statuses": {"KV06": O}, "previous": {"KV06": G}})
    view = provider_view(result, "R0001")
    render_provider(view, result.catalogue, tmp_path / "a.xlsx")
    write_overview(result, tmp_path / "a_overzicht.xlsx", {})
    render_provider(pickle.loads(pickle.dumps(view)), load_catalogue(), tmp_path / "b.xlsx")
    write_overview(result, tmp_path / "b_overzicht.xlsx", {})
    assert _parts(tmp_path / "a.xlsx") == _parts(tmp_path / "b.xlsx")
    assert _parts(tmp_path / "a_overzicht.xlsx") == _parts(tmp_path / "b_overzicht.xlsx")
    for name in ("a.xlsx", "a_overzicht.xlsx"):
        core = _parts(tmp_path / name)["docProps/core.xml"].decode()
        assert "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-02-03T14:30:00Z</dcterms:created>" in core


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def blank_form(tmp_path_factory) -> Path:
    from kvcompliance.template import write_template

    path = tmp_path_factory.mktemp("form") / "uitvraag.xlsx"
    write_template(path, load_catalogue())
    return path


def test_audit_with_last_year_and_register_shows_it_in_both_workbooks(tmp_path, blank_form):
    from kvcompliance.audit import run_audit, write_reports
    from test_audit import fill
    from test_validate import BASE

    last_year, this_year = tmp_path / "2024", tmp_path / "2025"
    last_year.mkdir()
    this_year.mkdir()
    fill(blank_form, last_year / "voorbeeld.xlsx", {**BASE, "verslagjaar": 2024})
    write_reports(run_audit(last_year), tmp_path / "uit2024")
    fill(blank_form, this_year / "voorbeeld.xlsx", {**BASE, "af_consultaties": 0})  # KV06 groen -> oranje
    fill(blank_form, this_year / "anders.xlsx", {**BASE, "aanbieder_naam": "Zorg Anders", "kvk_nummer": "87654321", "contractnummer": "X-9"})
    register = tmp_path / "contracten.csv"
    register.write_text(
        "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
        "JH-2025-001;Stichting Voorbeeld;12345678;jeugdhulp;a@voorbeeld.nl\n"
        "JH-2025-002;Stichting Stil;11112222;jeugdhulp;info@stil.nl\n",
        encoding="utf-8",
    )
    result = run_audit(this_year, previous_dir=tmp_path / "uit2024", register_file=register)
    written = write_reports(result, tmp_path / "uit2025")
    books = {name: openpyxl.load_workbook(written.out_dir / "accountgesprek" / file) for name, file in (
        (result.frame.at[rid, "aanbieder_naam"], file) for rid, file in written.provider_files.items())}

    summary = books["Stichting Voorbeeld"]["Samenvatting"]
    kv06 = row_of(summary, "KV06")
    assert [summary.cell(kv06, c).value for c in (3, 4, 5)] == ["Oranje", "Groen", "↓ verslechterd"]
    assert f"KV06 Aandachtsfunctionaris functioneert {WORSENED_MARK}" in [r[0] for r in agenda_rows(summary)]
    other = books["Zorg Anders"]["Samenvatting"]
    assert find(other, "Vorig jaar").offset(column=2).value == "geen opgave"
    assert "hoort bij geen enkel contract in het contractregister" in all_text(other.parent)

    overview = openpyxl.load_workbook(written.overview)
    ws = overview["Overzicht"]
    at = {name: column(ws, name, "Aanbieder") for name in ("Vorig jaar", "Trend", "Contract")}
    voorbeeld, anders = row_of(ws, "Stichting Voorbeeld"), row_of(ws, "Zorg Anders")
    assert [ws.cell(voorbeeld, at[n]).value for n in at] == ["Groen", "↓ verslechterd", "in register"]
    assert [ws.cell(anders, at[n]).value for n in at] == [None, "nieuw", "niet in register"]
    assert [c.value for c in overview["Ontbrekend"][2]][:2] == ["JH-2025-002", "Stichting Stil"]


# ------------------------------------------------------------------ a big overview
def _as_seen(path: Path) -> dict:
    """Every cell (value, fill, font, border, wrap, note), row height and merge of a workbook."""
    wb = openpyxl.load_workbook(path)
    seen: dict = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                border = tuple(getattr(c.border, side).style for side in ("left", "right", "top", "bottom"))
                font = c.font.color.rgb if c.font.color is not None and isinstance(c.font.color.rgb, str) else None
                seen[ws.title, c.coordinate] = (
                    c.value, rgb(c), font, c.font.b, border, c.alignment.wrap_text, c.comment and c.comment.text
                )
        seen[ws.title, "heights"] = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
        seen[ws.title, "merged"] = sorted(str(m) for m in ws.merged_cells.ranges)
        seen[ws.title, "filter"] = ws.auto_filter.ref
    return seen


def test_a_big_overview_is_streamed_and_looks_the_same(tmp_path, monkeypatch):
    """From STREAM_FROM_FINDINGS findings on the overview is written row by row (constant
    memory); every sheet must then still show every cell: none may be written out of order.
    Bevindingen then holds only the findings its filter shows, and says where the others are."""
    from kvcompliance.report import overview

    result = make_result(
        {"aanbieder_naam": "Stichting Alfa", "kvk_nummer": "11111111", "contractnummer": "A-1",
         "statuses": {"KV06": O, "KV07": R}, "previous": {"KV06": G}},
        {"aanbieder_naam": "Stichting Beta", "kvk_nummer": "22222222", "contractnummer": "B-2", "sector": "wmo"},
        rejected=(RejectedFile(SourceFile("kapot.xlsx", 10, 0.0, ""), "Geen opgave.", "onleesbaar"),),
    )
    result = replace(result, register=RegisterMatch(
        matched={"R0001": _contract(2, "A-1", "Stichting Alfa", "11111111")},
        unmatched=["R0002"],
        kvk_differs=set(),
        missing=[_contract(4, "D-4", "Stichting Stil", "44444444", "wmo")],
    ))
    assert len(result.findings) < overview.STREAM_FROM_FINDINGS
    write_overview(result, tmp_path / "in_geheugen.xlsx", {})
    monkeypatch.setattr(overview, "STREAM_FROM_FINDINGS", 1)
    write_overview(result, tmp_path / "gestroomd.xlsx", {})
    with zipfile.ZipFile(tmp_path / "gestroomd.xlsx") as zf:  # really streamed: inline text
        assert b't="inlineStr"' in zf.read("xl/worksheets/sheet3.xml")
    in_memory, streamed = _as_seen(tmp_path / "in_geheugen.xlsx"), _as_seen(tmp_path / "gestroomd.xlsx")
    assert in_memory["sheets"] == ["Bellijst", "Overzicht", "Per sector", "Grafiek", "Bevindingen", "Niet verwerkt", "Toezicht", "Ontbrekend", "Normen"]
    differ = [key for key in in_memory.keys() | streamed.keys() if in_memory.get(key) != streamed.get(key)]
    assert [key for key in differ if key[0] != "Bevindingen"] == []
    # Bevindingen holds what needs attention (what its filter shows in memory) and says where the rest is
    full, big = openpyxl.load_workbook(tmp_path / "in_geheugen.xlsx")["Bevindingen"], openpyxl.load_workbook(tmp_path / "gestroomd.xlsx")["Bevindingen"]
    shown = [[c.value for c in row] for row in full.iter_rows(min_row=2) if not full.row_dimensions[row[0].row].hidden]
    assert 0 < len(shown) < full.max_row - 1
    rows = [[c.value for c in row] for row in big.iter_rows(min_row=2)]
    assert rows[:len(shown)] == shown and all(v is None for v in rows[len(shown)])
    left = len(result.findings) - len(shown)
    groen = sum(f.status == G for f in result.findings)
    nvt = left - groen
    said = " en ".join([f"{groen} bevindingen groen"] + ([f"{nvt} bevindingen n.v.t."] if nvt else []))
    assert rows[-1][0] == (f"Niet op dit blad, wel in bevindingen.csv: {said.removesuffix('.')}. "
                           "Zo blijft het blad bij zoveel opgaven goed te openen en te filteren.")
