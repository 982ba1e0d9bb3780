"""The sample returns audited end to end, and the workbooks read back as the provider
(its accountgesprek workbook) and the officer (the overview) read them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kvcompliance.catalogue import load_catalogue
from kvcompliance.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workbooks"


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("opgaven")
    for path in SAMPLES.glob("*.xlsx"):
        shutil.copy(path, inbox / path.name)
    out = tmp_path_factory.mktemp("run") / "uitvoer"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil"])
    assert result.exit_code in (0, 1), result.output  # 1: the sample inbox holds one file that is no return
    return out


def provider_books(out: Path) -> list[tuple[str, openpyxl.Workbook]]:
    return [(p.name, openpyxl.load_workbook(p)) for p in sorted((out / "accountgesprek").glob("*.xlsx"))]


def table(ws, first: str = "Regel") -> tuple[list[str], list[tuple]]:
    """(headers, rows) of the table whose header row starts with ``first``."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == first)
    headers = [h for h in rows[start] if h is not None]
    body = []
    for row in rows[start + 1:]:
        if not row or row[0] is None:
            break
        body.append(row)
    return headers, body


def test_an_estimated_kv10_expectation_is_not_credited_to_the_gemeente(audited):
    catalogue = load_catalogue()
    seen = 0
    for name, book in provider_books(audited):
        headers, rows = table(book["Samenvatting"])
        for row in rows:
            if row[0] != "KV10" or "schatting" not in (row[headers.index("Toelichting")] or ""):
                continue
            seen += 1
            assert row[headers.index("Herkomst norm")] == catalogue.texts["standaardnorm"], name
            assert "gemeente" not in row[headers.index("Toelichting")], name
    assert seen >= 5


def test_the_normen_sheet_names_each_sectors_law_and_no_sheet_that_is_not_there(audited):
    catalogue = load_catalogue()
    books = provider_books(audited)[:2] + [("overzicht.xlsx", openpyxl.load_workbook(audited / "overzicht.xlsx"))]
    for name, book in books:
        headers, rows = table(book["Normen"])
        kv01 = next(r for r in rows if r[0] == "KV01")
        basis = kv01[headers.index("Grondslag")]
        for sector in catalogue.sectors:
            if sector.legal_basis:
                assert sector.legal_basis in basis, (name, sector.key)
        for ws in book.worksheets:
            for row in ws.iter_rows(values_only=True):
                for value in row:
                    for tab in re.findall(r"\bzie (?:tabblad )?([A-Z][\w ]*?)[).,]", str(value or "")):
                        assert tab in book.sheetnames, (name, ws.title, value)


def test_the_call_list_fits_every_sector_name_on_one_line(audited):
    """A long sector name ('Jeugdgezondheidszorg') was broken in two in the Bellijst."""
    ws = openpyxl.load_workbook(audited / "overzicht.xlsx")["Bellijst"]
    headers, rows = table(ws, "Rang")
    width = next(d.width for d in ws.column_dimensions.values() if d.min <= headers.index("Sector") + 1 <= d.max)
    shown = {row[headers.index("Sector")] for row in rows}
    assert "Jeugdgezondheidszorg" in shown
    assert width >= max(len(s.label) for s in load_catalogue().sectors) + 1


def test_the_overviews_normen_sheet_does_not_address_the_officer_as_a_provider(audited):
    """The Normen sheet is shared by both workbooks; 'uw sector' misaddressed the officer."""
    ws = openpyxl.load_workbook(audited / "overzicht.xlsx")["Normen"]
    intro = ws["A2"].value
    assert intro.startswith("Zo is elke opgave beoordeeld.") and "n.v.t." in intro
    assert "uw " not in intro


def test_kv91_shows_the_identification_the_provider_typed_including_what_is_wrong(audited):
    """KV91 grijs for a malformed e-mail address showed only the (valid) KvK-nummer as 'Uw waarde'."""
    books = dict(provider_books(audited))
    name = next(n for n in books if n.startswith("2025_Zorgboerderij"))
    headers, rows = table(books[name]["Samenvatting"])
    kv91 = next(r for r in rows if r[0] == "KV91")
    assert kv91[headers.index("Status")] == "Grijs"
    assert "info@zorgboerderij-terf" in kv91[headers.index("Toelichting")]
    assert "info@zorgboerderij-terf" in kv91[headers.index("Uw waarde")]
    assert "68447054" in kv91[headers.index("Uw waarde")]
