"""Generate the sample returns of the fictional region "Regio Eemvallei" (verslagjaar 2025).

    python sample_workbooks/generate.py

Writes the form with :func:`kvcompliance.template.write_template`, fills it per fictional
provider through the form's defined names (openpyxl; data validation and protection stay
intact) and saves ``sample_workbooks/<nn>_<naam>.xlsx``. Together the providers show every
status of every rule (KV01-KV92) at least once, plus typing as people really type.
``begroting_2026.xlsx`` is a spreadsheet that is not a return at all.

The output is deterministic: same catalogue, same bytes.
"""

from __future__ import annotations

import io
import math
import random
import re
import sys
import tempfile
import unicodedata
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from kvcompliance.catalogue import Catalogue, load_catalogue  # noqa: E402
from kvcompliance.template import write_template  # noqa: E402

SEED = 2025
VERSLAGJAAR = 2025
REGIO = "Regio Eemvallei"
#: Fixed timestamp for the files' metadata, so regenerating gives the same bytes.
FIXED_STAMP = "2026-01-15T09:00:00Z"

LEEG = None  # a field the provider left empty

# Each provider: a name, a sector, its size, and `invullen`: the answers that differ from a
# healthy return (one that is groen on every rule that applies), exactly as typed.
# The comment above each provider says which statuses it demonstrates.
PROVIDERS: list[dict[str, Any]] = [
    # Model provider: groen on KV01-KV13 (KV04 n.v.t.: no adult clients) and on KV90-KV92.
    {"naam": "Stichting Jeugdhulp De Kern", "sector": "jeugdhulp",
     "medewerkers": 120, "fte": 96.5, "jeugdigen": 850, "volwassenen": 0, "invullen": {}},
    # KV07 rood (30% getraind), KV09 rood (0 intervisie), KV10 rood (0 signalen, 12 verwacht),
    # KV11 oranje (verwijsindex nee), KV12 oranje (geen keurmerk), KV13 rood (kwaliteitskader nee).
    {"naam": "Horizon Jeugdzorg B.V.", "sector": "jeugdhulp",
     "medewerkers": 60, "fte": 48, "jeugdigen": 800, "volwassenen": 0,
     "invullen": {"medewerkers_getraind": 18, "intervisie_bijeenkomsten": 0, "meldingen_veilig_thuis": 0,
                  "adviesvragen_veilig_thuis": 0, "signalen_verwijsindex": 0, "verwijsindex_aangesloten": "nee",
                  "keurmerk_meldcode": "nee", "kwaliteitskader_smb": "nee",
                  "toelichting": "Door personeelsverloop is de training in 2025 blijven liggen."}},
    # KV04 oranje (volwassen cliënten, kindcheck n.v.t.), KV06 oranje (0 consultaties),
    # KV07 oranje (65% getraind), KV08 oranje (1 uur per fte), KV10 oranje (4 signalen, 6 verwacht),
    # KV13 rood (kwaliteitskader n.v.t.).
    {"naam": "Eemland Ambulante Gezinsbegeleiding", "sector": "jeugdhulp",
     "medewerkers": 40, "fte": 31.2, "jeugdigen": 400, "volwassenen": 150,
     "invullen": {"meldcode_kindcheck": "n.v.t.", "af_consultaties": 0, "medewerkers_getraind": 26,
                  "trainingsuren": 31, "meldingen_veilig_thuis": 1, "adviesvragen_veilig_thuis": 3,
                  "signalen_verwijsindex": 0, "kwaliteitskader_smb": "n.v.t."}},
    # Wmo: KV04 oranje (kindcheck nee); KV10 n.v.t. (verwachting onder 1); KV11-KV13 n.v.t.
    {"naam": "Thuiszorg Vallei-Oost", "sector": "wmo",
     "medewerkers": 210, "fte": 150.4, "jeugdigen": 40, "volwassenen": 1800,
     "invullen": {"meldcode_kindcheck": "nee"}},
    # Wmo: KV04 groen; KV06 oranje (AF niet opgeleid en minder uren dan de norm).
    {"naam": "Wijkteam Ondersteuning Amerbrug", "sector": "wmo",
     "medewerkers": 75, "fte": 52, "jeugdigen": 120, "volwassenen": 900,
     "invullen": {"af_opgeleid": "nee", "af_uren_per_week": 1}},
    # Onderwijs, all groen despite messy typing: 'Ja ', 'JA', 'x', '12,5', '1.234', '1-3-2024',
    # sector typed as its label 'Onderwijs'.
    {"naam": "Stichting Primair Onderwijs Eemvallei", "sector": "onderwijs",
     "medewerkers": 95, "fte": 70, "jeugdigen": 1234, "volwassenen": 0,
     "invullen": {"sector": "Onderwijs", "meldcode_aanwezig": "Ja ", "meldcode_afwegingskader": "JA",
                  "af_opgeleid": "x", "af_uren_per_week": "12,5", "clienten_minderjarig": "1.234",
                  "meldcode_datum": "1-3-2024", "fte": "70,0"}},
    # Kinderopvang: KV01 rood (geen meldcode) so KV02 and KV03 n.v.t.; KV05 rood (geen AF) so KV06 n.v.t.
    {"naam": "Kinderopvang Klein Geluk", "sector": "kinderopvang",
     "medewerkers": 18, "fte": 12.6, "jeugdigen": 210, "volwassenen": 0,
     "invullen": {"meldcode_aanwezig": "nee", "meldcode_datum": LEEG, "meldcode_afwegingskader": LEEG,
                  "af_aantal": 0, "af_uren_per_week": 0, "af_opgeleid": LEEG, "af_consultaties": 0,
                  "toelichting": "Wij zijn een kleine organisatie en werken aan een meldcode."}},
    # Welzijn: KV06 rood (0 uur voor de AF), KV09 oranje (2 bijeenkomsten), KV11 oranje (verwijsindex n.v.t.).
    {"naam": "Welzijn Eemvallei", "sector": "welzijn",
     "medewerkers": 55, "fte": 38.5, "jeugdigen": 700, "volwassenen": 1500,
     "invullen": {"af_uren_per_week": 0, "intervisie_bijeenkomsten": 2, "verwijsindex_aangesloten": "n.v.t.",
                  "signalen_verwijsindex": 0}},
    # JGZ: KV02 rood (geen afwegingskader), KV03 oranje (meldcode uit 2019); KV11 groen.
    {"naam": "Jeugdgezondheidszorg Eemvallei", "sector": "jgz",
     "medewerkers": 140, "fte": 98, "jeugdigen": 5200, "volwassenen": 0,
     "invullen": {"meldcode_afwegingskader": "nee", "meldcode_datum": date(2019, 6, 12)}},
    # Sport, volunteers only: KV07 n.v.t. (0 medewerkers), KV08 n.v.t. (0 fte), KV10 n.v.t.
    {"naam": "Voetbalvereniging SV Eemboys", "sector": "sport",
     "medewerkers": 0, "fte": 0, "jeugdigen": 260, "volwassenen": 0,
     "invullen": {"af_consultaties": 2,
                  "toelichting": "Alle trainers zijn vrijwilligers; zij volgden de training van de KNVB."}},
    # Overig: KV07 grijs (meer getraind dan medewerkers), KV91 grijs (KvK-nummer van 7 cijfers).
    {"naam": "Stichting Buurtbemiddeling Eemvallei", "sector": "overig",
     "medewerkers": 9, "fte": 4.5, "jeugdigen": 30, "volwassenen": 400,
     "invullen": {"medewerkers_getraind": 14, "kvk_nummer": "4123456"}},
    # Name with '/', ':' and an apostrophe (file names, sheet titles); KV91 grijs (e-mailadres onjuist).
    {"naam": "Zorgboerderij 't Erf / Locatie Hoevelaken: dagbesteding", "sector": "wmo",
     "medewerkers": 14, "fte": 9.8, "jeugdigen": 12, "volwassenen": 65,
     "invullen": {"contact_email": "info@zorgboerderij-terf"}},
    # Jeugdhulp: KV02 grijs (afwegingskader leeg), KV12 grijs (keurmerk leeg), KV13 grijs
    # (kwaliteitskader leeg); a formula typed as text in the toelichting.
    {"naam": "Praktijk voor Kinder- en Jeugdpsychologie Mozaïek", "sector": "jeugdhulp",
     "medewerkers": 12, "fte": 9.2, "jeugdigen": 180, "volwassenen": 0,
     "invullen": {"meldcode_afwegingskader": LEEG, "keurmerk_meldcode": LEEG, "kwaliteitskader_smb": LEEG,
                  "toelichting": '=HYPERLINK("http://x","y")'}},
    # Half filled in: KV05 grijs (aantal AF leeg, so KV06 grijs), KV09 grijs (intervisie leeg),
    # KV10 grijs (verwijsindex-signalen leeg), KV90 grijs (verplichte velden leeg).
    {"naam": "Jeugdhulp Op Maat Eemvallei", "sector": "jeugdhulp",
     "medewerkers": 25, "fte": 19.5, "jeugdigen": 150, "volwassenen": 0,
     "invullen": {"af_aantal": LEEG, "af_uren_per_week": LEEG, "af_opgeleid": LEEG, "af_consultaties": LEEG,
                  "intervisie_bijeenkomsten": LEEG, "signalen_verwijsindex": LEEG}},
    # Kinderopvang: a value that is not understood ('ca. 20'): KV07 grijs and KV90 grijs.
    {"naam": "Kinderdagverblijf De Boomhut", "sector": "kinderopvang",
     "medewerkers": 24, "fte": 17.3, "jeugdigen": 160, "volwassenen": 0,
     "invullen": {"medewerkers_getraind": "ca. 20"}},
    # A return about the wrong year: KV92 grijs (verslagjaar 2024); KV11 grijs (verwijsindex leeg).
    {"naam": "Stichting Samen Sterk in de Wijk", "sector": "welzijn",
     "medewerkers": 30, "fte": 21, "jeugdigen": 350, "volwassenen": 600,
     "invullen": {"verslagjaar": 2024, "verwijsindex_aangesloten": LEEG}},
    # Jeugdhulp: KV03 grijs (meldcode dated after the end of 2025), KV06 grijs (AF-uren leeg).
    {"naam": "Opvoedpoli Eemvallei", "sector": "jeugdhulp",
     "medewerkers": 35, "fte": 27.4, "jeugdigen": 520, "volwassenen": 0,
     "invullen": {"meldcode_datum": "15-03-2026", "af_uren_per_week": LEEG}},
    # No sector: KV04 and KV11-KV13 grijs (sector-dependent), KV10 grijs (no sector factor), KV90 grijs.
    {"naam": "Huiswerkbegeleiding Slim & Sterk", "sector": LEEG,
     "medewerkers": 8, "fte": 5, "jeugdigen": 140, "volwassenen": 0,
     "invullen": {}},
    # Wmo: KV01 grijs ('in ontwikkeling' is no ja/nee; so KV02 and KV03 grijs), KV04 grijs
    # (kindcheck leeg), KV08 grijs (trainingsuren leeg), KV90 grijs.
    {"naam": "Stichting Mantelzorg & Meer", "sector": "wmo",
     "medewerkers": 16, "fte": 10.5, "jeugdigen": 20, "volwassenen": 700,
     "invullen": {"meldcode_aanwezig": "in ontwikkeling", "meldcode_kindcheck": LEEG, "trainingsuren": LEEG}},
]

