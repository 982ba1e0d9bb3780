"""Year-on-year follow-up (--vorige)."""

from __future__ import annotations

import pytest

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.errors import KvError
from kvcompliance.history import IMPROVED, NEW, NOT_COMPARABLE, SAME, WORSENED, compare, load_previous, trend_of
from kvcompliance.normalise import typed_frame
from kvcompliance.validate import evaluate
from tests.test_audit import blank_form  # noqa: F401 - the fixture is used by name
from tests.test_validate import BASE, _records


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (Status.ROOD, Status.ORANJE, IMPROVED),
        (Status.ORANJE, Status.GROEN, IMPROVED),
        (Status.GROEN, Status.ORANJE, WORSENED),
        (Status.ORANJE, Status.ROOD, WORSENED),
        (Status.ORANJE, Status.ORANJE, SAME),
        (Status.GRIJS, Status.ROOD, NOT_COMPARABLE),
        (Status.NVT, Status.GROEN, NOT_COMPARABLE),
        (Status.NVT, Status.NVT, SAME),  # did not apply in either year: nothing changed
        (None, Status.GROEN, NEW),
    ],
)
def test_trend(before, now, expected):
    assert trend_of(before, now) == expected


def test_previous_findings_csv_is_matched_by_kvk_and_contract(tmp_path):
    (tmp_path / "bevindingen.csv").write_text(
        "aanbieder;kvk_nummer;contractnummer;regel;omschrijving;status;waarde;norm;toelichting;bestand\n"
        "Stichting Voorbeeld;12345678;JH-2025-001;KV07;x;Groen;;;;a.xlsx\n"
        "Stichting Voorbeeld;12345678;JH-2025-001;KV09;x;Rood;;;;a.xlsx\n"
        "Stichting Voorbeeld;12345678;JH-2025-001;KV04;x;n.v.t.;;;;a.xlsx\n",
        encoding="utf-8-sig",
    )
    catalogue = load_catalogue()
    previous = load_previous(tmp_path, catalogue)
    rows = [
        {**BASE, "medewerkers_getraind": 30, "intervisie_bijeenkomsten": 6},  # KV07 worse, KV09 better
        {**BASE, "kvk_nummer": "99999999"},  # no previous return
    ]
    frame, issues = typed_frame(_records(rows), catalogue)
    evaluation = evaluate(frame, issues, catalogue, 2025)
    trends = compare(frame, evaluation.statuses, evaluation.overall, previous)
    first = trends["R0000"]
    assert first.previous_overall == Status.ROOD
    assert first.overall == IMPROVED  # rood -> oranje
    assert first.rules["KV07"] == (Status.GROEN, WORSENED)
    assert first.rules["KV09"] == (Status.ROOD, IMPROVED)
    assert first.rules["KV01"] == (None, NEW)
    assert trends["R0001"].overall == NEW


def test_a_folder_without_findings_is_refused(tmp_path):
    with pytest.raises(KvError, match="geen bevindingen.csv"):
        load_previous(tmp_path, load_catalogue())


def test_findings_with_answers_of_any_length_and_any_line_break_are_read_back(tmp_path):
    """This year's findings, written by the real writer, are next year's --vorige: answers
    of hundreds of thousands of characters, with Word's line breaks (vertical tab), U+2028,
    NEL, quotes and semicolons in them, must not cut a row or stop the reading."""
    from conftest import make_result

    from kvcompliance.report.csvout import write_findings_csv

    answer = 'Een lang antwoord\x0bmet een regeleinde uit Word\u2028en\x85meer; "citaat"\x0c\r\n' * 4000
    assert len(answer) > 250_000
    result = make_result(
        {"aanbieder_naam": answer, "statuses": {"KV07": Status.ROOD}},
        {"kvk_nummer": "87654321", "contractnummer": "X-2", "statuses": {"KV09": Status.ORANJE}},
    )
    write_findings_csv(result, tmp_path / "bevindingen.csv")
    previous = load_previous(tmp_path, load_catalogue())
    assert set(previous) == {("12345678", "JH-2025-001"), ("87654321", "X-2")}
    assert previous[("12345678", "JH-2025-001")].statuses["KV07"] == Status.ROOD
    assert previous[("12345678", "JH-2025-001")].statuses["KV09"] == Status.GROEN
    assert previous[("87654321", "X-2")].statuses["KV09"] == Status.ORANJE
    assert previous[("87654321", "X-2")].overall == Status.ORANJE


