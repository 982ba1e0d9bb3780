"""The officer's year through the CLI (DOMAIN §6): after the audit the screen says what to do
next, the call list says who must also complete their data and who sent nothing, and
verzend reminds the officer of the reminders. Real forms, a real register, the real CLI."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kvcompliance.cli import main
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_instrument import SETTINGS
from tests.test_validate import BASE

REGISTER = (
    "contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email\n"
    "O-1;Bijna Goed;10000001;onderwijs;bijna@goed.example\n"
    "A-1;Alles Goed;10000002;jeugdhulp;alles@goed.example\n"
    "W-1;Weggebleven;10000003;wmo;weg@gebleven.example\n"
    "H-1;Half Gevuld;10000004;jeugdhulp;half@gevuld.example\n"
)


@pytest.fixture(scope="module")
def year(tmp_path_factory, blank_form):  # noqa: F811
    """An audit of three returns against a register of four contracts: 'Bijna Goed' is oranje
    and left the fte empty (Aanlevering grijs), 'Alles Goed' is groen, 'Half Gevuld' left the
    optional hours of its aandachtsfunctionaris empty (KV06 grijs, Aanlevering groen),
    'Weggebleven' sent nothing."""
    root = tmp_path_factory.mktemp("jaar")
    settings = root / "instellingen.toml"
    settings.write_text(SETTINGS, encoding="utf-8")
    register = root / "contracten.csv"
    register.write_text(REGISTER, encoding="utf-8")
    inbox = root / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "bijna.xlsx", {**BASE, "aanbieder_naam": "Bijna Goed", "kvk_nummer": "10000001",
                                             "contractnummer": "O-1", "sector": "onderwijs", "intervisie_bijeenkomsten": 2,
                                             "fte": None})
    fill(blank_form, inbox / "alles.xlsx", {**BASE, "aanbieder_naam": "Alles Goed", "kvk_nummer": "10000002",
                                             "contractnummer": "A-1"})
    fill(blank_form, inbox / "half.xlsx", {**BASE, "aanbieder_naam": "Half Gevuld", "kvk_nummer": "10000004",
                                            "contractnummer": "H-1", "af_uren_per_week": None})
    out = root / "uitvoer 2025"
    dossier = root / "dossier.sqlite"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--contracten", str(register), "--stil",
                                       "--dossier", str(dossier), "--instellingen", str(settings)])
    assert result.exit_code == 0, result.output
    return out, settings, dossier, result.output


def _call_list(out: Path):
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Bellijst"]
    header = next(c.row for c in ws["A"] if c.value == "Rang")
    heads = [c.value for c in ws[header]]
    rows = {ws.cell(r, heads.index("Aanbieder") + 1).value: ws.cell(r, heads.index("Actie") + 1).value
            for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value}
    intro = [ws.cell(r, 1).value for r in range(1, header)]
    return intro, rows


def test_the_call_list_says_an_oranje_return_must_also_complete_its_data(year):
    out, *_ = year
    _, actions = _call_list(out)
    assert actions["Bijna Goed"] == "Bespreken: inhoud oranje; ook gegevens laten aanvullen"
    assert actions["Alles Goed"] == "Voldoet"
    assert actions["Half Gevuld"] == "Gegevens laten aanvullen"


def test_the_call_list_points_to_the_contracts_without_a_return(year):
    out, *_ = year
    intro, _ = _call_list(out)
    line = intro[1]
    assert "1 contract zonder opgave (zie tabblad Ontbrekend)" in line
    assert "0 bestanden niet verwerkt" in line and "zie tabblad Niet verwerkt" not in line  # no pointer to an empty sheet


def test_per_sector_counts_every_return_that_needs_data(year):
    out, *_ = year
    ws = openpyxl.load_workbook(out / "overzicht.xlsx")["Per sector"]
    header = next(c.row for c in ws["A"] if c.value == "Sector")
    heads = [c.value for c in ws[header]]
    rows = {ws.cell(r, 1).value: ws.cell(r, heads.index("Gegevens aanvullen") + 1).value for r in range(header + 1, ws.max_row + 1)}
    assert rows["Onderwijs"] == 1 and rows["Jeugdhulp"] == 1 and rows["Totaal"] == 2  # Bijna Goed, Half Gevuld


def test_the_audit_says_the_next_steps_as_commands_to_copy(year):
    out, settings, dossier, output = year
    lines = output.splitlines()
    assert f"Volgende stap: begin bij de Bellijst in {out / 'overzicht.xlsx'}." in lines
    assert f'Werkboeken versturen: kvcompliance verzend "{out}" --instellingen {settings}' in lines
    assert (f'Herinneren (1 contract zonder opgave en 2 opgaven die moeten worden aangevuld): kvcompliance verzend "{out}"'
            f" --herinnering --instellingen {settings}") in lines
    assert (f'Na de gesprekken de afspraken bewaren: kvcompliance afspraken "{out / "accountgesprek"}" --dossier {dossier}'
            f" --instellingen {settings}") in lines


def test_the_commands_the_audit_names_run(year, tmp_path):
    out, settings, dossier, output = year
    reminders = CliRunner().invoke(main, ["verzend", str(out), "--herinnering", "--instellingen", str(settings)])
    assert reminders.exit_code == 0, reminders.output
    assert "3 concepten met de herinnering" in reminders.output
    agreements = CliRunner().invoke(main, ["afspraken", str(out / "accountgesprek"), "--dossier", str(dossier),
                                           "--instellingen", str(settings)])
    assert agreements.exit_code == 0, agreements.output


def test_verzend_reminds_the_officer_of_the_reminders(year):
    out, settings, *_ = year
    result = CliRunner().invoke(main, ["verzend", str(out), "--instellingen", str(settings)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == ("Nog te herinneren: 1 contract zonder opgave en 2 opgaven die moeten worden"
                                              " aangevuld. Maak die e-mails met --herinnering.")


def test_every_return_the_call_list_asks_to_complete_gets_the_reminder_naming_what(year):
    """'Half Gevuld' is in the call list's aanvullen group although its Aanlevering is groen:
    the reminder goes to it too, naming the optional field its KV06 needs."""
    import email
    from email import policy

    out, settings, *_ = year
    result = CliRunner().invoke(main, ["verzend", str(out), "--herinnering", "--instellingen", str(settings)])
    assert result.exit_code == 0, result.output
    (draft,) = (out / "verzending").glob("herinnering_*H-1.eml")
    letter = email.message_from_bytes(draft.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
    assert "- ‘Beschikbare uren aandachtsfunctionaris per week (totaal)’ is niet ingevuld" in letter
    assert "Uw opgave over 2025 is nog niet compleet" in email.message_from_bytes(draft.read_bytes())["Subject"]


def test_the_audit_help_names_the_settings_as_the_first_source_of_the_year():
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert "verslagjaar uit de instellingen, anders het verslagjaar dat de meeste" in " ".join(result.output.split())
