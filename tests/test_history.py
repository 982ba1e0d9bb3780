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
