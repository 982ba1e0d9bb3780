"""The dossier file (kvcompliance/dossier/): what it accepts, how it migrates, how earlier
years become history and escalation, and how altered workbooks are reported. Real SQLite
files and real workbooks; the three-year run is in test_dossier_years.py."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.cli import main
from kvcompliance.dossier import open_dossier, schema
from kvcompliance.dossier.history import Past, StoredAgreement, StoredReturn, build_context
from kvcompliance.dossier.model import NOT_JUDGEABLE, NOT_REALISED, AgreementCheck
from kvcompliance.errors import CatalogueError, DossierError
from kvcompliance.report.compare import agenda
from tests.conftest import make_result
from tests.test_audit import blank_form, fill  # noqa: F401 - the fixture is used by name
from tests.test_validate import BASE

G, O, R, Y = Status.GROEN, Status.ORANJE, Status.ROOD, Status.GRIJS


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def inbox(tmp_path, blank_form):  # noqa: F811
    folder = tmp_path / "opgaven"
    folder.mkdir()
    fill(blank_form, folder / "opgave.xlsx", BASE)
    return folder


# ------------------------------------------------------------------ the file
def test_a_new_dossier_has_the_schema_its_marks_and_enforces_its_links(tmp_path):
    dossier = open_dossier(tmp_path / "nieuw.sqlite")
    assert dossier.created and dossier.migrated_from is None
    conn = dossier.connect()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == set(schema.TABLES)
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys are on
        conn.execute("INSERT INTO opgaven (controle_id, controlejaar, bestand, sha256, eindoordeel, inhoud, aanlevering)"
                     " VALUES (99, 2025, 'x', 'y', 'groen', 'groen', 'groen')")
    conn.close()
    again = open_dossier(tmp_path / "nieuw.sqlite")
    assert not again.created


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE klanten (naam TEXT)")


def _newer(path: Path) -> None:
    open_dossier(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")


def _damaged(path: Path) -> None:
    open_dossier(path)
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO controles (uitgevoerd_op, opgeslagen_op, controlejaar, versie, regels, escalatieladder)"
                         " VALUES ('x', 'x', 2025, '1', ?, '[]')", [("regels " * 400,)] * 40)
    data = bytearray(path.read_bytes())
    data[4096 * 2: 4096 * 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "expected", "code"),
    [
        (lambda p: p.write_text("naam;kvk\nStichting;12345678\n", encoding="utf-8"), "is geen dossier van kvcompliance", 3),
        (_foreign, "is een database, maar geen dossier van kvcompliance", 3),
        (_newer, "gemaakt met een nieuwere versie van kvcompliance", 3),
        (_damaged, "is beschadigd", 3),
        (lambda p: p.mkdir(), "is een map, geen bestand", 2),  # refused as every file option is: a usage error
        (os.mkfifo, "is geen gewoon bestand (maar bijvoorbeeld een pipe", 3),  # not 'de schijf is vol', and no hang
    ],
    ids=["tekstbestand", "andere-database", "nieuwere-versie", "beschadigd", "map", "pipe"],
)
def test_a_file_that_is_no_usable_dossier_is_refused_in_dutch_before_anything_is_read(tmp_path, inbox, make, expected, code):
    path = tmp_path / "dossier.sqlite"
    make(path)
    before = digest(path) if path.is_file() else None
    out = tmp_path / "uit"
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--dossier", str(path), "--stil"])
    assert result.exit_code == code, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert not out.exists()  # refused before any return was read
    if before is not None:
        assert digest(path) == before


def test_a_dossier_another_program_is_writing_is_said_before_any_return_is_read(tmp_path, inbox, monkeypatch):
    monkeypatch.setattr(schema, "BUSY_TIMEOUT", 0.5)
    path = tmp_path / "dossier.sqlite"
    open_dossier(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--dossier", str(path), "--stil"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 3 and "is in gebruik door een ander programma" in result.output
    assert not (tmp_path / "uit").exists()


def test_a_missing_folder_or_dossier_is_said_plainly(tmp_path, inbox):
    with pytest.raises(DossierError, match="De map .* bestaat niet"):
        open_dossier(tmp_path / "nergens" / "dossier.sqlite")
    result = CliRunner().invoke(main, ["dossier", "export", "--csv", str(tmp_path / "csv"), "--dossier", str(tmp_path / "weg.sqlite")])
    assert result.exit_code == 3 and "Het dossier" in result.output and "bestaat niet" in result.output
    assert not (tmp_path / "weg.sqlite").exists()
    result = CliRunner().invoke(main, ["afspraken", str(inbox)])
    assert result.exit_code == 2 and "Geef het dossier op met --dossier" in result.output


def test_an_older_dossier_is_migrated_after_a_copy_is_made(tmp_path, monkeypatch):
    path = tmp_path / "dossier.sqlite"
    open_dossier(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO controles (uitgevoerd_op, opgeslagen_op, controlejaar, versie, regels, escalatieladder)"
                     " VALUES ('2025-01-01', '2025-01-01', 2024, '0.1', '[]', '[]')")
    old = digest(path)
    extra = ("ALTER TABLE controles ADD COLUMN opmerking TEXT NOT NULL DEFAULT ''",)
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + (extra,))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    dossier = open_dossier(path)
    assert dossier.migrated_from == schema.SCHEMA_VERSION - 1
    assert dossier.backup == tmp_path / f"dossier.sqlite.dossierversie-{schema.SCHEMA_VERSION - 1}"
    with sqlite3.connect(dossier.backup) as conn:
        assert conn.execute("SELECT controlejaar FROM controles").fetchall() == [(2024,)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION - 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT controlejaar, opmerking FROM controles").fetchall() == [(2024, "")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert digest(path) != old


def test_the_settings_name_the_dossier_and_a_failed_audit_adds_nothing(tmp_path, inbox):
    (tmp_path / "kvcompliance.toml").write_text('[dossier]\npad = "jaren.sqlite"\n', encoding="utf-8")
    settings = ["--instellingen", str(tmp_path / "kvcompliance.toml")]
    result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--stil", *settings])
    assert result.exit_code == 0, result.output
    path = tmp_path / "jaren.sqlite"  # beside the settings file
    assert f"Dossier:     {path} (1 opgave over 2025 bewaard; jaren in het dossier: 2025)" in result.output
    before = digest(path)
    blocked = tmp_path / "bestand"
    blocked.write_text("geen map", encoding="utf-8")
    failed = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(blocked / "uit"), "--stil", *settings])
    assert failed.exit_code == 3 and "Traceback" not in failed.output
    assert digest(path) == before



def test_a_run_that_ends_before_storing_leaves_no_new_empty_dossier_and_keeps_an_existing_one(tmp_path, inbox):
    blocked = tmp_path / "bestand"
    blocked.write_text("geen map", encoding="utf-8")
    new = tmp_path / "nieuw.sqlite"
    failed = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(blocked / "uit"), "--stil", "--dossier", str(new)])
    assert failed.exit_code == 3 and "Traceback" not in failed.output
    assert not new.exists()  # made for this run and nothing stored in it: gone again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bestand", "opgaven"]

    empty = tmp_path / "leeg.sqlite"
    open_dossier(empty)  # an officer made it earlier: it is theirs, even without a controle in it
    before = digest(empty)
    failed = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(blocked / "uit"), "--stil", "--dossier", str(empty)])
    assert failed.exit_code == 3
    assert digest(empty) == before

    done = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--stil", "--dossier", str(new)])
    assert done.exit_code == 0, done.output
    assert "(1 opgave over 2025 bewaard" in done.output and new.exists()

def test_a_dossier_kept_in_the_inbox_is_skipped_as_the_dossier_not_rejected(tmp_path, inbox):
    dossier = inbox / "dossier.sqlite"
    for _ in range(2):  # the second audit finds the dossier the first one made
        out = tmp_path / "uit"
        result = CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--stil", "--dossier", str(dossier)])
        assert result.exit_code == 0, result.output  # nothing rejected
    assert "1 opgave gecontroleerd, 0 bestanden niet verwerkt, 1 item bewust overgeslagen." in result.output
    assert "overgeslagen: dossier.sqlite — Het dossier van deze controle (dossier.sqlite)" in result.output


# ------------------------------------------------------------------ the escalation ladder in the rules file
def test_an_own_rules_file_replaces_the_ladder(tmp_path, inbox):
    rules = tmp_path / "regels.toml"
    rules.write_text('[[escalatie]]\ntrede = 1\nnaam = "brief"\n\n[[escalatie]]\ntrede = 2\nnaam = "bestuurlijk overleg"\n'
                     'uitleg = "met de wethouder"\n', encoding="utf-8")
    catalogue = load_catalogue(str(rules))
    assert [s.text for s in catalogue.escalation] == ["1 brief", "2 bestuurlijk overleg (met de wethouder)"]
    shown = CliRunner().invoke(main, ["regels", "--regels", str(rules)])
    assert "trede 2 bestuurlijk overleg (met de wethouder)" in shown.output
    assert [s.name for s in load_catalogue().escalation] == ["gesprek", "verbeterplan", "formele stap"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('escalatie = "streng"\n', "escalatie moet een of meer [[escalatie]]-blokken zijn"),
        ('[[escalatie]]\ntrede = 2\nnaam = "brief"\n', "[[escalatie]] nummer 1: trede moet 1 zijn"),
        ('[[escalatie]]\ntrede = 1\n', "naam ontbreekt"),
        ('[[escalatie]]\ntrede = 1\nnaam = "brief"\nkleur = "rood"\n', "onbekende sleutel kleur"),
        ('[[escalatie]]\ntrede = 1\nnaam = "' + "x" * 80 + '"\n', "naam moet één regel tekst zijn van hoogstens 60 tekens"),
    ],
)
def test_a_wrong_ladder_is_refused_naming_the_place(tmp_path, text, expected):
    rules = tmp_path / "regels.toml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(str(rules))
    assert expected in str(caught.value) and "regels.toml" in str(caught.value)


# ------------------------------------------------------------------ history and escalation (pure)
def _past(years: dict[int, dict[str, Status]], agreements: dict[int, str] = (), kvk: str = "12345678",
          contract: str = "JH-2025-001") -> Past:
    returns, statuses = [], {}
    for n, (year, rules) in enumerate(sorted(years.items()), start=1):
        worst = max(rules.values(), key=lambda s: s.severity) if rules else G
        returns.append(StoredReturn(n, year, kvk, contract.upper(), contract, year, worst, worst, G))
        statuses[n] = rules
    found = [StoredAgreement(kvk, contract.upper(), year, rule, rule, "", rule, "afgesproken", "", "", None)
             for year, rule in dict(agreements).items()]
    return Past(set(years) | {y for y in dict(agreements)}, returns, statuses, {}, found)


def test_consecutive_years_rood_climb_the_ladder_and_a_gap_breaks_the_chain():
    result = make_result({"statuses": {"KV09": R}})
    officer = build_context(result, _past({2023: {"KV09": R}, 2024: {"KV09": R}})).officer["R0001"]
    assert (officer.top.rule_id, officer.top.step.step, officer.top.years) == ("KV09", 3, (2023, 2024, 2025))
    assert officer.red_years == 3
    four = build_context(result, _past({2022: {"KV09": R}, 2023: {"KV09": R}, 2024: {"KV09": R}})).officer["R0001"]
    assert four.top.step.step == 3 and four.top.reason == "rood in 2022, 2023, 2024 en 2025"  # the last step stays the last
    gap = build_context(result, _past({2022: {"KV09": R}, 2023: {"KV09": R}, 2024: {"KV09": G}})).officer["R0001"]
    assert gap.top.step.step == 1 and gap.red_years == 1
    missing = build_context(result, _past({2023: {"KV09": R}}, {})).officer["R0001"]  # no 2024 audit at all
    assert missing.top.step.step == 1


def test_oranje_after_an_agreement_counts_and_grijs_does_not():
    result = make_result({"statuses": {"KV07": O}})
    kept_open = build_context(result, _past({2024: {"KV07": R}}, {2024: "KV07"})).officer["R0001"]
    assert kept_open.top.step.step == 2
    assert kept_open.top.reason == "rood in 2024; in 2025 nog oranje na de afspraak uit het gesprek over 2024"
    assert build_context(result, _past({2024: {"KV07": O}})).officer["R0001"].top is None  # oranje without an agreement
    unknown = make_result({"statuses": {"KV07": Y}})
    assert build_context(unknown, _past({2024: {"KV07": R}}, {2024: "KV07"})).officer["R0001"].top is None


def test_returns_of_several_contracts_of_one_provider_are_never_matched_on_the_kvk_alone():
    result = make_result({"contractnummer": "A-1"}, {"contractnummer": "A-2"})
    context = build_context(result, _past({2024: {"KV09": R}}, contract="OUD-1"))
    for rid in ("R0001", "R0002"):
        assert [y.present for y in context.providers[rid].years] == [False, True]
    single = build_context(make_result({"contractnummer": "A-1"}), _past({2024: {"KV09": R}}, contract="OUD-1"))
    first = single.providers["R0001"].years[0]
    assert first.present and first.contract == "OUD-1" and "contractnummer OUD-1" in single.providers["R0001"].notes[0]


# ------------------------------------------------------------------ agreements on the agenda (pure)
def _check(rule_id: str = "", field: str = "", state: str = NOT_REALISED, now: Status | None = O) -> AgreementCheck:
    return AgreementCheck(2024, rule_id or f"veld:{field}", rule_id, field, "onderwerp", "Plan maken", "Directie", "2025-03-01",
                          None, now, state)


def test_an_agreement_opens_its_rules_point_or_becomes_a_point_of_its_own():
    result = make_result({"statuses": {"KV09": O, "KV08": Y}, "fte": None})
    catalogue = result.catalogue
    findings = [replace(f, missing=("fte",)) if f.rule_id == "KV08" else f for f in result.findings_for("R0001")]
    before = agenda(findings, catalogue, issues=result.issues_for("R0001"))
    after = agenda(findings, catalogue, issues=result.issues_for("R0001"),
                   agreements=[_check("KV09"), _check("KV07", state=NOT_JUDGEABLE, now=Y), _check(field="fte")])
    by_topic = {item.topic: item for item in after}
    kv09 = next(item for item in after if item.rule_id == "KV09")
    assert kv09.agreed and kv09.question.startswith(
        "Afgesproken in het gesprek over 2024: Plan maken (wie: Directie; termijn: 1 maart 2025) — nog niet gerealiseerd. ")
    assert kv09.question.endswith(next(i for i in before if i.rule_id == "KV09").question)
    own = by_topic["KV07 Bereik training"]
    assert own.status == Y and "niet vast te stellen of dit is gerealiseerd" in own.question
    fte = next(item for item in after if item.field == "fte")
    assert fte.agreed and fte.question.startswith("Afgesproken")
    assert [i.field for i in after if i.field] == [i.field for i in before if i.field]  # field points stay last
    assert agenda(findings, catalogue, issues=result.issues_for("R0001"), agreements=[_check("KV09", state="gerealiseerd", now=G)]) == before


# ------------------------------------------------------------------ afspraken: altered workbooks
def test_workbooks_altered_beyond_reading_are_reported_in_dutch_and_the_others_stored(tmp_path, blank_form):  # noqa: F811
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for n in range(1, 5):
        fill(blank_form, inbox / f"o{n}.xlsx", {**BASE, "aanbieder_naam": f"Aanbieder {n}", "kvk_nummer": f"1000000{n}",
                                                "contractnummer": f"C-{n}", "intervisie_bijeenkomsten": 2})
    dossier = tmp_path / "dossier.sqlite"
    assert CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--dossier", str(dossier), "--stil"]).exit_code == 0
    books = {p.name.split("_")[1]: p for p in (tmp_path / "uit" / "accountgesprek").iterdir()}

    def edit(name: str, change) -> None:
        book = openpyxl.load_workbook(books[name])
        (sheet, ref), = book.defined_names["kv_agenda"].destinations
        rows = book[sheet][ref.replace("$", "")]
        change(book, rows, [c.value for c in rows[0]])
        book.save(books[name])

    def agreed(book, rows, heads, key="KV09"):
        row = next(cells for cells in rows[1:] if cells[-1].value == key)
        row[heads.index("Afspraak")].value = "Intervisie elk kwartaal"

    def keyless(book, rows, heads):
        agreed(book, rows, heads)
        next(cells for cells in rows[1:] if cells[-1].value == "KV09")[-1].value = None
        rows[-1][heads.index("Wie")].value = "Directie"  # a Wie without an Afspraak

    edit("Aanbieder 1", agreed)
    edit("Aanbieder 2", keyless)
    edit("Aanbieder 3", lambda book, rows, heads: book.defined_names.pop("kv_agenda"))
    edit("Aanbieder 4", lambda book, rows, heads: setattr(rows[0][heads.index("Afspraak")], "value", "Notitie"))
    (tmp_path / "uit" / "accountgesprek" / "kapot.xlsx").write_bytes(b"PK\x03\x04 geen werkboek")
    fill(blank_form, tmp_path / "uit" / "accountgesprek" / "formulier.xlsx", BASE)

    result = CliRunner().invoke(main, ["afspraken", str(tmp_path / "uit"), "--dossier", str(dossier)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = result.output
    assert "2 werkboeken gelezen: 2 afspraken van 2 aanbieders bewaard" in out
    assert f"niet gelezen: {books['Aanbieder 3']} — de gespreksagenda is niet meer te vinden" in out
    assert f"niet gelezen: {books['Aanbieder 4']} — de kopjes van de gespreksagenda zijn gewijzigd" in out
    assert "kapot.xlsx — is geen leesbaar Excel-werkboek" in out
    assert "overgeslagen:" in out and "formulier.xlsx — geen werkboek voor een accountgesprek" in out
    assert "geen sleutel; opgeslagen als overige afspraak" in out and "Wie of Termijn ingevuld zonder afspraak" in out
    with sqlite3.connect(dossier) as conn:
        assert sorted(conn.execute("SELECT aanbieder, sleutel, regel FROM afspraken")) == [
            ("Aanbieder 1", "KV09", "KV09"), ("Aanbieder 2", "overig", None)]

    edit("Aanbieder 1", lambda book, rows, heads: agreed(book, rows, heads) or setattr(
        next(c for c in rows[1:] if c[-1].value == "KV09")[heads.index("Afspraak")], "value", "Intervisie elke maand"))
    again = CliRunner().invoke(main, ["afspraken", str(books["Aanbieder 1"]), "--dossier", str(dossier)])
    assert again.exit_code == 0 and "(1 eerder bewaarde vervangen)" in again.output
    with sqlite3.connect(dossier) as conn:
        assert conn.execute("SELECT afspraak FROM afspraken WHERE aanbieder = 'Aanbieder 1'").fetchall() == [("Intervisie elke maand",)]


def test_a_copy_with_the_agreements_next_to_the_untouched_workbook_is_the_one_stored(tmp_path, blank_form):  # noqa: F811
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    fill(blank_form, inbox / "o.xlsx", {**BASE, "intervisie_bijeenkomsten": 2})
    dossier = tmp_path / "dossier.sqlite"
    assert CliRunner().invoke(main, ["audit", str(inbox), "-o", str(tmp_path / "uit"), "--dossier", str(dossier), "--stil"]).exit_code == 0
    (original,) = (tmp_path / "uit" / "accountgesprek").iterdir()
    # the officer keeps the workbook as the audit wrote it and types the agreements into a copy, the same day
    copy = original.with_name(f"{original.stem} - na gesprek.xlsx")
    book = openpyxl.load_workbook(original)
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    heads = [c.value for c in rows[0]]
    next(cells for cells in rows[1:] if cells[-1].value == "KV09")[heads.index("Afspraak")].value = "Intervisie elk kwartaal"
    book.save(copy)
    # and saves another one in LibreOffice's own format, which afspraken cannot read
    ods = original.with_name(f"{original.stem} - libreoffice.ods")
    ods.write_bytes((Path(__file__).parent / "fixtures" / "opgave.ods").read_bytes())

    result = CliRunner().invoke(main, ["afspraken", str(tmp_path / "uit" / "accountgesprek"), "--dossier", str(dossier)])
    assert result.exit_code == 0, result.output
    assert "1 afspraak van 1 aanbieder bewaard" in result.output
    assert f"overgeslagen: {original} — geen afspraken ingevuld; die van dezelfde aanbieder en hetzelfde jaar komen uit {copy.name}" \
        in result.output
    assert f"overgeslagen: {ods} — geen Excel-werkboek" in result.output and "sla het op als Excel-werkboek (.xlsx)" in result.output
    with sqlite3.connect(dossier) as conn:
        assert conn.execute("SELECT afspraak, werkboek FROM afspraken").fetchall() == [("Intervisie elk kwartaal", copy.name)]


def _two_providers_audited(tmp_path, blank_form) -> tuple[Path, Path, dict[str, Path]]:  # noqa: F811
    """An output folder of two providers, with an agreement typed into Aanbieder A's workbook."""
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    for n, name in enumerate("AB", start=1):
        fill(blank_form, inbox / f"o{n}.xlsx", {**BASE, "aanbieder_naam": f"Aanbieder {name}", "kvk_nummer": f"1000000{n}",
                                                "contractnummer": f"C-{n}", "intervisie_bijeenkomsten": 2})
    dossier, out = tmp_path / "dossier.sqlite", tmp_path / "uit"
    assert CliRunner().invoke(main, ["audit", str(inbox), "-o", str(out), "--dossier", str(dossier), "--stil"]).exit_code == 0
    books = {p.name.split("_")[1]: p for p in (out / "accountgesprek").iterdir()}
    _agree(books["Aanbieder A"], books["Aanbieder A"], "Intervisie elk kwartaal")
    return out, dossier, books


