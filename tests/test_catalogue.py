"""The catalogue and officers' own rules files (--regels)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.errors import CatalogueError
from kvcompliance.normalise import typed_frame
from kvcompliance.text import QUOTE_CLOSE, QUOTE_OPEN, quoted
from kvcompliance.validate import evaluate
from tests.test_validate import BASE, _records

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_every_field_of_the_form_is_in_the_catalogue_once():
    catalogue = load_catalogue()
    keys = [f.key for f in catalogue.fields]
    assert len(keys) == len(set(keys)) == 30
    assert {f.key for f in catalogue.fields if f.required} >= {"aanbieder_naam", "kvk_nummer", "sector", "medewerkers"}
    assert catalogue.field("kvk_nummer").defined_name == "kv_kvk_nummer"


def test_rules_kv01_to_kv13_kv93_and_kv90_to_kv92_with_dutch_texts():
    catalogue = load_catalogue()
    ids = [r.id for r in catalogue.rules]
    assert ids == [f"KV{n:02d}" for n in range(1, 14)] + ["KV93", "KV90", "KV91", "KV92"]
    assert {r.id for r in catalogue.rules if not r.active} == {"KV12", "KV13"}  # a region switches them on
    assert {r.id for r in catalogue.rules if r.group == "aanlevering"} == {"KV90", "KV91", "KV92"}
    for rule in catalogue.rules:
        assert rule.texts.get("groen"), rule.id
        for level in rule.levels:
            assert rule.texts.get(level.status.value), f"{rule.id} has no text for {level.status}"
            if level.status != Status.GRIJS:
                assert rule.agenda.get(level.status.value), f"{rule.id} has no agenda question for {level.status}"


def _write(tmp_path, text, name="regels.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[regel]]\nid = "KV99"\n', "onbekende regel ‘KV99’"),
        ('[[regel]]\nid = "KV07"\n[[regel.norm]]\nstatus = "oranje"\nkolom = "aandeel_getraind"\nkleiner_dan = "tachtig"\n',
         "regel KV07, norm 1, kleiner_dan: moet een getal zijn"),
        ('[[regel]]\nid = "KV07"\n[[regel.norm]]\nstatus = "oranje"\nkolom = "aandeel_getraind"\nkleiner_dan = nan\n',
         "moet een eindig getal zijn"),
        ('[[regel]]\nid = "KV10"\n[regel.parameters]\nkans_substantieel = inf\n', "moet een eindig getal zijn"),
        ('[[regel]]\nid = "KV10"\n[regel.parameters]\nkans_substantieel = 5\n', "moet tussen 0 en 1 liggen"),
        ('[[regel]]\nid = "KV10"\n[regel.parameters.sectorfactor]\njeugdhulp = -0.5\n', "mag niet negatief zijn"),
        ('[[regel]]\nid = "KV09"\n[regel.tekst]\nrood = "Geen intervisie: {intervisei}."\n', "onbekende plaatshouder {intervisei}"),
        ('[[regel]]\nid = "KV09"\n[regel.tekst]\nrood = "{auditjaar.__class__}"\n', "onbekende plaatshouder"),
        ('[[regel]]\nid = "KV09"\n[regel.tekst]\nrood = "{auditjaar:>99999}"\n', "zonder opmaak"),
        ('[[regel]]\nid = "KV09"\n[regel.tekst]\nrood = "kapot {"\n', "ongeldige accolades"),
        ('[[regel]]\nid = "KV09"\n[regel.tekst]\nrood = "kapot {"\n', "schrijf {{ of }} voor een losse accolade"),
        ('[[regel]]\nid = "KV07"\n[[regel.norm]]\nstatus = "oranje"\nkolom = "aandeel_getraind"\nkleiner_dan = 1e308\n',
         "regel KV07, norm 1, kleiner_dan: moet tussen 0 en 1 liggen"),
        ('[[regel]]\nid = "KV05"\n[[regel.norm]]\nstatus = "rood"\nkolom = "af_aantal"\nkleiner_dan = 99999999999999999999\n',
         "kleiner_dan: is onwaarschijnlijk groot"),
        ("a = " + "[" * 40 + "]" * 40 + "\n", "dieper genest"),
        ('vastgesteld = 2025\n', "vastgesteld moet tekst zijn"),
        ('[[regel]]\nid = "KV12"\nsectoren = ["jeugdhulp", "voetbal"]\n', "onbekende sector voetbal"),
        ('[[regel]]\nid = "KV12"\nsectoren = "jeugdhulp"\n', "sectoren moet \"alle\" zijn of een lijst"),
        ('[[regel]]\nid = "KV12"\n[[regel.norm]]\nstatus = "paars"\nkolom = "keurmerk_meldcode"\ngelijk_aan = false\n',
         "status moet rood, oranje of grijs zijn"),
        ('[[regel]]\nid = "KV12"\n[[regel.norm]]\nstatus = "rood"\nkolom = "keurmerk"\ngelijk_aan = false\n',
         "onbekende kolom ‘keurmerk’"),
        ('[[regel]]\nid = "KV12"\n[[regel.norm]]\nstatus = "rood"\nkolom = "keurmerk_meldcode"\ngelijk_aan = "nee"\n',
         "moet true of false zijn"),
        ('[[regel]]\nid = "KV10"\n[regel.parameters]\nprevalentie = "3%"\n', "parameters.prevalentie: moet een getal zijn"),
        ('[[regel]]\nid = "KV10"\n[regel.parameters.sectorfactor]\nvoetbal = 0.1\n', "onbekende parameter ‘voetbal’"),
        ('[[regel]]\nid = "KV05"\nactief = "nee"\n', "actief moet true of false zijn"),
        ('[[regel]]\nid = "KV05"\nnorm_rood = 1\n', "onbekende sleutel ‘norm_rood’"),
        ('[[regel]]\nid = "KV05"\n[[regel]]\nid = "KV05"\n', "staat twee keer in het bestand"),
        ('[regel]\nid = "KV05"\n', "gebruik [[regel]]-blokken"),
        ('[[regel]]\nid = "KV05"\ntitel = "Aandachtsfunctionaris\n', "fout op regel 3"),
        ('[[regel]]\nid = "KV05"\n[[regel.norm]]\nstatus = "rood"\nkolom = "af_aantal"\nkleiner_dan = 1\ngroter_dan = 9\n',
         "geef precies één voorwaarde"),
    ],
)
def test_a_bad_rules_file_is_refused_with_a_dutch_message_naming_the_place(tmp_path, text, expected):
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, text))
    assert expected in str(caught.value)
    assert "regels.toml" in str(caught.value)


#: What officers type wrongly in a TOML file, and the Dutch the message must say instead
#: of the TOML reader's English (which named the fault in parentheses).
TOML_FAULTS = [
    ("[[[ x\n", "regel 1, kolom 3", "hier hoort een naam (sleutel) te beginnen"),
    ("x = ", "het eind van het bestand", "na = ontbreekt een geldige waarde"),
    ("x = 1\nx = 2", "het eind van het bestand", "een sleutel staat twee keer in het bestand"),
    ("[afzender\n", "regel 1, kolom 10", "de ] aan het eind van de kop ontbreekt"),
    ('titel = "open\n', "regel 1", "een tekst tussen aanhalingstekens is niet afgesloten"),
    ("gemeente naam = 1\n", "regel 1, kolom 10", "na een naam hoort een ="),
    ("jaar = 2025 2026\n", "regel 1, kolom 13", "na een waarde hoort een nieuwe regel te beginnen"),
    ("[afzender]\n[afzender]\n", "regel 2", "een kop staat twee keer in het bestand"),
    ("= 1\n", "regel 1, kolom 1", "deze regel is geen naam = waarde en geen [kop]"),
]


@pytest.mark.parametrize(("text", "where", "what"), TOML_FAULTS)
def test_a_toml_file_that_is_not_valid_gets_dutch_only(tmp_path, text, where, what):
    import re

    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("regels.toml is geen geldig TOML-bestand: ")
    assert where in message and what in message, message
    assert not re.search(r"\b(Invalid|Expected|Cannot|Unterminated|at end of document|line|column)\b", message), message


def test_own_rules_change_exactly_the_statuses_they_should(tmp_path):
    rules = _write(
        tmp_path,
        """
