"""End to end: the form, filled in like a provider would, audited into workbooks."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.cli import main
from kvcompliance.template import write_template
from tests.test_validate import BASE


@pytest.fixture(scope="module")
def blank_form(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("form") / "uitvraag.xlsx"
    write_template(path, load_catalogue())
    return path


def fill(form: Path, out: Path, values: dict) -> Path:
    """Fill the form's named input cells with openpyxl, as Excel would."""
    workbook = openpyxl.load_workbook(form)
    for key, value in values.items():
        if value is None:
            continue
        name = workbook.defined_names[f"kv_{key}"]
        (sheet, ref), = name.destinations
        workbook[sheet][ref.replace("$", "")] = value
    workbook.save(out)
    return out


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _fill_colour(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper()


def _status_colour(status: Status) -> str:
    return load_catalogue().status_info(status).colour.lstrip("#").upper()


def test_round_trip_form_to_workbooks(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    fill(
        blank_form,
        inbox / "slecht.xlsx",
        {**BASE, "aanbieder_naam": "Zorg Anders", "kvk_nummer": "87654321", "contractnummer": "WMO-9",
         "meldcode_aanwezig": "nee", "medewerkers_getraind": 20, "medewerkers": "ca. 50"},
    )
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"])
    assert result.exit_code == 0, result.output
    assert "2 opgaven gecontroleerd, 0 bestanden niet verwerkt" in result.output
    assert "Controlejaar 2025" in result.output

    rows = _rows(out / "bevindingen.csv")
    rules = [r.id for r in load_catalogue().active_rules]
    assert len(rows) == 2 * len(rules)
    by = {(r["aanbieder"], r["regel"]): r for r in rows}
    assert by[("Stichting Voorbeeld", "KV01")]["status"] == "Groen"
    assert by[("Zorg Anders", "KV01")]["status"] == "Rood"
    assert by[("Zorg Anders", "KV07")]["status"] == "Grijs"  # 'ca. 50' employees is not a number
    assert "‘ca. 50’" in by[("Zorg Anders", "KV90")]["toelichting"]

    workbooks = sorted((out / "accountgesprek").iterdir())
    assert [p.name for p in workbooks] == [
        "2025_Stichting Voorbeeld_JH-2025-001.xlsx",
        "2025_Zorg Anders_WMO-9.xlsx",
    ]
    book = openpyxl.load_workbook(workbooks[1])
    assert book.sheetnames[:3] == ["Samenvatting", "Aanlevering", "Normen"]
    summary = book["Samenvatting"]
    kv01 = next(row for row in summary.iter_rows() if row[0].value == "KV01")
    status_cell = next(c for c in kv01 if c.value == "Rood")
    assert _fill_colour(status_cell) == _status_colour(Status.ROOD)
    texts = " ".join(str(c.value) for row in summary.iter_rows() for c in row if c.value)
    assert "Gespreksagenda" in texts and "Wanneer stelt u een meldcode vast" in texts

    overview = openpyxl.load_workbook(out / "overzicht.xlsx")
    assert {"Overzicht", "Bevindingen", "Niet verwerkt", "Normen"} <= set(overview.sheetnames)


def test_rejected_files_are_listed_and_exit_code_is_1(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    (inbox / "brief.pdf").write_bytes(b"%PDF-1.4\n%...")
    (inbox / "kapot.xlsx").write_bytes(b"PK\x03\x04 dit is geen werkboek")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"])
    assert result.exit_code == 1, result.output
    assert "1 opgave gecontroleerd, 2 bestanden niet verwerkt" in result.output
    assert "brief.pdf" in result.output and "kapot.xlsx" in result.output
    assert "Traceback" not in result.output
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    assert after == before  # the inputs are never modified
    log = [json.loads(line) for line in (out / "verwerking.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {e["bestand"]: e["uitkomst"] for e in log} == {
        "brief.pdf": "niet verwerkt",
        "goed.xlsx": "gecontroleerd",
        "kapot.xlsx": "niet verwerkt",
    }
    assert all(e["sha256"] == before[e["bestand"]] for e in log)
    sheet = openpyxl.load_workbook(out / "overzicht.xlsx")["Niet verwerkt"]
    listed = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "brief.pdf" in listed and "kapot.xlsx" in listed


def test_newest_of_two_returns_for_the_same_contract_is_audited(tmp_path, blank_form):
    import os

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    old = fill(blank_form, inbox / "eerste.xlsx", {**BASE, "intervisie_bijeenkomsten": 0})
    new = fill(blank_form, inbox / "tweede.xlsx", BASE)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_800_000_000, 1_800_000_000))
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"])
    assert result.exit_code == 1
    assert "1 opgave gecontroleerd" in result.output
    assert "eerste.xlsx — Vervangen door een nieuwere opgave" in result.output
    rows = _rows(out / "bevindingen.csv")
    assert {r["bestand"] for r in rows} == {"tweede.xlsx"}
    book = openpyxl.load_workbook(next((out / "accountgesprek").iterdir()))
    texts = " ".join(str(c.value) for row in book["Samenvatting"].iter_rows() for c in row if c.value)
    assert "vervangt een eerdere opgave" in texts and "eerste.xlsx" in texts


def test_register_lists_missing_providers_and_feeds_kv10(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    register = tmp_path / "contracten.csv"
    register.write_text(
        "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email;verwacht_aantal_signalen\n"
        "JH-2025-001;Stichting Voorbeeld;12345678;jeugdhulp;a@voorbeeld.nl;30\n"
        "JH-2025-002;Stichting Stil;11112222;jeugdhulp;info@stil.nl;\n",
        encoding="utf-8",
    )
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--contracten", str(register)])
    assert result.exit_code == 0, result.output
    assert "1 contract zonder opgave" in result.output
    assert "Contractregister: 1 opgave bij een contract, 0 zonder contract, 1 contract zonder opgave." in result.output
    by = {r["regel"]: r for r in _rows(out / "bevindingen.csv")}
    assert by["KV10"]["status"] == "Rood"  # 6 signals where 30 were fixed beforehand
    assert "contractregister" in by["KV10"]["toelichting"]


def test_the_register_rules_and_settings_of_the_run_kept_in_the_inbox_are_skipped_not_rejected(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    (inbox / "contracten.csv").write_text("contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
                                          "JH-2025-001;Stichting Voorbeeld;12345678;jeugdhulp;a@voorbeeld.nl\n", encoding="utf-8")
    (inbox / "regels.toml").write_text('vastgesteld = "Regio Eemvallei, besluit 12-3-2025"\n', encoding="utf-8")
    (inbox / "kvcompliance.toml").write_text('[afzender]\nnaam = "Regio Eemvallei"\n', encoding="utf-8")
    (inbox / "notitie.toml").write_text("geen invoer van deze controle\n", encoding="utf-8")
    out = tmp_path / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--contracten", str(inbox / "contracten.csv"),
                                       "--regels", str(inbox / "regels.toml"), "--instellingen", str(inbox / "kvcompliance.toml")])
    assert result.exit_code == 1, result.output  # only the note is not processed
    assert "1 opgave gecontroleerd, 1 bestand niet verwerkt, 3 items bewust overgeslagen." in result.output
    assert "overgeslagen: contracten.csv — Het contractregister van deze controle (contracten.csv); geen opgave." in result.output
    assert "overgeslagen: regels.toml — Het regelbestand van deze controle (regels.toml); geen opgave." in result.output
    assert "overgeslagen: kvcompliance.toml — Het instellingenbestand van deze controle (kvcompliance.toml); geen opgave." \
        in result.output
    assert "niet verwerkt: notitie.toml" in result.output
    log = {e["bestand"]: e for e in map(json.loads, (out / "verwerking.jsonl").read_text(encoding="utf-8").splitlines())}
    assert log["contracten.csv"]["uitkomst"] == "overgeslagen" and log["contracten.csv"]["soort"] == "invoer"


def test_previous_audit_shows_what_improved(tmp_path, blank_form):
    runner = CliRunner()
    last_year = tmp_path / "2024"
    last_year.mkdir()
    fill(blank_form, last_year / "opgave.xlsx", {**BASE, "verslagjaar": 2024, "intervisie_bijeenkomsten": 0})
    assert runner.invoke(main, ["audit", str(last_year), "-o", str(tmp_path / "uit2024"), "--stil"]).exit_code == 0
    this_year = tmp_path / "2025"
    this_year.mkdir()
    fill(blank_form, this_year / "opgave.xlsx", {**BASE, "medewerkers_getraind": 30})
    result = runner.invoke(
        main, ["audit", str(this_year), "-o", str(tmp_path / "uit2025"), "--stil", "--vorige", str(tmp_path / "uit2024")]
    )
    assert result.exit_code == 0, result.output
    assert "Ten opzichte van vorig jaar: 1 verbeterd" in result.output  # rood -> oranje


def test_a_bad_rules_file_stops_before_reading_with_exit_3(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    rules = tmp_path / "regels.toml"
    rules.write_text('[[regel]]\nid = "KV77"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--regels", str(rules)])
    assert result.exit_code == 3
    assert "onbekende regel ‘KV77’" in result.output
    assert not (tmp_path / "uit").exists()


def test_output_is_the_same_for_any_number_of_jobs(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for n in range(40):  # enough work for the pool to be used
        fill(blank_form, inbox / f"opgave{n:02d}.xlsx",
             {**BASE, "aanbieder_naam": f"Aanbieder {n}", "contractnummer": f"C-{n}", "medewerkers_getraind": 10 + n})
    runner = CliRunner()
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"uit{jobs}"
        assert runner.invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--jobs", str(jobs)]).exit_code == 0
        outputs[jobs] = out
    assert (outputs[1] / "bevindingen.csv").read_bytes() == (outputs[2] / "bevindingen.csv").read_bytes()
    names = sorted(p.name for p in (outputs[1] / "accountgesprek").iterdir())
    assert names == sorted(p.name for p in (outputs[2] / "accountgesprek").iterdir())
    assert len(names) == 40
    def cells(book, sheet):  # the two runs may straddle a minute: the run time may differ
        return [[re.sub(r"\d{1,2}-\d{1,2}-\d{4} \d{2}:\d{2}", "<tijd>", c.value) if isinstance(c.value, str) else c.value
                 for c in row] for row in book[sheet].iter_rows()]

    for name in names:
        one = openpyxl.load_workbook(outputs[1] / "accountgesprek" / name)
        two = openpyxl.load_workbook(outputs[2] / "accountgesprek" / name)
        for sheet in one.sheetnames:
            assert cells(one, sheet) == cells(two, sheet)


def test_an_output_folder_inside_the_inbox_is_not_read_as_returns(tmp_path, blank_form):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["audit", str(inbox), "-o", str(inbox / "uitvoer"), "--stil"])
        assert result.exit_code == 0, result.output
        assert "1 opgave gecontroleerd, 0 bestanden niet verwerkt" in result.output


@pytest.mark.parametrize("folders", [(), ("2025",), ("regio noord/leeg", "regio zuid")], ids=["leeg", "lege-map", "lege-mappen"])
def test_an_inbox_with_no_file_in_any_folder_is_said_to_hold_nothing_to_check(tmp_path, folders):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for folder in folders:  # folders made for the returns, none put in yet
        (inbox / folder).mkdir(parents=True)
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uitvoer"), "--stil"])
    assert result.exit_code == 0, result.output
    assert f"Let op: in {inbox} staan geen bestanden om te controleren." in result.output
    assert result.output.count("Een lege map; er staat niets in om te controleren.") == len(folders)


def test_audit_year_is_the_majority_and_a_typo_in_the_future_does_not_win():
    import pandas as pd

    from kvcompliance.audit import choose_year

    frame = pd.DataFrame({"verslagjaar": pd.array([2025, 2025, 2024], dtype="Int64")})
    assert choose_year(frame, None) == (2025, "het verslagjaar dat de meeste opgaven noemen (2 van de 3 opgaven)", "")
    tie = pd.DataFrame({"verslagjaar": pd.array([2024, 2025, 2052], dtype="Int64")})
    year, _, warning = choose_year(tie, None)
    assert year == 2025
    assert "geen duidelijke meerderheid" in warning


def test_a_given_audit_year_that_few_returns_state_is_said_loudly():
    import pandas as pd

    from kvcompliance.audit import choose_year

    frame = pd.DataFrame({"verslagjaar": pd.array([2025, 2025, 2024], dtype="Int64")})
    rule = "KV92 (verslagjaar)"
    assert choose_year(frame, 2025, year_rule=rule) == (2025, "opgegeven met --jaar", "")
    year, source, warning = choose_year(frame, 2024, year_rule=rule)
    assert (year, source) == (2024, "opgegeven met --jaar")
    assert warning.startswith("LET OP: maar 1 van de 3 opgaven gaat over 2024. De andere worden grijs op KV92")
    assert choose_year(frame, 2030, year_rule=rule)[2].startswith("LET OP: geen van de 3 opgaven gaat over 2030. Die worden alle grijs")
    one = pd.DataFrame({"verslagjaar": pd.array([2025], dtype="Int64")})
    assert choose_year(one, 2030, year_rule=rule)[2].startswith("LET OP: de enige opgave gaat niet over 2030. Die wordt grijs op KV92")
    # a region that switched the year rule off: still warned, but nothing said about grijs
    assert choose_year(frame, 2024)[2] == "LET OP: maar 1 van de 3 opgaven gaat over 2024. Klopt het controlejaar 2024 (opgegeven met --jaar)?"


def test_a_file_that_kills_the_reader_is_listed_and_the_others_are_audited(tmp_path, blank_form, monkeypatch):
    import os

    from kvcompliance.audit import run_audit
    from kvcompliance.ingest import worker

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for n in range(3):
        fill(blank_form, inbox / f"opgave{n}.xlsx", {**BASE, "contractnummer": f"C-{n}"})
    real = worker.read_return

    def abort_on_one(path, *args):
        if path.name == "opgave1.xlsx":
            os._exit(134)  # like a native library aborting
        return real(path, *args)

    monkeypatch.setattr(worker, "read_return", abort_on_one)  # worker processes are forked
    result = run_audit(inbox, jobs=1)
    assert [r.source.path for r in result.returns] == ["opgave0.xlsx", "opgave2.xlsx"]
    assert [(r.source.path, r.kind) for r in result.rejected] == [("opgave1.xlsx", "onleesbaar")]
    assert "vastliep" in result.rejected[0].reason


def test_the_program_exits_with_its_code_and_all_output_written(tmp_path):
    """`kvcompliance` (python -m kvcompliance) ends without tearing the interpreter down:
    its printed summary, its files and its exit code are all there, also through a pipe;
    a usage error still says what is wrong, with exit code 2."""
    import shutil
    import subprocess
    import sys

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for name in ("01_stichting-jeugdhulp-de-kern.xlsx", "02_horizon-jeugdzorg-b-v.xlsx"):
        shutil.copy(Path(__file__).parent.parent / "sample_workbooks" / name, inbox / name)
    (inbox / "notitie.txt").write_text("geen opgave")
    out = tmp_path / "uitvoer"
    done = subprocess.run(
        [sys.executable, "-m", "kvcompliance", "audit", str(inbox), "-o", str(out), "--stil"], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr  # one file not processed
    assert "2 opgaven gecontroleerd, 1 bestand niet verwerkt." in done.stdout
    assert "Verzendlijst en verwerkingslog:" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("Werkboeken versturen: kvcompliance verzend")  # the last line too
    assert len(list((out / "accountgesprek").glob("*.xlsx"))) == 2
    assert len((out / "verwerking.jsonl").read_text().splitlines()) == 3
    openpyxl.load_workbook(out / "overzicht.xlsx")

    usage = subprocess.run([sys.executable, "-m", "kvcompliance", "audit", str(tmp_path / "bestaat-niet")], capture_output=True, text=True)
    assert usage.returncode == 2 and "bestaat niet" in usage.stderr


def test_the_same_file_twice_is_a_duplicate_and_an_older_version_is_replaced(tmp_path, blank_form):
    import os
    import shutil

    from kvcompliance.audit import run_audit

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "a.xlsx", BASE)
    shutil.copy(inbox / "a.xlsx", inbox / "a (kopie).xlsx")
    fill(blank_form, inbox / "b-oud.xlsx", {**BASE, "contractnummer": "B-1", "medewerkers_getraind": 10})
    fill(blank_form, inbox / "b-nieuw.xlsx", {**BASE, "contractnummer": "B-1"})
    os.utime(inbox / "b-oud.xlsx", (1_600_000_000, 1_600_000_000))
    result = run_audit(inbox, year=2025)
    kinds = {r.source.path: r.kind for r in result.rejected}
    assert len(result.returns) == 2
    assert kinds["b-oud.xlsx"] == "vervangen"
    assert set(kinds.values()) == {"dubbel", "vervangen"}
    duplicate = next(r for r in result.rejected if r.kind == "dubbel")
    assert duplicate.reason.startswith("Dit bestand is gelijk aan a")


def test_last_years_return_beside_this_years_for_the_same_contract_is_set_aside(tmp_path, blank_form):
    """Last year's file left in the folder (or sent again) next to this year's return for the
    same contract: only this year's is judged, so no second, grijs return (KV92) is listed,
    stored or reminded. A return over another year for a contract without one over the audit
    year stays, grijs on KV92."""
    from kvcompliance.audit import run_audit

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "a-2026.xlsx", {**BASE, "verslagjaar": 2026})
    fill(blank_form, inbox / "a-2025.xlsx", BASE)
    fill(blank_form, inbox / "b-2025.xlsx", {**BASE, "contractnummer": "B-1"})
    result = run_audit(inbox, year=2026)
    assert sorted(r.source.path for r in result.returns) == ["a-2026.xlsx", "b-2025.xlsx"]
    (other,) = result.rejected
    assert other.source.path == "a-2025.xlsx" and other.kind == "ander jaar"
    assert other.reason == ("Deze opgave gaat over 2025; voor hetzelfde contract is de opgave over het controlejaar 2026"
                            " beoordeeld: a-2026.xlsx.")
    kept = next(r for r in result.returns if r.source.path == "a-2026.xlsx")
    assert any("ook een opgave over 2025 binnen (a-2025.xlsx)" in note for note in kept.notes)
    b = next(r.return_id for r in result.returns if r.source.path == "b-2025.xlsx")
    assert next(f for f in result.findings_for(b) if f.rule_id == "KV92").status == Status.GRIJS


def test_the_audit_year_warning_does_not_count_the_returns_set_aside_as_another_years(tmp_path, blank_form):
    """Last year's and the year before's files left beside this year's return for the same
    contract are set aside, not judged: the warning that most returns are grijs on KV92
    (verslagjaar) must not count them. A return over another year that is judged is counted."""
    from kvcompliance.audit import run_audit

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for year in (2024, 2025, 2026):
        fill(blank_form, inbox / f"a-{year}.xlsx", {**BASE, "verslagjaar": year})
    result = run_audit(inbox, year=2026)
    assert [r.source.path for r in result.returns] == ["a-2026.xlsx"] and len(result.rejected) == 2
    assert result.audit_year_warning == ""
    fill(blank_form, inbox / "b-2025.xlsx", {**BASE, "contractnummer": "B-1", "verslagjaar": 2025})
    fill(blank_form, inbox / "c-2025.xlsx", {**BASE, "contractnummer": "C-1", "verslagjaar": 2025})
    result = run_audit(inbox, year=2026)
    assert result.audit_year_warning.startswith("LET OP: maar 1 van de 3 opgaven gaat over 2026. De andere worden grijs")


def test_a_file_name_that_is_not_utf8_is_read_and_reported_never_fatal(tmp_path, blank_form):
    """Undecodable bytes are shown escaped: two such files stay two names wherever the
    officer reads them (terminal, log, overview), in plain ASCII."""
    import os

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    name = os.fsdecode(b"opgave-\xff\xfe.xlsx")  # bytes no UTF-8 decoder accepts
    fill(blank_form, inbox / name, BASE)
    (inbox / os.fsdecode(b"notitie-\xe9.txt")).write_bytes(b"geen opgave")
    (inbox / os.fsdecode(b"notitie-\xe8.txt")).write_bytes(b"ook geen opgave")
    out = tmp_path / "uit"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--jaar", "2025"])
    assert result.exit_code == 1, result.output  # the notes are not returns
    assert "1 opgave gecontroleerd, 2 bestanden niet verwerkt" in result.output
    assert "notitie-\\xe9.txt" in result.output and "notitie-\\xe8.txt" in result.output
    shown = ["notitie-\\xe8.txt", "notitie-\\xe9.txt", "opgave-\\xff\\xfe.xlsx"]
    log = [json.loads(line) for line in (out / "verwerking.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(entry["bestand"] for entry in log) == shown
    book = openpyxl.load_workbook(out / "overzicht.xlsx")
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert set(shown) <= cells
    assert (inbox / name).exists()


def test_without_a_usable_return_no_path_is_printed_that_is_not_there(tmp_path, blank_form):
    """A run with only unusable files replaces an earlier run's workbooks by none: the
    summary must not name an accountgesprek folder that no longer exists."""
    inbox, out = tmp_path / "opgaven", tmp_path / "uitvoer"
    inbox.mkdir()
    fill(blank_form, inbox / "goed.xlsx", BASE)
    runner = CliRunner()
    assert runner.invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"]).exit_code == 0
    (inbox / "goed.xlsx").unlink()
    (inbox / "kapot.xlsx").write_bytes(b"PK\x03\x04 geen werkmap")
    result = runner.invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--jobs", "2"])
    assert result.exit_code == 1, result.output
    assert "Werkboeken:  geen" in result.output
    for line in result.output.splitlines():
        for prefix in ("Overzicht:", "Bevindingen:", "Werkboeken:"):
            if line.startswith(prefix) and "geen" not in line:
                assert Path(line.split(":", 1)[1].strip().split(" (")[0]).exists(), line


def test_the_year_warning_names_the_year_rule_of_the_catalogue_in_use(tmp_path):
    from kvcompliance.audit import run_audit

    samples = Path(__file__).resolve().parent.parent / "sample_workbooks"
    result = run_audit(samples, year=2030)
    assert "Die worden alle grijs op KV92 (verslagjaar)." in result.audit_year_warning
    rules = tmp_path / "regels.toml"
    rules.write_text('[[regel]]\nid = "KV92"\nactief = false\n', encoding="utf-8")
    switched_off = run_audit(samples, year=2030, rules_file=str(rules))
    assert switched_off.audit_year_warning.startswith("LET OP: geen van de 19 opgaven gaat over 2030.")
    assert "grijs" not in switched_off.audit_year_warning