def _agree(book_path: Path, target: Path, text: str) -> None:
    book = openpyxl.load_workbook(book_path)
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    heads = [c.value for c in rows[0]]
    next(cells for cells in rows[1:] if cells[-1].value == "KV09")[heads.index("Afspraak")].value = text
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)


def test_afspraken_waits_for_an_audit_and_reads_the_folder_as_its_last_audit_left_it(tmp_path, blank_form):  # noqa: F811
    import subprocess
    import sys

    from kvcompliance.outputs import JOURNAL_FILE, OutputFolder
    from tests.test_outputs import CRASHING_SWAP, ROOT

    out, dossier, books = _two_providers_audited(tmp_path, blank_form)
    with OutputFolder(out):  # an audit is writing into the folder
        busy = CliRunner().invoke(main, ["afspraken", str(out / "accountgesprek"), "--dossier", str(dossier)])
    assert busy.exit_code == 3 and f"In de uitvoermap {out} loopt al een controle" in busy.output, busy.output
    with sqlite3.connect(dossier) as conn:
        assert conn.execute("SELECT COUNT(*) FROM afspraken").fetchone() == (0,)

    # the next audit dies (power cut, kill -9) after moving its manifest and Aanbieder B's workbook out of place
    # (Aanbieder A's is the officer's now: it was changed, so it stays)
    new = ["accountgesprek/2026_Nieuw_C-9.xlsx", "verzendlijst.csv", "overzicht.xlsx", "bevindingen.csv", "verwerking.jsonl"]
    crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(out), "3", *new], capture_output=True, text=True, cwd=ROOT)
    assert crashed.returncode == 9 and (out / JOURNAL_FILE).exists() and not books["Aanbieder B"].exists()
    for folder in (out / "accountgesprek", books["Aanbieder A"]):  # the folder, or one workbook in it
        result = CliRunner().invoke(main, ["afspraken", str(folder), "--dossier", str(dossier)])
        assert result.exit_code == 0, result.output
        assert not (out / JOURNAL_FILE).exists() and books["Aanbieder B"].exists()
        if folder.is_dir():
            assert "2 werkboeken gelezen: 1 afspraak van 1 aanbieder bewaard" in result.output
            assert "in 1 werkboek is niets afgesproken" in result.output
        crashed = subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(out), "3", *new], capture_output=True, text=True,
                                 cwd=ROOT)
        assert crashed.returncode == 9