[[regel]]
id = "KV12"
actief = true
sectoren = ["jeugdhulp", "sport"]
norm_vervangen = true
[[regel.norm]]
status = "rood"
kolom = "keurmerk_meldcode"
gelijk_aan = false

[[regel]]
id = "KV07"
[[regel.norm]]
status = "oranje"
kolom = "aandeel_getraind"
kleiner_dan = 0.9

[[regel]]
id = "KV09"
actief = false
""",
    )
    rows = [
        BASE,  # 45 of 50 trained = 90%: still groen
        {**BASE, "medewerkers_getraind": 42},  # 84%: groen by default, oranje with 90%
        {**BASE, "medewerkers_getraind": 20},  # 40%: rood stays rood (only oranje was changed)
        {**BASE, "sector": "wmo", "keurmerk_meldcode": "nee", "meldcode_kindcheck": "ja"},  # KV12 n.v.t. for Wmo
        {**BASE, "sector": "sport", "keurmerk_meldcode": "nee"},  # KV12 rood
        {**BASE, "intervisie_bijeenkomsten": 0},  # KV09 rood, but switched off
    ]
    default = load_catalogue()
    own = load_catalogue(rules)
    frame, issues = typed_frame(_records(rows), default)
    before = evaluate(frame, issues, default, 2025).statuses
    after = evaluate(frame, issues, own, 2025).statuses
    assert "KV09" in before.columns and "KV09" not in after.columns
    assert "KV12" not in before.columns and "KV12" in after.columns
    changed = {(rid, rule) for rid in before.index for rule in before.columns if rule in after and before.loc[rid, rule] != after.loc[rid, rule]}
    assert changed == {("R0001", "KV07")}
    assert after.loc["R0001", "KV07"] == Status.ORANJE and after.loc["R0002", "KV07"] == Status.ROOD
    assert list(after["KV12"]) == [Status.GROEN, Status.GROEN, Status.GROEN, Status.NVT, Status.ROOD, Status.GROEN]
    assert own.warnings == ("Regel KV12: de eigen norm (norm_vervangen = true) heeft geen niveau oranje meer; die regel geeft dan nooit meer oranje.",)


def test_changing_one_level_keeps_the_others_and_says_who_set_the_norm(tmp_path):
    rules = _write(tmp_path, 'vastgesteld = "Regio Eemvallei, besluit 12-3-2025"\n[[regel]]\nid = "KV07"\n'
                             '[[regel.norm]]\nstatus = "oranje"\nkolom = "aandeel_getraind"\nkleiner_dan = 0.9\n')
    own = load_catalogue(rules)
    levels = {(lvl.status, lvl.op): lvl.value for lvl in own.rule("KV07").levels}
    assert levels == {(Status.GRIJS, "groter_dan"): 1, (Status.ROOD, "kleiner_dan"): 0.5, (Status.ORANJE, "kleiner_dan"): 0.9}
    assert own.warnings == ()
    assert all(rule.adopted == "Regio Eemvallei, besluit 12-3-2025" for rule in own.rules)
    assert not load_catalogue().rule("KV07").adopted
    frame, issues = typed_frame(_records([BASE]), own)
    finding = next(f for f in evaluate(frame, issues, own, 2025).findings if f.rule_id == "KV07")
    assert finding.origin == "Norm vastgesteld door Regio Eemvallei, besluit 12-3-2025."
    assert "oranje als minder dan 90% van de medewerkers" in finding.norm


def test_the_shipped_example_rules_file_loads(tmp_path):
    from kvcompliance.catalogue import schemas_dir

    catalogue = load_catalogue(str(schemas_dir() / "regels-voorbeeld.toml"))
    assert catalogue.rule("KV12").active and catalogue.rule("KV12").sectors == ("jeugdhulp", "wmo")
    assert [lvl.status for lvl in catalogue.rule("KV13").levels] == [Status.ROOD]
    assert len(catalogue.rule("KV07").levels) == 3
    assert catalogue.rule("KV01").adopted.startswith("Regio Eemvallei")
    assert len(catalogue.warnings) == 1 and "KV13" in catalogue.warnings[0]


def test_an_edited_rules_file_is_read_again(tmp_path):
    path = _write(tmp_path, '[[regel]]\nid = "KV05"\nactief = false\n')
    assert not load_catalogue(path).rule("KV05").active
    import os
    import time

    _write(tmp_path, '[[regel]]\nid = "KV05"\nactief = true\n')
    later = time.time() + 5
    os.utime(path, (later, later))
    assert load_catalogue(path).rule("KV05").active


# ------------------------------------------------------------------------------ rejected files
def test_every_reason_for_not_auditing_a_file_is_a_dutch_sentence():
    import string

    from kvcompliance.catalogue import load_file_reasons

    reasons = load_file_reasons()
    assert {"onleesbaar", "beveiligd", "leeg", "geen spreadsheet", "geen opgave", "te groot", "vervangen", "dubbel"} <= set(
        reasons.kinds
    )
    assert {reason.kind for reason in reasons.reasons.values()} <= set(reasons.kinds)
    for key, reason in reasons.reasons.items():
        names = {name for _, name, _, _ in string.Formatter().parse(reason.template) if name}
        text = reasons.text(key, **{name: f"<{name}>" for name in names - set(reasons.phrases)})
        assert text.endswith(".") and "{" not in text and "}" not in text, key
    for what in reasons.what.values():
        assert what.startswith("een "), what


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"soort": [{"key": "leeg"}], "reden": {"x": {"soort": "kwijt", "tekst": "Weg."}}}, "onbekende soort ‘kwijt’"),
        ({"soort": [{"key": "leeg"}], "reden": {"x": {"soort": "leeg"}}}, "reden x: tekst ontbreekt"),
        ({"soort": [{"key": "leeg"}], "reden": {"x": {"soort": "leeg", "tekst": "Open {."}}}, "geen geldig sjabloon"),
        ({"soort": [{"key": "leeg"}, {"key": "leeg"}]}, "komt twee keer voor"),
    ],
)
def test_a_mistake_in_the_file_reasons_is_named(data, expected):
    from kvcompliance.catalogue.files import _build_file_reasons

    with pytest.raises(CatalogueError, match=expected):
        _build_file_reasons(data, "bestanden.toml")


@pytest.mark.parametrize("kind", ["pipe", "apparaat"])
def test_a_rules_file_that_is_a_pipe_or_a_device_is_refused_at_once(tmp_path, kind):
    """--regels pointing to a pipe blocked the audit for ever; a link to /dev/zero read
    until the memory ran out. Checked in a child process (with a memory limit and a
    timeout) so a regression fails the test instead of hanging or exhausting the machine."""
    import os
    import subprocess
    import sys

    path = tmp_path / "regels.toml"
    if kind == "pipe":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, resource.RLIM_INFINITY))\n"
        "from pathlib import Path\n"
        "from kvcompliance.catalogue import load_catalogue\n"
        "from kvcompliance.errors import CatalogueError\n"
        "try:\n"
        f"    load_catalogue({str(path)!r})\n"
        "except CatalogueError as exc:\n"
        "    print(exc)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("reading the rules file did not end")
    assert "regels.toml is geen gewoon bestand" in done.stdout, done.stderr[-300:]


#: A word or phrase between quote marks other than the project's ‘…’: 'x', "x", „x”, “x”.
_OTHER_QUOTES = re.compile(r"(?:^|[\s(:])'[^'\s][^']*'(?=$|[\s).,;:!?])|(?:^|[\s(:])\"[^\"\s][^\"]*\"(?=$|[\s).,;:!?])|[„“”]")


def _texts(value, where):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _texts(item, f"{where}[{n}]")


def test_every_text_of_the_catalogue_quotes_the_one_dutch_way():
    """A label or a typed value inside a sentence is quoted ‘so’, as the code's quoted() does."""
    assert quoted("ca. 20") == f"{QUOTE_OPEN}ca. 20{QUOTE_CLOSE}" == "‘ca. 20’"
    texts = [t for path in sorted(SCHEMAS.glob("*.toml")) for t in _texts(tomllib.loads(path.read_text(encoding="utf-8")), path.name)]
    assert len(texts) > 300
    assert [f"{where}: {text}" for where, text in texts if _OTHER_QUOTES.search(text)] == []
    unbalanced = [f"{where}: {text}" for where, text in texts if text.count(QUOTE_OPEN) != text.count(QUOTE_CLOSE)]
    assert unbalanced == []
    assert sum(QUOTE_OPEN in text for _, text in texts) >= 10  # the style is in use, so this test can fail


def test_a_sector_law_reads_inside_parentheses_without_nesting_them():
    """The law is shown as 'wettelijk verplicht (…)': a law with its own brackets read '(… (…))'."""
    assert [s.key for s in load_catalogue().sectors if "(" in s.legal_basis or ")" in s.legal_basis] == []
