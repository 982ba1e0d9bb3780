"""Three years into one dossier (issue 15, done when): real forms filled in per year, real
audits, agreements typed into the 2024 workbooks with openpyxl as an officer would in Excel,
read back with `kvcompliance afspraken`, and the 2025 workbooks read as officer and provider
see them."""

from __future__ import annotations

import csv
import re
import sqlite3
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.cli import main
from kvcompliance.dossier.schema import MIGRATIONS, TABLES
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_validate import BASE

YEARS = (2023, 2024, 2025)
#: name -> changes to BASE (every year), or a function of the year
PROVIDERS = {
    # KV09 rood (no intervisie) in all three years; an agreement in 2024 that is not kept
    "rood": lambda y: {"aanbieder_naam": "Rood Altijd", "kvk_nummer": "10000001", "contractnummer": "R-1",
                       "intervisie_bijeenkomsten": 0},
    # KV07 rood, then oranje twice; the 2024 agreement on KV07 is not realised in 2025
    "beter": lambda y: {"aanbieder_naam": "Beter Geworden", "kvk_nummer": "10000002", "contractnummer": "B-1",
                        "medewerkers_getraind": {2023: 20, 2024: 30, 2025: 35}[y]},
    # a new contract number every year: matched on the KvK-nummer alone
    "nieuw": lambda y: {"aanbieder_naam": "Nieuw Nummer", "kvk_nummer": "10000003", "contractnummer": f"N-{y}"},
    # KV08 oranje in 2024 with an agreement, groen in 2025: realised
    "gelukt": lambda y: {"aanbieder_naam": "Het Lukte", "kvk_nummer": "10000004", "contractnummer": "L-1",
                         "trainingsuren": 120 if y != 2024 else 40},
}
AGREEMENTS_2024 = {
    "Rood Altijd": ("KV09", "Vier intervisiebijeenkomsten per jaar inplannen", "Directie", date(2025, 1, 1)),
    "Beter Geworden": ("KV07", "Alle medewerkers met kindcontact volgen de training meldcode", "P. Jansen", date(2024, 12, 1)),
    "Het Lukte": ("KV08", "Trainingsuren verdubbelen", "HR", "voor de zomer"),
}


def type_agreement(path: Path, key: str, agreement: str, who: str, deadline) -> None:
    """What an officer does in Excel: fill the yellow cells of the agenda row about ``key``."""
    book = openpyxl.load_workbook(path)
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    heads = [c.value for c in rows[0]]
    row = next(cells for cells in rows[1:] if cells[-1].value == key)
    for column, value in (("Afspraak", agreement), ("Wie", who), ("Termijn", deadline)):
        row[heads.index(column)].value = value
    book.save(path)


def audit(inbox: Path, out: Path, dossier: Path, *extra: str):
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--dossier", str(dossier), "--stil", *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def years(tmp_path_factory, blank_form):  # noqa: F811
    root = tmp_path_factory.mktemp("dossier")
    dossier = root / "dossier.sqlite"
    outputs, printed = {}, {}
    for year in YEARS:
        inbox = root / f"opgaven-{year}"
        inbox.mkdir()
        for name, changes in PROVIDERS.items():
            fill(blank_form, inbox / f"{name}.xlsx", {**BASE, **changes(year), "verslagjaar": year, "meldcode_datum": f"1-3-{year - 1}"})
        outputs[year] = root / f"uit-{year}"
        printed[year] = audit(inbox, outputs[year], dossier).output
        if year == 2024:
            for path in (outputs[year] / "accountgesprek").iterdir():
                name = openpyxl.load_workbook(path).properties.title.split(" — ")[-1]
                if name in AGREEMENTS_2024:
                    type_agreement(path, *AGREEMENTS_2024[name])
            read = CliRunner().invoke(main, ["afspraken", str(outputs[year]), "--dossier", str(dossier)])
            assert read.exit_code == 0, read.output
            printed["afspraken"] = read.output
    return SimpleNamespace(root=root, dossier=dossier, out=outputs, printed=printed)