def test_afspraken_never_reads_the_work_folders_of_an_audit(tmp_path, blank_form):  # noqa: F811
    """A killed audit leaves its staging folder (and a backup) in the output folder, with
    workbooks that never counted: afspraken reads only the workbooks in their place."""
    out, dossier, books = _two_providers_audited(tmp_path, blank_form)
    name = books["Aanbieder A"].name
    _agree(books["Aanbieder A"], out / ".kvcompliance-nieuw-20990101-000000-abcdef" / "accountgesprek" / name, "Uit de staging")
    _agree(books["Aanbieder A"], out / ".kvcompliance-oud-20990101-000000-abcdef" / "accountgesprek" / name, "Uit de backup")
    _agree(books["Aanbieder A"], out / ".verborgen" / name, "Uit een verborgen map")
    result = CliRunner().invoke(main, ["afspraken", str(out), "--dossier", str(dossier)])
    assert result.exit_code == 0, result.output
    assert "2 werkboeken gelezen: 1 afspraak van 1 aanbieder bewaard" in result.output
    assert ".kvcompliance-" not in result.output and ".verborgen" not in result.output
    with sqlite3.connect(dossier) as conn:
        assert conn.execute("SELECT afspraak, werkboek FROM afspraken").fetchall() == [("Intervisie elk kwartaal", name)]


