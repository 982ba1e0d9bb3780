"""Verdicts a gemeente can defend (DOMAIN §5 version 2), read back as a provider and an
officer see them: forms filled in like a provider would, audited into workbooks."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from kvcompliance.audit import run_audit, write_reports
from kvcompliance.catalogue import Status
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_validate import BASE


def _audit(tmp_path: Path, form: Path, returns: dict[str, dict], register: str | None = None, rules: str | None = None):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for name, changes in returns.items():
        fill(form, inbox / f"{name}.xlsx", {**BASE, **changes})
    register_file = None
    if register is not None:
        register_file = tmp_path / "contracten.csv"
        register_file.write_text(register, encoding="utf-8")
    rules_file = None
    if rules is not None:
        rules_file = tmp_path / "regels.toml"
        rules_file.write_text(rules, encoding="utf-8")
    result = run_audit(inbox, year=2025, register_file=register_file, rules_file=rules_file)
    reports = write_reports(result, tmp_path / "uit")
    return result, reports


def _finding(result, name: str, rule_id: str):
    record = next(r for r in result.returns if r.source.path == f"{name}.xlsx")
    return next(f for f in result.findings_for(record.return_id) if f.rule_id == rule_id)


def _book(reports, result, name: str):
    record = next(r for r in result.returns if r.source.path == f"{name}.xlsx")
    return openpyxl.load_workbook(reports.out_dir / "accountgesprek" / reports.provider_files[record.return_id])


def _cells(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.fixture(scope="module")
def audited(tmp_path_factory, blank_form):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("verdicts")
    returns = {
        "kinderopvang": {"aanbieder_naam": "Kinderopvang Zonder", "kvk_nummer": "11110000", "contractnummer": "KO-1",
                          "sector": "kinderopvang", "meldcode_aanwezig": "nee", "meldcode_afwegingskader": None,
                          "keurmerk_meldcode": "ja", "clienten_volwassen": 0},
        "sport": {"aanbieder_naam": "SV Bal", "kvk_nummer": "22220000", "contractnummer": "SP-1", "sector": "sport",
                  "meldcode_aanwezig": "nee", "meldcode_afwegingskader": None, "keurmerk_meldcode": "nee",
                  "medewerkers_getraind": 0, "clienten_volwassen": 0},
        "rommelig": {"aanbieder_naam": "Rommelig", "kvk_nummer": "33330000", "contractnummer": "R-1",
                     "fte": "ca. 20", "contact_email": "info@rommelig", "af_aantal": 1, "meldingen_veilig_thuis": 1,
                     "adviesvragen_veilig_thuis": 0, "signalen_verwijsindex": 0, "clienten_minderjarig": 100},
        "afgerond": {"aanbieder_naam": "Afgerond", "kvk_nummer": "44440000", "contractnummer": "A-1",
                     "medewerkers": 900, "medewerkers_getraind": 850, "fte": "800,5", "trainingsuren": 1600,
                     "af_uren_per_week": 20},
    }
    return _audit(tmp_path, blank_form, returns)


def test_a_statutory_failure_reaches_the_officer_for_the_supervisor_and_never_the_provider(audited):
    result, reports = audited
    ws = openpyxl.load_workbook(reports.overview)["Toezicht"]
    text = _cells(ws)
    assert "Kinderopvang Zonder" in text and "GGD (namens de gemeente)" in text
    assert "KV01 Meldcode vastgesteld" in text
    assert "SV Bal" not in text  # a sports club's meldcode is a contract condition: no supervisor
    for name in ("kinderopvang", "sport"):
        book = _book(reports, result, name)
        assert "Toezicht" not in book.sheetnames
        assert not any("toezichthouder" in value.lower() or "GGD" in value for s in book.worksheets for value in _cells(s))


def test_the_supervisor_sheet_names_the_rules_the_catalogue_marks_for_it(audited, tmp_path, blank_form):  # noqa: F811
    intro = openpyxl.load_workbook(audited[1].overview)["Toezicht"]["A2"].value
    assert "bij wie een van deze regels rood is: KV01 Meldcode vastgesteld, KV02 Afwegingskader in de meldcode;" in intro
    # a region that switched KV02 off: the sheet names only the rule that still counts
    returns = {"kinderopvang": {"aanbieder_naam": "Kinderopvang Zonder", "kvk_nummer": "11110000", "sector": "kinderopvang",
                                "meldcode_aanwezig": "nee", "meldcode_afwegingskader": None}}
    result, reports = _audit(tmp_path, blank_form, returns, rules='[[regel]]\nid = "KV02"\nactief = false\n')
    sheet = openpyxl.load_workbook(reports.overview)["Toezicht"]
    assert "bij wie deze regel rood is: KV01 Meldcode vastgesteld;" in sheet["A2"].value and "KV02" not in sheet["A2"].value
    assert "KV01 Meldcode vastgesteld" in _cells(sheet)


def test_addresses_are_still_checked_when_own_rules_drop_the_e_mail_pattern(tmp_path, blank_form):  # noqa: F811
    # a region's KV91 without the e-mail norm: the audit used to stop with an unexpected error
    rules = """[[regel]]
id = "KV91"
norm_vervangen = true