FIRST_NAMES = ["Anouk", "Bram", "Fatima", "Joost", "Marieke", "Sanne", "Youssef", "Ingrid", "Pieter", "Esra",
               "Linda", "Hans", "Noor", "Ruud", "Mirjam", "Dewi", "Thijs", "Kim", "Gerrit", "Sevda"]
SURNAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "van den Berg", "Mulder", "de Boer",
            "Bos", "El Amrani", "Kok", "van Dijk", "Hendriks", "Dekker", "Yilmaz", "Brouwer", "van Leeuwen"]
SECTOR_CODES = {"jeugdhulp": "JH", "wmo": "WMO", "onderwijs": "OND", "kinderopvang": "KO", "welzijn": "WZ",
                "jgz": "JGZ", "sport": "SP", "overig": "OV"}
#: Sectors whose providers usually have an AGB-code.
AGB_SECTORS = {"jeugdhulp", "wmo", "jgz"}


def slug(text: str) -> str:
    """A file-name part: ascii, lower case, words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(text) > 50:
        text = text[:51].rsplit("-", 1)[0]
    return text


def healthy(provider: dict[str, Any], catalogue: Catalogue, rng: random.Random, number: int) -> dict[str, Any]:
    """A complete return that is groen on every rule that applies, for this provider's size.

    The numbers are derived from the catalogue's parameters (KV06 hours norm, KV10 expected
    signals), so a changed norm never makes the model provider fail.
    """
    sector = provider["sector"]
    staff, fte = provider["medewerkers"], provider["fte"]
    youth, adults = provider["jeugdigen"], provider["volwassenen"]
    kv06 = catalogue.rule("KV06").params
    hours_norm = max(kv06["minimum_uren_per_week"], kv06["uren_per_25_medewerkers"] * staff / 25)
    kv10 = catalogue.rule("KV10").params
    expected = youth * kv10["prevalentie"] * kv10["sectorfactor"].get(sector or "overig", 0.1)
    signals = math.ceil(expected * 1.2)
    uses_vir = sector in (catalogue.rule("KV11").sectors or ())
    vir = signals // 4 if uses_vir else 0
    reports = (signals - vir) // 3
    contact = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    domain = slug(provider["naam"]).replace("-", "")[:24] + ".nl"
    user = slug(contact.split()[0])
    kvk = f"{rng.randrange(0, 10**8):08d}"
    if number == 1:
        kvk = "0" + kvk[1:]  # a leading zero that must survive (text cell)
    return {
        "aanbieder_naam": provider["naam"],
        "kvk_nummer": kvk,
        "agb_code": f"98{rng.randrange(0, 10**6):06d}" if sector in AGB_SECTORS else LEEG,
        "contractnummer": f"EV-{VERSLAGJAAR}-{SECTOR_CODES.get(sector, 'XX')}-{rng.randrange(100, 1000):04d}",
        "sector": sector,
        "verslagjaar": VERSLAGJAAR,
        "contact_naam": contact,
        "contact_email": f"{user}@{domain}",
        "medewerkers": staff,
        "fte": fte,
        "clienten_minderjarig": youth,
        "clienten_volwassen": adults,
        "meldcode_aanwezig": "ja",
        "meldcode_datum": date(VERSLAGJAAR - rng.randrange(0, 3), rng.randrange(1, 13), rng.randrange(1, 29)),
        "meldcode_afwegingskader": "ja",
        "meldcode_kindcheck": "ja" if adults or sector == "wmo" else "n.v.t.",
        "verwijsindex_aangesloten": "ja" if uses_vir else "n.v.t.",
        "af_aantal": max(1, staff // 40) if staff else 1,
        "af_uren_per_week": math.ceil(hours_norm * 2) / 2 + 0.5 * rng.randrange(0, 4),
        "af_opgeleid": "ja",
        "af_consultaties": max(3, staff // 4 + rng.randrange(0, 6)),
        "medewerkers_getraind": math.ceil(staff * rng.choice((0.85, 0.9, 0.95, 1.0))),
        "trainingsuren": round(fte * rng.choice((3, 4, 5)), 1),
        "intervisie_bijeenkomsten": rng.randrange(4, 12),
        "meldingen_veilig_thuis": reports,
        "adviesvragen_veilig_thuis": signals - vir - reports,
        "signalen_verwijsindex": vir,
        "keurmerk_meldcode": "ja",
        "kwaliteitskader_smb": "ja" if sector == "jeugdhulp" else "n.v.t.",
        "toelichting": LEEG,
    }


def fill(form: Path, answers: dict[str, Any], target: Path, catalogue: Catalogue) -> None:
    """Fill the form's named input cells with ``answers`` (as typed) and save to ``target``."""
    import openpyxl

    workbook = openpyxl.load_workbook(form)
    for fld in catalogue.fields:
        value = answers.get(fld.key)
        if value is None:
            continue
        (sheet, coordinate), = workbook.defined_names[fld.defined_name].destinations
        cell = workbook[sheet][coordinate.replace("$", "")]
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # typed text that looks like a formula stays text
    buffer = io.BytesIO()
    workbook.save(buffer)
    target.write_bytes(normalise_zip(buffer.getvalue()))