def test_an_sqlite_error_nobody_foresaw_is_told_in_dutch_and_shown_to_the_beheerder_with_debug(tmp_path, blank_form):  # noqa: F811
    out, dossier, books = _two_providers_audited(tmp_path, blank_form)
    with sqlite3.connect(dossier) as conn:  # something in the dossier refuses in words of its own
        conn.execute("CREATE TRIGGER weiger BEFORE INSERT ON afspraken BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END")
    result = CliRunner().invoke(main, ["afspraken", str(out), "--dossier", str(dossier)])
    assert result.exit_code == 3, result.output
    assert ("Fout: Het dossier dossier.sqlite kan niet worden gebruikt: SQLite gaf een onverwachte fout. Gebeurt dat opnieuw,"
            " start kvcompliance dan nog eens met --debug en stuur wat er verschijnt naar de beheerder.") in result.output
    assert "refused by trigger" not in result.output and "Error" not in result.output
    debug = CliRunner().invoke(main, ["afspraken", str(out), "--dossier", str(dossier), "--debug"])
    assert debug.exit_code == 3 and "sqlite3.IntegrityError: refused by trigger" in debug.output


def test_a_return_without_kvk_number_has_only_this_year_and_says_why():
    context = build_context(make_result({"kvk_nummer": None}), _past({2024: {"KV09": R}}))
    history = context.providers["R0001"]
    assert [y.present for y in history.years] == [False, True]
    assert history.notes == ("Uw opgave heeft geen KvK-nummer; daarom is zij niet aan opgaven van eerdere jaren gekoppeld.",)