def workbook(out: Path, name: str):
    (path,) = [p for p in (out / "accountgesprek").iterdir() if f"_{name}_" in p.name]
    return openpyxl.load_workbook(path)


def texts(sheet) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def status_rows(sheet) -> dict[str, list]:
    """Historie, 'Oordeel per jaar': row label (rule id, or the verdict's name) -> the year cells."""
    header = next(row for row in sheet.iter_rows() if row[0].value == "Regel")
    years = [c for c in header if isinstance(c.value, str) and c.value.isdigit()]
    found = {}
    for row in sheet.iter_rows(min_row=header[0].row + 1):
        label = row[0].value or row[1].value
        if label is None or (row[0].value is None and row[1].value is None):
            break
        found[label] = [sheet.cell(row[0].row, c.column) for c in years]
    return found


def colour(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper()


def status_colour(status: Status) -> str:
    return load_catalogue().status_info(status).colour.lstrip("#").upper()


def call_list(out: Path) -> dict[str, dict]:
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Bellijst"]
    header = next(c.row for c in ws["A"] if c.value == "Rang")
    heads = [c.value for c in ws[header]]
    return {row[heads.index("Aanbieder")]: dict(zip(heads, row))
            for row in ws.iter_rows(min_row=header + 1, values_only=True) if row[0]}


def agenda_rows(book) -> list[dict]:
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    heads = [c.value for c in rows[0]]
    return [{h: c.value for h, c in zip(heads, cells)} for cells in rows[1:]]


# ------------------------------------------------------------------ Historie
def test_every_provider_workbook_has_a_historie_sheet_with_three_years(years):
    books = list((years.out[2025] / "accountgesprek").iterdir())
    assert len(books) == len(PROVIDERS)
    for path in books:
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == ["Samenvatting", "Aanlevering", "Historie", "Normen"]
        rows = status_rows(book["Historie"])
        assert all(len(cells) == 3 for cells in rows.values())
        assert all(cell.value in ("Groen", "Oranje", "Rood", "n.v.t.") for cells in rows.values() for cell in cells
                   if cells is not rows["Contractnummer"]), path.name
    rood = status_rows(workbook(years.out[2025], "Rood Altijd")["Historie"])
    assert [c.value for c in rood["KV09"]] == ["Rood"] * 3
    assert {colour(c) for c in rood["KV09"]} == {status_colour(Status.ROOD)}
    beter = status_rows(workbook(years.out[2025], "Beter Geworden")["Historie"])
    assert [c.value for c in beter["KV07"]] == ["Rood", "Oranje", "Oranje"]
    assert [c.value for c in beter["Inhoud"]] == ["Rood", "Oranje", "Oranje"]


def test_the_historie_sheet_says_how_long_a_rule_has_been_rood_and_shows_key_figures_per_year(years):
    sheet = workbook(years.out[2025], "Rood Altijd")["Historie"]
    assert "3 jaar op rij rood" in texts(sheet)
    beter = workbook(years.out[2025], "Beter Geworden")["Historie"]
    figure = next(row for row in beter.iter_rows() if row[0].value == "Bereik training meldcode")
    values = [c.value for c in figure[2:5]]
    assert values == pytest.approx([0.4, 0.6, 0.7])  # 20, 30 and 35 of 50 trained
    assert figure[2].number_format == "0%"


def test_the_first_year_has_one_year_of_history(years):
    sheet = workbook(years.out[2023], "Rood Altijd")["Historie"]
    assert [len(cells) for cells in status_rows(sheet).values()] == [1] * len(status_rows(sheet))
    assert "Er staan geen afspraken uit het gesprek over 2022 in het dossier." in texts(sheet)


def test_a_changed_contract_number_is_matched_on_the_kvk_number_and_said_so(years):
    sheet = workbook(years.out[2025], "Nieuw Nummer")["Historie"]
    rows = status_rows(sheet)
    assert [c.value for c in rows["Contractnummer"]] == ["N-2023", "N-2024", "N-2025"]
    assert [c.value for c in rows["Eindoordeel"]] == ["Groen"] * 3
    said = " ".join(texts(sheet))
    assert "In 2023 stond uw opgave onder contractnummer N-2023" in said
    assert "op uw KvK-nummer aan deze opgave gekoppeld" in said


# ------------------------------------------------------------------ escalation, for the officer only
def test_rood_on_the_same_rule_in_three_years_is_escalation_step_3_in_the_call_list(years):
    rows = call_list(years.out[2025])
    rood = rows["Rood Altijd"]
    assert rood["Escalatietrede"] == "3 formele stap"
    assert rood["Waarom deze trede"] == (
        "KV09: rood in 2023, 2024 en 2025; de afspraak uit het gesprek over 2024 is niet nagekomen"
    )
    assert rood["Jaren rood op rij"] == 3
    assert rood["Rang"] == 1
    # oranje again after an agreement about it: the first step; a realised agreement: none
    assert rows["Beter Geworden"]["Escalatietrede"] == "1 gesprek"
    assert "nog oranje na de afspraak uit het gesprek over 2024" in rows["Beter Geworden"]["Waarom deze trede"]
    assert rows["Beter Geworden"]["Jaren rood op rij"] == 0
    assert not rows["Het Lukte"]["Escalatietrede"]
    assert call_list(years.out[2024])["Rood Altijd"]["Escalatietrede"] == "2 verbeterplan"
    assert "Escalatie:   trede 3 (formele stap) 1 opgave, trede 1 (gesprek) 1 opgave" in years.printed[2025]


def test_the_provider_workbook_shows_the_facts_but_not_the_escalation_step(years):
    book = workbook(years.out[2025], "Rood Altijd")
    said = " ".join(t for sheet in book.worksheets for t in texts(sheet))
    assert "3 jaar op rij rood" in said
    for step in load_catalogue().escalation:
        assert step.text not in said and step.explanation not in said
    for word in ("escalatie", "trede", "formele stap", "verbeterplan", "ingebrekestelling"):
        assert word not in said.lower()


# ------------------------------------------------------------------ agreements
def test_afspraken_reads_what_the_officer_typed(years):
    assert "4 werkboeken gelezen: 3 afspraken van 3 aanbieders bewaard" in years.printed["afspraken"]
    assert "in 1 werkboek is niets afgesproken" in years.printed["afspraken"]
    with sqlite3.connect(years.dossier) as conn:
        stored = {row[0]: row[1:] for row in conn.execute("SELECT aanbieder, sleutel, regel, afspraak, wie, termijn, controlejaar FROM afspraken")}
    assert stored["Beter Geworden"] == ("KV07", "KV07", AGREEMENTS_2024["Beter Geworden"][1], "P. Jansen", "2024-12-01", 2024)
    assert stored["Het Lukte"][-2:] == ("voor de zomer", 2024)


def test_an_agreement_of_2024_not_realised_is_on_the_2025_agenda(years):
    book = workbook(years.out[2025], "Beter Geworden")
    item = next(row for row in agenda_rows(book) if row["sleutel"] == "KV07")
    question = item["Vraag aan u"]
    assert re.match(r"Afgesproken op \d+ \w+ \d{4}: Alle medewerkers met kindcontact volgen de training meldcode", question)
    assert "(wie: P. Jansen; termijn: 1 december 2024) — nog niet gerealiseerd." in question
    assert item["Afspraak"] is None  # this year's cells are empty again
    historie = " ".join(texts(book["Historie"]))
    assert "Afspraken uit het gesprek over 2024" in historie
    assert "Alle medewerkers met kindcontact volgen de training meldcode" in historie
    assert "nog niet gerealiseerd: nu oranje" in historie


def test_a_realised_agreement_is_listed_but_not_on_the_agenda(years):
    book = workbook(years.out[2025], "Het Lukte")
    historie = " ".join(texts(book["Historie"]))
    assert "gerealiseerd: nu groen" in historie
    assert "Trainingsuren verdubbelen\n(wie: HR; termijn: voor de zomer)" in historie
    assert not any("Afgesproken" in str(row["Vraag aan u"]) for row in agenda_rows(book))


# ------------------------------------------------------------------ the dossier itself
def test_each_audit_is_a_run_and_a_repeated_year_replaces_its_returns(years, tmp_path):
    copy = tmp_path / "dossier.sqlite"
    copy.write_bytes(years.dossier.read_bytes())
    again = audit(years.root / "opgaven-2025", tmp_path / "uit", copy)
    assert "4 eerdere opgaven over 2025 vervangen" in again.output
    with sqlite3.connect(copy) as conn:
        runs = conn.execute("SELECT controlejaar, opgaven, vervangen FROM controles ORDER BY id").fetchall()
        per_year = dict(conn.execute("SELECT controlejaar, count(*) FROM opgaven GROUP BY controlejaar"))
        findings = conn.execute("SELECT count(*) FROM bevindingen").fetchone()[0]
    assert runs == [(2023, 4, 0), (2024, 4, 0), (2025, 4, 0), (2025, 4, 4)]
    assert per_year == {2023: 4, 2024: 4, 2025: 4}
    assert findings == 12 * len(load_catalogue().active_rules)  # the replaced findings went with their returns


def test_the_dossier_holds_values_findings_figures_and_the_rules_applied(years):
    with sqlite3.connect(years.dossier) as conn:
        conn.row_factory = sqlite3.Row
        run = conn.execute("SELECT * FROM controles WHERE controlejaar = 2025").fetchone()
        assert run["versie"] and '"herkomst": "Standaardnorm' in run["regels"] and "formele stap" in run["escalatieladder"]
        opgave = conn.execute("SELECT * FROM opgaven WHERE aanbieder = 'Beter Geworden' AND controlejaar = 2025").fetchone()
        assert len(opgave["sha256"]) == 64 and opgave["bestand"] == "beter.xlsx" and opgave["inhoud"] == "oranje"
        values = {r["veld"]: (r["waarde"], r["getypt"]) for r in conn.execute("SELECT * FROM waarden WHERE opgave_id = ?", (opgave["id"],))}
        assert values["medewerkers_getraind"] == (35, "35") and values["meldcode_aanwezig"] == (1, "ja")
        assert values["meldcode_datum"][0] == "2024-03-01"
        kv07 = conn.execute("SELECT * FROM bevindingen WHERE opgave_id = ? AND regel = 'KV07'", (opgave["id"],)).fetchone()
        assert kv07["status"] == "oranje" and "70%" in kv07["toelichting"]
        figure = conn.execute("SELECT waarde FROM kengetallen WHERE opgave_id = ? AND kengetal = 'bereik_training'",
                              (opgave["id"],)).fetchone()[0]
        assert figure == pytest.approx(0.7)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_export_writes_every_table_as_a_csv_for_dutch_excel(years, tmp_path):
    out = tmp_path / "csv"
    result = CliRunner().invoke(main, ["dossier", "export", "--csv", str(out), "--dossier", str(years.dossier)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(f"{t}.csv" for t in TABLES)
    raw = (out / "kengetallen.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with sqlite3.connect(years.dossier) as conn:
        for table in TABLES:
            with (out / f"{table}.csv").open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle, delimiter=";"))
            assert len(rows) - 1 == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table
            assert f"{out / table}.csv ({len(rows) - 1} " in result.output
    figures = list(csv.DictReader((out / "kengetallen.csv").open(encoding="utf-8-sig"), delimiter=";"))
    assert "0,7" in {row["waarde"] for row in figures}  # a decimal comma, as Dutch Excel reads it


def test_export_never_overwrites_a_csv_it_did_not_write_and_replaces_its_own(years, tmp_path):
    def export(folder: Path):
        return CliRunner().invoke(main, ["dossier", "export", "--csv", str(folder), "--dossier", str(years.dossier)])

    # into the output folder of an audit: its bevindingen.csv is the audit's, not a dossier table
    findings = (years.out[2025] / "bevindingen.csv").read_bytes()
    result = export(years.out[2025])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "staat al bevindingen.csv" in result.output and "Dat wordt niet overschreven" in result.output
    assert (years.out[2025] / "bevindingen.csv").read_bytes() == findings
    assert not (years.out[2025] / "afspraken.csv").exists()  # nothing written at all

    # the officer's own files with a table's name: named, kept, plural
    own = tmp_path / "eigen"
    own.mkdir()
    (own / "afspraken.csv").write_text("mijn eigen afspraken\n", encoding="utf-8")
    (own / "opgaven.csv").write_text("mijn eigen lijst\n", encoding="utf-8")
    result = export(own)
    assert result.exit_code == 3
    assert "staan al opgaven.csv en afspraken.csv" in result.output and "Die worden niet overschreven" in result.output
    assert (own / "afspraken.csv").read_text(encoding="utf-8") == "mijn eigen afspraken\n"
    assert sorted(p.name for p in own.iterdir() if not p.name.startswith(".")) == ["afspraken.csv", "opgaven.csv"]

    # its own earlier export is replaced; one changed since is not
    out = tmp_path / "csv"
    assert export(out).exit_code == 0
    assert export(out).exit_code == 0, "an export replaces its own files"
    with (out / "kengetallen.csv").open("a", encoding="utf-8") as handle:
        handle.write("met de hand toegevoegd\n")
    result = export(out)
    assert result.exit_code == 3 and "staat al kengetallen.csv" in result.output
    assert (out / "kengetallen.csv").read_text(encoding="utf-8").endswith("met de hand toegevoegd\n")


#: ``kvcompliance dossier export`` as the console runs it, with Ctrl-C arriving once the
#: second table is written.
CTRL_C_AFTER_TWO_TABLES = """
import os, signal, sys
from kvcompliance.report import csvout

write, written = csvout.write_csv, []

def writing(path, header, rows):
    write(path, header, rows)
    written.append(path)
    if len(written) == 2:
        os.kill(os.getpid(), signal.SIGINT)

csvout.write_csv = writing
sys.argv = ["kvcompliance", *sys.argv[1:]]
from kvcompliance.cli import run
run()
"""


def test_an_export_stopped_halfway_leaves_the_previous_export_whole_or_none_at_all(years, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    def stopped(folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", CTRL_C_AFTER_TWO_TABLES, "dossier", "export", "--csv", str(folder),
                               "--dossier", str(years.dossier)], env=env, capture_output=True, text=True, timeout=120)

    # last month's export, from the dossier as it was before any audit: the tables had no rows yet
    empty = tmp_path / "leeg.sqlite"
    shutil.copy(years.dossier, empty)
    with sqlite3.connect(empty) as conn:
        for table in reversed(TABLES):
            conn.execute(f"DELETE FROM {table}")
    out = tmp_path / "csv"
    assert CliRunner().invoke(main, ["dossier", "export", "--csv", str(out), "--dossier", str(empty)]).exit_code == 0
    before = files(out)
    (out / "notitie.txt").write_text("van de adviseur", encoding="utf-8")

    done = stopped(out)
    assert done.returncode == 130 and "Afgebroken" in done.stderr, done.stderr
    assert files(out) == {**before, "notitie.txt": b"van de adviseur"}  # every table of last month's export, no mix

    fresh = tmp_path / "nieuw" / "csv"
    assert stopped(fresh).returncode == 130
    assert not fresh.exists()  # none at all

    again = CliRunner().invoke(main, ["dossier", "export", "--csv", str(out), "--dossier", str(years.dossier)])
    assert again.exit_code == 0, again.output
    assert sorted(files(out)) == sorted([*before, "notitie.txt"])
    with sqlite3.connect(years.dossier) as conn:
        for table in TABLES:
            with (out / f"{table}.csv").open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle, delimiter=";"))
            assert len(rows) - 1 == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table


def test_the_documented_queries_run_and_every_column_is_documented(years):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "DOSSIER.md").read_text(encoding="utf-8")
    with sqlite3.connect(years.dossier) as conn:
        for query in re.findall(r"```sql\n(.*?)```", doc, re.S):
            assert conn.execute(query).fetchall(), query  # every example finds something in three years
        for table in TABLES:
            assert f"### `{table}`" in doc, table
            section = doc.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
            for (_, column, *_rest) in conn.execute(f"PRAGMA table_info({table})"):
                assert f"`{column}`" in section, f"{table}.{column}"