def normalise_zip(data: bytes) -> bytes:
    """Fixed timestamps in the zip and the document properties: same input, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP.encode(), content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 15, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()


def write_budget(target: Path) -> None:
    """A spreadsheet that is not a return: a provider's budget sent by mistake."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Begroting 2026"
    rows = [
        ("Begroting 2026", None),
        ("Post", "Bedrag (EUR)"),
        ("Personeel", 412000),
        ("Huisvesting", 38500),
        ("Training en opleiding", 9200),
        ("Overig", 12750),
        ("Totaal", "=SUM(B3:B6)"),
    ]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    target.write_bytes(normalise_zip(buffer.getvalue()))


def main() -> None:
    catalogue = load_catalogue()
    rng = random.Random(SEED)
    for old in HERE.glob("[0-9][0-9]_*.xlsx"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        form = Path(scratch) / "uitvraag.xlsx"
        write_template(form, catalogue)
        for number, provider in enumerate(PROVIDERS, start=1):
            answers = healthy(provider, catalogue, rng, number)
            answers.update(provider["invullen"])
            target = HERE / f"{number:02d}_{slug(provider['naam'])}.xlsx"
            fill(form, answers, target, catalogue)
            print(target.name)
    write_budget(HERE / "begroting_2026.xlsx")
    print("begroting_2026.xlsx (geen opgave)")


if __name__ == "__main__":
    main()