def test_no_workbook_shows_another_providers_years_or_agreements(tmp_path):
    from tests.test_report import assert_no_other_providers_data, write_all

    kvks = {1: "41720001", 2: "52830002", 3: "63940003", 4: "74050004"}  # digits no key figure holds
    specs = [{"aanbieder_naam": f"Aanbieder {n}", "kvk_nummer": kvks[n], "contractnummer": f"C-{n}", "statuses": {"KV09": R}}
             for n in range(1, 4)]
    result = make_result(*specs)
    past = Past({2024}, [], {}, {}, [])
    for n in range(1, 5):  # the three of this audit, and one that sent nothing this year
        kvk, contract = kvks[n], f"C-{n}" if n < 4 else "X-GEHEIM"
        past.returns.append(StoredReturn(n, 2024, kvk, contract, contract, 2024, R, R, G))
        past.statuses[n] = {"KV09": R}
        past.agreements.append(StoredAgreement(kvk, contract, 2024, "KV09", "KV09", "", "KV09 Intervisie",
                                               f"afspraak-van-{n}", f"wie-{n}", "", None))
    result = replace(result, dossier=build_context(result, past))
    files = write_all(result, tmp_path)
    others = ("X-GEHEIM", "afspraak-van-4", "wie-4", kvks[4])
    assert_no_other_providers_data(result, tmp_path, files, others=others)
    for n, rid in enumerate(files, start=1):
        text = " ".join(str(c.value) for ws in openpyxl.load_workbook(tmp_path / files[rid]).worksheets
                        for row in ws.iter_rows() for c in row if c.value is not None)
        assert f"afspraak-van-{n}" in text  # its own agreement is there ...
        assert not any(f"afspraak-van-{m}" in text for m in range(1, 5) if m != n)  # ... and no other


def test_afspraken_into_a_dossier_that_did_not_exist_says_so_loudly(tmp_path, blank_form):  # noqa: F811
    out, dossier, _ = _two_providers_audited(tmp_path, blank_form)
    typo = tmp_path / "dosier.sqlite"  # a typing error: the audits are in dossier.sqlite
    result = CliRunner().invoke(main, ["afspraken", str(out / "accountgesprek"), "--dossier", str(typo)])
    assert result.exit_code == 0, result.output
    assert f"Let op: {typo} bestond nog niet en is nu als nieuw dossier gemaakt. Staan de controles in een ander" \
        " dossier, geef dat dan op met --dossier" in result.output
    # into the dossier of its audits: no such remark
    again = CliRunner().invoke(main, ["afspraken", str(out / "accountgesprek"), "--dossier", str(dossier)])
    assert again.exit_code == 0 and "bestond nog niet" not in again.output and "1 afspraak van 1 aanbieder bewaard" in again.output
