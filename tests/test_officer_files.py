"""The officer's CSV files and how the overview is built: exactly what Python's csv module
would write, the findings table built once, the cycle collector left as it was."""

from __future__ import annotations

import dataclasses
import csv
import io
import random

from conftest import make_result

from kvcompliance.register import Contract, RegisterMatch
from kvcompliance.report import FINDINGS_COLUMNS, findings_rows, write_findings_csv
from kvcompliance.report.csvout import findings_table, guard_formula, write_csv
from kvcompliance.report.logbook import MAILING_COLUMNS, write_mailing_list


def as_csv_module_writes(header, rows) -> bytes:
    """The reference: Python's csv module with the dialect of these files."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([guard_formula(text) for text in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def test_write_csv_quotes_exactly_like_the_csv_module(tmp_path):
    pieces = ["a", " ", ";", '"', "\r", "\n", "\t", "\x00", "'", "=", "+", "-", "@", "é", "€", ",", "\\", "\x0b", "\u2028", "\x85"]
    rng = random.Random(5)
    rows = [
        ["".join(rng.choice(pieces) for _ in range(rng.randrange(6))) for _ in range(rng.choice((1, 2, 4)))]
        for _ in range(5000)
    ]
    rows += [[""], ["", ""], [" "], [], ['=HYPERLINK("http://x";"y")', "+31 6", "a;b", 'zei "ja"']]
    write_csv(tmp_path / "x.csv", ("kolom", "nog een"), rows)
    assert (tmp_path / "x.csv").read_bytes() == as_csv_module_writes(("kolom", "nog een"), rows)


def test_findings_csv_is_the_findings_table_as_the_csv_module_writes_it(tmp_path):
    result = make_result(
        {"aanbieder_naam": '=Stichting "Alfa"; zorg', "statuses": {}},
        {"aanbieder_naam": "Stichting Beta", "contractnummer": "-B-2"},
    )
    write_findings_csv(result, tmp_path / "b.csv")
    rows = [[row.cells[name] for name in FINDINGS_COLUMNS] for row in findings_rows(result)]
    assert (tmp_path / "b.csv").read_bytes() == as_csv_module_writes(FINDINGS_COLUMNS, rows)


def test_mailing_list_guards_quotes_takes_the_register_address_first_and_lists_missing_contracts(tmp_path):
    from kvcompliance.mail.mailinglist import read_mailing_list
    from kvcompliance.normalise import identities

    result = make_result(
        {"aanbieder_naam": '=Zorg "Anders"; BV', "contractnummer": "A-1", "kvk_nummer": "11111111", "contact_naam": "+31 Jan"},
        {"aanbieder_naam": "Stichting Beta", "contractnummer": "B-2", "kvk_nummer": "22222222", "contact_email": "oud@beta.nl"},
    )
    match = RegisterMatch(
        matched={"R0002": Contract(3, "B-2", "Stichting Beta", "22222222", "jeugdhulp", "info@beta.nl")},
        unmatched=["R0001"],
        kvk_differs=set(),
        missing=[Contract(4, "C-3", "Stichting Gamma", "33333333", "wmo", "INFO@beta.nl")],
    )
    result = dataclasses.replace(result, register=match, identities=identities(result.returns, result.frame, result.catalogue, match))
    write_mailing_list(result, tmp_path / "verzendlijst.csv", {"R0001": "a.xlsx", "R0002": "b.xlsx"}, "accountgesprek")
    text = (tmp_path / "verzendlijst.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(MAILING_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows[0]["aanbieder"] == "'" + '=Zorg "Anders"; BV' and rows[0]["werkboek"] == "accountgesprek/a.xlsx"
    assert rows[0]["contactpersoon"] == "'+31 Jan" and rows[0]["adrescontrole"] == "geldig"
    assert rows[1]["contact_email"] == "info@beta.nl"  # the register's address, not the form's
    assert rows[1]["adrescontrole"] == "gedeeld met Stichting Gamma (KvK 33333333)"
    assert (rows[2]["aanbieder"], rows[2]["werkboek"], rows[2]["aan_te_vullen"]) == ("Stichting Gamma", "", "er is geen opgave ontvangen")
    assert rows[2]["adrescontrole"] == "gedeeld met Stichting Beta (KvK 22222222)"
    back = read_mailing_list(tmp_path)  # what verzend reads: the texts as they were, without the guard
    assert [r.provider for r in back] == ['=Zorg "Anders"; BV', "Stichting Beta", "Stichting Gamma"]
    assert back[0].contact == "+31 Jan" and back[1].contract == "B-2" and not back[2].has_return


def test_the_findings_table_holds_the_findings_rows():
    result = make_result({}, {"aanbieder_naam": "Stichting Beta"})
    table = findings_table(result)
    assert table.rows == [tuple(row.cells[name] for name in FINDINGS_COLUMNS) for row in findings_rows(result)]
    assert table.statuses == [row.status for row in findings_rows(result)]
    fewer = dataclasses.replace(result, findings=result.findings[:3])
    assert len(findings_table(fewer).rows) == 3