[[regel.norm]]
status = "grijs"
kolom = "kvk_nummer"
niet_patroon = "^[0-9]{8}$"
"""
    returns = {"goed": {"aanbieder_naam": "Goed", "kvk_nummer": "11110000", "contact_email": "a@goed.nl"},
               "fout": {"aanbieder_naam": "Fout", "kvk_nummer": "22220000", "contact_email": "info@fout"}}
    result, reports = _audit(tmp_path, blank_form, returns, rules=rules)
    assert _finding(result, "fout", "KV91").status == Status.GROEN  # the region no longer checks addresses
    rows = list(csv.DictReader((reports.out_dir / "verzendlijst.csv").open(encoding="utf-8-sig"), delimiter=";"))
    assert {r["aanbieder"]: r["adrescontrole"] for r in rows} == {"Goed": "geldig", "Fout": "ongeldig"}


def test_wettelijk_only_where_the_sector_makes_it_so(audited):
    result, _ = audited
    childcare, sport = _finding(result, "kinderopvang", "KV01"), _finding(result, "sport", "KV01")
    assert childcare.status == sport.status == Status.ROOD
    assert "wettelijk verplicht (Wet kinderopvang art. 1.51a)" in childcare.message
    assert childcare.basis == "Wettelijke plicht: Wet kinderopvang art. 1.51a."
    assert "wettelijk" not in sport.message and "een voorwaarde in uw contract of subsidie" in sport.message
    assert sport.basis.startswith("Contract- of subsidievoorwaarde")


def test_contradictions_are_listed(audited):
    result, _ = audited
    finding = _finding(result, "kinderopvang", "KV93")
    assert finding.status == Status.ORANJE
    assert "er is geen meldcode vastgesteld, maar wel het Keurmerk Meldcode" in finding.message
    assert finding.value == "2 tegenstrijdigheden"  # also all 45 staff trained in it


def test_what_the_provider_typed_is_shown_when_it_was_not_understood(audited):
    result, reports = audited
    kv08 = _finding(result, "rommelig", "KV08")
    assert kv08.status == Status.GRIJS and kv08.value.startswith("trainingsuren: 120; fte: ‘ca. 20’")
    assert "‘ca. 20’ is geen getal" in kv08.message
    ws = _book(reports, result, "rommelig")["Samenvatting"]
    assert any("ca. 20" in value for value in _cells(ws))


def test_one_agenda_point_per_missing_field_however_many_rules_need_it(audited):
    result, reports = audited
    ws = _book(reports, result, "rommelig")["Samenvatting"]
    topics = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    fte = [t for t in topics if t and "Aantal fte" in t]
    assert fte == ["‘Aantal fte van deze medewerkers’ (nodig voor KV08, KV90)"]


def test_kv91_names_only_what_is_wrong(audited):
    result, _ = audited
    finding = _finding(result, "rommelig", "KV91")
    assert finding.message == "Niet te gebruiken: ‘info@rommelig’ is geen geldig e-mailadres."
    assert "KvK" not in finding.message and finding.fields == ("contact_email",)


def test_counts_take_the_right_word(audited):
    result, _ = audited
    assert _finding(result, "rommelig", "KV05").message == "De organisatie heeft 1 aandachtsfunctionaris."
    kv10 = _finding(result, "rommelig", "KV10")
    assert kv10.message.startswith("1 signaal (") and kv10.value == "1 signaal (verwacht: 1,5)"


def test_no_rounding_makes_a_verdict_look_wrong(audited):
    result, _ = audited
    kv08 = _finding(result, "afgerond", "KV08")
    assert kv08.status == Status.ORANJE
    assert "1.600 uur training op 800,5 fte is 1,999 uur per fte, minder dan 2 uur" in kv08.message


def test_two_verdicts_and_the_worst(audited):
    result, reports = audited
    record = next(r for r in result.returns if r.source.path == "rommelig.xlsx")
    verdict = result.verdicts[record.return_id]
    assert (verdict.content, verdict.delivery, verdict.overall) == (Status.GRIJS, Status.GRIJS, Status.GRIJS)
    childcare = next(r for r in result.returns if r.source.path == "kinderopvang.xlsx")
    assert result.verdicts[childcare.return_id].content == Status.ROOD
    ws = openpyxl.load_workbook(reports.overview)["Overzicht"]
    header = next(c.row for c in ws["A"] if c.value == "Aanbieder")
    heads = [c.value for c in ws[header]]
    row = next(c.row for c in ws["A"] if c.value == "Kinderopvang Zonder")
    assert ws.cell(row, heads.index("Inhoud") + 1).value == "Rood"


def test_every_norm_says_who_set_it_and_no_default_is_credited_to_the_law(audited):
    result, reports = audited
    for finding in result.findings:
        assert finding.origin in ("Standaardnorm: voorbeeldnorm van kvcompliance, niet door de gemeente vastgesteld.",
                                  "Eis van het uitvraagformulier.")
        assert "Handreiking" not in finding.norm and "Jeugdwet" not in finding.norm
    ws = _book(reports, result, "afgerond")["Samenvatting"]
    header = next(c.row for c in ws["A"] if c.value == "Regel")
    assert [ws.cell(header, c).value for c in (7, 8)] == ["Grondslag", "Herkomst norm"]
