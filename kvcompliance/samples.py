"""Sample returns: the fictional region "Regio Eemvallei", and many returns for benchmarks.

    python -m kvcompliance.samples sample_workbooks          # the committed sample returns
    python -m kvcompliance.samples /tmp/veel --aantal 10000  # many filled returns, quickly

:func:`write_sample_region` writes the form with :func:`kvcompliance.template.write_template`,
fills it per fictional provider through the form's defined names (:func:`fill_form`,
openpyxl: data validation and protection stay intact) and saves ``<nn>_<naam>.xlsx``.
Together the providers show every status of every rule (KV01-KV92) at least once, plus
typing as people really type. ``begroting_2026.xlsx`` is a spreadsheet that is not a
return at all. The output is deterministic: same catalogue, same bytes.

:func:`write_returns` writes N realistic returns with mixed statuses for benchmarks. Filling
with openpyxl costs some 50 ms a file, so :class:`FormPatcher` fills the form once and then
writes each return by patching the answer cells in the sheet XML and copying every other
part of the zip unchanged (well under a millisecond a file). The result is a real .xlsx
that Excel and LibreOffice open and that the reader finds by its defined names.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import re
import struct
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from kvcompliance.catalogue import Catalogue, load_catalogue

SEED = 2025
VERSLAGJAAR = 2025
REGIO = "Regio Eemvallei"
#: Fixed timestamp for the files' metadata, so regenerating gives the same bytes.
FIXED_STAMP = "2026-01-15T09:00:00Z"
FIXED_DATE_TIME = (2026, 1, 15, 9, 0, 0)
BUDGET_FILE = "begroting_2026.xlsx"

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

def fill_form(template_path: Path, values: Mapping[str, Any], out_path: Path) -> Path:
    """Fill the form's named input cells with ``values`` (field key -> value as typed).

    ``None`` leaves a cell empty; text that starts with ``=`` stays text (as when a provider
    types it). Uses openpyxl, so data validation and protection stay as they are; the zip
    gets fixed timestamps, so the same input gives the same bytes.
    """
    import openpyxl

    workbook = openpyxl.load_workbook(template_path)
    for key, value in values.items():
        if value is None:
            continue
        (sheet, coordinate), = workbook.defined_names[f"kv_{key}"].destinations
        cell = workbook[sheet][coordinate.replace("$", "")]
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # typed text that looks like a formula stays text
    buffer = io.BytesIO()
    workbook.save(buffer)
    out_path = Path(out_path)
    out_path.write_bytes(normalise_zip(buffer.getvalue()))
    return out_path


def normalise_zip(data: bytes) -> bytes:
    """Fixed timestamps in the zip and the document properties: same input, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_STAMP.encode(), content)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE_TIME)
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
    Path(target).write_bytes(normalise_zip(buffer.getvalue()))

def write_sample_region(folder: Path, catalogue: Catalogue | None = None) -> list[Path]:
    """Write the sample returns of Regio Eemvallei and the budget that is no return into ``folder``.

    Earlier numbered samples in the folder are removed first; nothing else is touched.
    Returns the files written, the budget last.
    """
    from kvcompliance.template import write_template

    catalogue = catalogue or load_catalogue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    for old in folder.glob("[0-9][0-9]_*.xlsx"):
        old.unlink()
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        form = Path(scratch) / "uitvraag.xlsx"
        write_template(form, catalogue)
        for number, provider in enumerate(PROVIDERS, start=1):
            answers = healthy(provider, catalogue, rng, number)
            answers.update(provider["invullen"])
            target = folder / f"{number:02d}_{slug(provider['naam'])}.xlsx"
            written.append(fill_form(form, {f.key: answers.get(f.key) for f in catalogue.fields}, target))
    budget = folder / BUDGET_FILE
    write_budget(budget)
    written.append(budget)
    return written