def test_a_previous_findings_file_that_is_too_big_or_not_findings_is_refused_in_dutch(tmp_path, monkeypatch):
    from kvcompliance import history

    path = tmp_path / "bevindingen.csv"
    path.write_text("kvk_nummer;contractnummer;regel;status\n" + "12345678;C-1;KV01;Groen\n" * 100, encoding="utf-8-sig")
    monkeypatch.setattr(history, "FINDINGS_MAX_BYTES", 1000)
    with pytest.raises(KvError, match=r"te groot voor een bevindingenbestand \(0 MB; de grens is 0 MB\)"):
        load_previous(tmp_path, load_catalogue())
    monkeypatch.undo()
    path.write_text("aanbieder;kvk_nummer;status\nCafé;12345678;Groen\n", encoding="utf-8-sig")
    with pytest.raises(KvError, match=r"heeft niet de kolommen van een bevindingenbestand \(contractnummer, kvk_nummer"):
        load_previous(tmp_path, load_catalogue())


def test_findings_saved_again_by_excel_as_windows_1252_are_read(tmp_path):
    (tmp_path / "bevindingen.csv").write_bytes(
        "aanbieder;kvk_nummer;contractnummer;regel;status\r\nCafé Één;'12345678;JH-1;KV01;Rood\r\n".encode("cp1252")
    )
    assert load_previous(tmp_path, load_catalogue())[("12345678", "JH-1")].statuses == {"KV01": Status.ROOD}


def test_vorige_reads_the_previous_folder_as_its_last_audit_left_it(tmp_path, blank_form):  # noqa: F811
    """--vorige holds the previous output folder while reading it, as verzend does: an audit
    running there refuses the new one in Dutch, and a swap an audit died in is put back
    before its findings are read (not the half-swapped-in findings of the dead run)."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from kvcompliance.cli import main
    from kvcompliance.history import PREVIOUS_READER
    from kvcompliance.outputs import JOURNAL_FILE, OutputFolder, settled_output
    from tests.test_audit import fill
    from tests.test_outputs import CRASHING_SWAP, ROOT

    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "o.xlsx", BASE)
    before, after = tmp_path / "uitvoer-2024", tmp_path / "uitvoer-2025"

    def audit(out, previous):
        return CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--vorige", str(previous), "--stil"])

    assert CliRunner().invoke(main, ["audit", str(inbox), "-o", str(before), "--stil"]).exit_code == 0
    findings = (before / "bevindingen.csv").read_bytes()
    with OutputFolder(before):  # an audit is writing into last year's folder
        busy = audit(after, before)
    assert busy.exit_code == 3 and f"In de uitvoermap {before} loopt al een controle" in busy.output, busy.output
    with settled_output(before, PREVIOUS_READER):  # and the other way round: it is being read as --vorige
        refused = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(before), "--stil"])
    assert refused.exit_code == 3 and "loopt al een controle die deze map als vorige controle (--vorige) leest" in refused.output

    # an audit into last year's folder dies (kill -9) with its own findings moved in, its manifest not yet:
    # out go the manifest, the workbook and the 4 files of the run (6 renames), in comes bevindingen.csv (7)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(before), "8", "bevindingen.csv"], capture_output=True,
                             text=True, cwd=ROOT)
    assert crashed.returncode == 9 and (before / JOURNAL_FILE).exists()
    assert (before / "bevindingen.csv").read_text() == "nieuw bevindingen.csv"
    result = audit(after, before)
    assert result.exit_code == 0, result.output
    assert "Ten opzichte van vorig jaar: 0 verbeterd, 0 verslechterd, 1 gelijk" in result.output
    assert not (before / JOURNAL_FILE).exists() and (before / "bevindingen.csv").read_bytes() == findings
    # the same folder as output and as --vorige: this run holds it already, and reads it before replacing it
    again = audit(before, before)
    assert again.exit_code == 0 and "1 gelijk" in again.output, again.output
