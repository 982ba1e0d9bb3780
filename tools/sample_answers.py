"""What the fictional providers type into the return form: the sample region and random returns.

:data:`PROVIDERS` is "Regio Eemvallei": each provider a healthy return (:func:`healthy`,
groen on every rule that applies) with the answers that differ typed as people type
them. :func:`random_answers` makes the returns of the benchmarks: a random provider,
healthy, then changed in a few of the ways providers change it (:func:`_defects`).
Everything depends only on the ``random.Random`` it is given: same seed, same answers.
:mod:`samples` writes them into the form.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from datetime import date
from typing import Any

from kvcompliance.catalogue import Catalogue, load_catalogue

#: The seed of the sample region (the benchmarks choose their own).
SEED = 2025
VERSLAGJAAR = 2025

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


#: The first word of a generated provider's name, per sector.
ORGANISATION_WORDS = {
    "jeugdhulp": ["Stichting Jeugdhulp", "Jeugdzorg", "Praktijk", "Gezinshuis"],
    "wmo": ["Thuiszorg", "Zorggroep", "Dagbesteding", "Stichting"],
    "onderwijs": ["Basisschool", "Scholengroep", "Kindcentrum"],
    "kinderopvang": ["Kinderopvang", "Kinderdagverblijf", "Peuterspeelzaal", "BSO"],
    "welzijn": ["Welzijn", "Buurtwerk", "Stichting"],
    "jgz": ["Jeugdgezondheidszorg", "Consultatiebureau"],
    "sport": ["Sportvereniging", "Voetbalvereniging", "Zwemclub"],
    "overig": ["Stichting", "Vereniging", "Coöperatie"],
}
NAME_WORDS = ["De Brug", "Het Anker", "Zonnehoek", "De Linde", "Kompas", "Horizon", "De Vlinder", "Samen Verder",
              "'t Kasteeltje", "Mozaïek", "De Regenboog", "Eikenhof", "Noorderlicht", "De Wilg", "Klavertje Vier"]
PLACES = ["Amersfoort", "Leusden", "Soest", "Baarn", "Bunschoten", "Woudenberg", "Nijkerk", "Eemnes", "Renswoude"]
#: How often each sector occurs among the generated providers.
SECTOR_WEIGHTS = {"jeugdhulp": 30, "wmo": 20, "onderwijs": 10, "kinderopvang": 15, "welzijn": 10, "jgz": 3,
                  "sport": 7, "overig": 5}


def _profile(rng: random.Random, number: int) -> dict[str, Any]:
    sector = rng.choices(list(SECTOR_WEIGHTS), weights=list(SECTOR_WEIGHTS.values()))[0]
    staff = 0 if sector == "sport" and rng.random() < 0.5 else int(math.exp(rng.uniform(1.5, 5.8)))
    youth = int(math.exp(rng.uniform(2.5, 7.5)))
    adults = 0 if sector in ("jeugdhulp", "onderwijs", "kinderopvang", "jgz", "sport") else int(math.exp(rng.uniform(3, 7.5)))
    name = f"{rng.choice(ORGANISATION_WORDS[sector])} {rng.choice(NAME_WORDS)} {rng.choice(PLACES)} {number}"
    return {"naam": name, "sector": sector, "medewerkers": staff, "fte": round(staff * rng.uniform(0.55, 0.9), 1),
            "jeugdigen": youth, "volwassenen": adults}


def _defects(rng: random.Random, answers: dict[str, Any], catalogue: Catalogue) -> None:
    """Change a healthy return the ways providers do: shortcomings, gaps and messy typing."""
    healthy_answers = dict(answers)
    staff = healthy_answers["medewerkers"] or 0
    fte = healthy_answers["fte"] or 0
    required = [f.key for f in catalogue.fields if f.required]
    counts = [f.key for f in catalogue.fields if f.type == "geheel"]
    defects = [
        lambda: answers.update(medewerkers_getraind=math.ceil(staff * rng.uniform(0.2, 0.79))),
        lambda: answers.update(intervisie_bijeenkomsten=rng.choice((0, 1, 2, 3))),
        lambda: answers.update(meldingen_veilig_thuis=0, adviesvragen_veilig_thuis=0, signalen_verwijsindex=0),
        lambda: answers.update(meldcode_kindcheck=rng.choice(("nee", "n.v.t."))),
        lambda: answers.update(af_opgeleid="nee", af_consultaties=0),
        lambda: answers.update(af_aantal=0, af_uren_per_week=0, af_opgeleid=None, af_consultaties=0),
        lambda: answers.update(meldcode_aanwezig="nee", meldcode_datum=None, meldcode_afwegingskader=None),
        lambda: answers.update(meldcode_afwegingskader="nee"),
        lambda: answers.update(meldcode_datum=date(VERSLAGJAAR - rng.randrange(4, 9), rng.randrange(1, 13), 1)),
        lambda: answers.update(trainingsuren=round(fte * rng.uniform(0.2, 1.5), 1)),
        lambda: answers.update(verwijsindex_aangesloten="nee"),
        lambda: answers.update(keurmerk_meldcode="nee"),
        lambda: answers.update(kwaliteitskader_smb=rng.choice(("nee", "n.v.t."))),
        lambda: answers.update({rng.choice(required): None}),
        lambda: answers.update({rng.choice(counts): rng.choice(("ca. 20", "onbekend", "10-15", "#DEEL/0!"))}),
        lambda: answers.update(verslagjaar=VERSLAGJAAR - 1),
        lambda: answers.update(kvk_nummer=healthy_answers["kvk_nummer"][:7]),
        lambda: answers.update(contact_email="info@" + slug(healthy_answers["aanbieder_naam"])),
        lambda: answers.update(meldcode_aanwezig=rng.choice(("Ja ", "JA", "x", "j", "waar")), fte=str(fte).replace(".", ",")),
        lambda: answers.update(meldcode_datum=f"{rng.randrange(1, 29)}-{rng.randrange(1, 13)}-{VERSLAGJAAR - 1}"),
    ]
    if rng.random() < 0.3:
        return  # a return that is groen on every rule that applies
    for defect in rng.sample(defects, k=min(len(defects), 1 + int(rng.expovariate(0.8)))):
        defect()


def random_answers(rng: random.Random, number: int, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The answers of one realistic return (field key -> value as typed), with mixed statuses."""
    catalogue = catalogue or load_catalogue()
    profile = _profile(rng, number)
    answers = healthy(profile, catalogue, rng, number)
    answers["contractnummer"] = f"BM-{VERSLAGJAAR}-{SECTOR_CODES.get(profile['sector'], 'XX')}-{number:06d}"
    _defects(rng, answers, catalogue)
    return answers


def region_answers(catalogue: Catalogue | None = None) -> list[dict[str, Any]]:
    """The answers of every provider of the sample region, in the order of :data:`PROVIDERS`."""
    catalogue = catalogue or load_catalogue()
    rng = random.Random(SEED)
    returns = []
    for number, provider in enumerate(PROVIDERS, start=1):
        answers = healthy(provider, catalogue, rng, number)
        answers.update(provider["invullen"])
        returns.append({f.key: answers.get(f.key) for f in catalogue.fields})
    return returns