# --------------------------------------------------------------------------- many returns, fast
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    text = _INVALID_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dos_stamp(stamp: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = stamp
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


@dataclass(frozen=True)
class _Member:
    name: bytes
    record: bytes  # local header + data, as stored
    crc: int
    compressed: int
    size: int
    method: int


class FormPatcher:
    """The blank form, filled thousands of times by patching its sheet XML.

    The answer cells (found through the form's defined names) are cut out of the sheet
    XML once; :meth:`render` puts each return's values in (text as inline strings, numbers
    and dates as numbers, keeping each cell's style) and writes a zip in which every other
    part is copied byte for byte.
    """

    def __init__(self, catalogue: Catalogue | None = None, template_path: Path | None = None):
        from kvcompliance.ingest.locate import locate_fields
        from kvcompliance.ingest.names import xlsx_names

        self.catalogue = catalogue or load_catalogue()
        if template_path is None:
            from kvcompliance.template import write_template

            with tempfile.TemporaryDirectory() as scratch:
                template_path = Path(scratch) / "uitvraag.xlsx"
                write_template(template_path, self.catalogue)
                data = normalise_zip(template_path.read_bytes())
        else:
            data = normalise_zip(Path(template_path).read_bytes())
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = xlsx_names(archive, "xl/workbook.xml")
        cells = locate_fields(names, self.catalogue)
        sheets = {ref.sheet for ref in cells.values()}
        if len(sheets) != 1:
            raise ValueError("the form's answer cells must be on one sheet")
        self.sheet_part = names.sheet_parts[sheets.pop()]
        xml = archive.read(self.sheet_part)
        self.members: list[_Member] = []
        for info in archive.infolist():
            header = data[info.header_offset : info.header_offset + 30]
            name_length, extra_length = struct.unpack_from("<HH", header, 26)
            end = info.header_offset + 30 + name_length + extra_length + info.compress_size
            self.members.append(
                _Member(info.filename.encode(), data[info.header_offset : end], info.CRC, info.compress_size,
                        info.file_size, info.compress_type)
            )
        # Cut the sheet XML at every answer cell: fragments[i] + cell(key i) + fragments[i + 1] ...
        spots = []
        for key, ref in cells.items():
            match = re.search(rb'<c r="' + ref.cell.encode() + rb'"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', xml, re.S)
            if match is None:
                raise ValueError(f"answer cell {ref.cell} not in the sheet")
            style = re.search(rb'\bs="(\d+)"', match.group("attrs"))
            spots.append((match.start(), match.end(), key, ref.cell, style.group(1).decode() if style else None))
        spots.sort()
        self.fragments: list[bytes] = []
        self.slots: list[tuple[str, str, str | None, bytes]] = []  # key, cell, style, the blank cell
        position = 0
        for start, end, key, cell, style in spots:
            self.fragments.append(xml[position:start])
            self.slots.append((key, cell, style, xml[start:end]))
            position = end
        self.fragments.append(xml[position:])

    def _cell(self, cell: str, style: str | None, blank: bytes, value: Any) -> str | bytes:
        s = f' s="{style}"' if style else ""
        if value is None:
            return blank
        if isinstance(value, bool):
            return f'<c r="{cell}"{s} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                return blank
            return f'<c r="{cell}"{s}><v>{value!r}</v></c>'
        if isinstance(value, (date, datetime)):
            if isinstance(value, datetime):
                serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
            else:
                serial = (value - date(1899, 12, 30)).days
            return f'<c r="{cell}"{s}><v>{serial!r}</v></c>'
        text = _xml_text(str(value))
        return f'<c r="{cell}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    def sheet_xml(self, values: Mapping[str, Any]) -> bytes:
        parts: list[bytes] = []
        for fragment, (key, cell, style, blank) in zip(self.fragments, self.slots):
            parts.append(fragment)
            rendered = self._cell(cell, style, blank, values.get(key))
            parts.append(rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"))
        parts.append(self.fragments[-1])
        return b"".join(parts)

    def render(self, values: Mapping[str, Any]) -> bytes:
        """The bytes of an .xlsx file: the form with ``values`` (field key -> value) filled in."""
        sheet = self.sheet_xml(values)
        time_, date_ = _dos_stamp(FIXED_DATE_TIME)
        out = io.BytesIO()
        central = []
        for member in self.members:
            offset = out.tell()
            if member.name.decode() == self.sheet_part:
                packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                packed = packer.compress(sheet) + packer.flush()
                crc, compressed, size, method = zlib.crc32(sheet), len(packed), len(sheet), zipfile.ZIP_DEFLATED
                out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, time_, date_, crc, compressed,
                                      size, len(member.name), 0))
                out.write(member.name)
                out.write(packed)
            else:
                crc, compressed, size, method = member.crc, member.compressed, member.size, member.method
                out.write(member.record)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, time_, date_, crc,
                                       compressed, size, len(member.name), 0, 0, 0, 0, 0, offset) + member.name)
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), start, 0))
        return out.getvalue()

    def write(self, values: Mapping[str, Any], out_path: Path) -> Path:
        out_path = Path(out_path)
        out_path.write_bytes(self.render(values))
        return out_path


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


def write_returns(folder: Path, n: int, seed: int = 0, catalogue: Catalogue | None = None) -> list[Path]:
    """Write ``n`` realistic, filled returns with mixed statuses into ``folder``, quickly.

    Every return has its own contract number, so none replaces another. The same ``n``
    and ``seed`` give the same files.
    """
    catalogue = catalogue or load_catalogue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    patcher = FormPatcher(catalogue)
    rng = random.Random(seed)
    width = max(5, len(str(n)))
    written = []
    for number in range(1, n + 1):
        answers = random_answers(rng, number, catalogue)
        target = folder / f"{number:0{width}d}_{slug(answers.get('aanbieder_naam') or 'naam-leeg')}.xlsx"
        written.append(patcher.write(answers, target))
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m kvcompliance.samples",
        description="Schrijf voorbeeldopgaven: zonder --aantal de opgaven van Regio Eemvallei, met --aantal N "
        "zoveel willekeurige ingevulde opgaven (voor metingen).",
    )
    parser.add_argument("map", type=Path, help="de map voor de opgaven")
    parser.add_argument("--aantal", type=int, help="aantal willekeurige opgaven")
    parser.add_argument("--zaad", type=int, default=0, help="startwaarde van het toeval (standaard 0)")
    args = parser.parse_args(argv)
    if args.aantal is None:
        for path in write_sample_region(args.map):
            print(path.name + (" (geen opgave)" if path.name == BUDGET_FILE else ""))
    else:
        written = write_returns(args.map, args.aantal, args.zaad)
        print(f"{len(written)} opgaven geschreven in {args.map}")


if __name__ == "__main__":
    main(sys.argv[1:])
