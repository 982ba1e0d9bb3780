"""Year-on-year follow-up (--vorige)."""

from __future__ import annotations

import pytest

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.errors import KvError
from kvcompliance.history import IMPROVED, NEW, NOT_COMPARABLE, SAME, WORSENED, compare, load_previous, trend_of
from kvcompliance.normalise import typed_frame
from kvcompliance.validate import evaluate
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
