"""The return form (uitvraag) that providers fill in, derived from the catalogue.

Every input cell is a workbook-level defined name ``kv_<key>`` (``Field.defined_name``),
so the reader finds the answers even when a provider edits labels or the layout moves.
The form version is stored as the defined name ``kv_formulierversie``, in a cell on the
``Toelichting`` sheet and as a custom document property.
"""

from __future__ import annotations

import math
import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from kvcompliance.catalogue import VERSION_NAME, Catalogue, Field
from kvcompliance.errors import KvError, OutputError
from kvcompliance.settings import Letterhead, date_in_words
from kvcompliance.text import quoted

if TYPE_CHECKING:  # pragma: no cover - the register module imports pandas
    pass

INSTRUCTION_SHEET = "Toelichting"
FORM_SHEET = "Aanlevering"
#: Defined name holding the form version (a constant such as ``="2026.1"``).
#: Custom document property holding the form version.
VERSION_PROPERTY = "kvcompliance_formulierversie"

#: Colours of the form (hex RGB).
INPUT_FILL = "#FFF2CC"  # light yellow: the provider fills these in
PREFILL_FILL = "#E7E6E6"  # grey: filled in beforehand by the gemeente, locked
SECTION_FILL = "#1F4E78"
HEADER_FILL = "#D9E1F2"

#: Layout of the form sheet (0-based rows).
TITLE_ROW = 0
INTRO_ROW = 1
HEADER_ROW = 2
FIRST_ROW = 3
FORM_WIDTHS = (44, 34, 54)  # Vraag, Uw antwoord, Uitleg
INFO_WIDTHS = (16, 92)

DATE_FORMAT = "d-m-yyyy"
MIN_DATE = date(1990, 1, 1)
MAX_DATE = date(2100, 12, 31)
MIN_YEAR = 2000
MAX_YEAR = 2100

#: Characters of ordinary 11 pt text that fit in one unit of column width (a little
#: conservative: Calibri fits about 1.2, wider fallback fonts less).
CHARS_PER_WIDTH = 1.1
LINE = 15.0  # points per line at 11 pt
SMALL_LINE = 13.5  # points per line at 10 pt

SECTION_HEIGHT = 22.0
TOP_HEIGHT = 26.0 + 30.0 + 20.0  # title, intro and header rows
#: Row height (points, unscaled) that fits on one printed A4 page: the sheet prints at
#: about 75% to fit the page width; a little margin for other fonts.
PAGE_CAPACITY = 860.0

# Excel's limits for data validation texts.
TITLE_LIMIT = 32
MESSAGE_LIMIT = 255


def _shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary, ending in an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def _height(texts: list[tuple[str, float, float]], minimum: float = 15.0) -> float:
    """Row height (points) that fits each wrapped ``(text, column width, line height)``.

    Not every spreadsheet program fits row heights itself (LibreOffice keeps the default
    height for rows written by xlsxwriter), so the form sets them explicitly.
    """
    height = minimum
    for text, width, line in texts:
        lines = len(textwrap.wrap(text, width=max(1, int(width * CHARS_PER_WIDTH)))) or 1
        height = max(height, lines * line + 3)
    return height


def _validation(field: Field, catalogue: Catalogue) -> dict[str, Any]:
    """The data validation for a field's input cell, derived from its type."""
    base: dict[str, Any] = {
        "input_title": _shorten(field.label, TITLE_LIMIT),
        "input_message": _shorten(field.help or field.label, MESSAGE_LIMIT),
        "error_title": "Dit antwoord kan niet",
        "error_type": "stop",
    }
    kind = field.type
    if kind == "janee":
        spec = {"validate": "list", "source": ["ja", "nee"], "error_message": "Kies ja of nee uit de keuzelijst."}
    elif kind == "janeenvt":
        spec = {
            "validate": "list",
            "source": ["ja", "nee", "n.v.t."],
            "error_message": "Kies ja, nee of n.v.t. (niet van toepassing) uit de keuzelijst.",
        }
    elif kind == "sector":
        keys = [s.key for s in catalogue.sectors]
        spec = {
            "validate": "list",
            "source": keys,
            "error_message": _shorten(
                "Kies een sector uit de keuzelijst: " + ", ".join(keys) + ". Uitleg per sector: zie het tabblad Toelichting.",
                MESSAGE_LIMIT,
            ),
        }
    elif kind == "geheel":
        spec = {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "error_message": "Vul een geheel getal in van 0 of meer, zonder tekst, bijvoorbeeld 12. Is het aantal nul, vul dan 0 in.",
        }
    elif kind == "getal":
        spec = {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_message": "Vul een getal in van 0 of meer, zonder tekst of eenheid, bijvoorbeeld 12,5.",
        }
    elif kind == "jaar":
        spec = {
            "validate": "integer",
            "criteria": "between",
            "minimum": MIN_YEAR,
            "maximum": MAX_YEAR,
            "error_message": f"Vul een jaartal in tussen {MIN_YEAR} en {MAX_YEAR}, bijvoorbeeld 2025.",
        }
    elif kind == "datum":
        spec = {
            "validate": "date",
            "criteria": "between",
            "minimum": MIN_DATE,
            "maximum": MAX_DATE,
            "error_message": "Vul een datum in als dd-mm-jjjj, bijvoorbeeld 01-03-2024.",
        }
    elif kind == "code" and field.digits:
        spec = {
            "validate": "length",
            "criteria": "==",
            "value": field.digits,
            "error_message": f"Vul precies {field.digits} cijfers in, zonder spaties of punten.",
        }
    else:  # tekst, email, code without a fixed length: only the input message
        spec = {"validate": "any"}
    base.update(spec)
    if spec["validate"] == "any":
        for key in ("error_title", "error_type"):
            base.pop(key)
    return base


class _Formats:
    """All cell formats of the form, created once per workbook."""

    def __init__(self, workbook: Any):
        add = workbook.add_format
        border = {"border": 1, "border_color": "#8C8C8C"}
        self.title = add({"bold": True, "font_size": 15, "font_color": SECTION_FILL, "valign": "vcenter"})
        self.subtitle = add({"italic": True, "font_color": "#404040", "valign": "top"})
        self.intro = add({"italic": True, "font_color": "#404040", "text_wrap": True, "valign": "top"})
        self.heading = add({"bold": True, "font_size": 12, "font_color": SECTION_FILL})
        self.text = add({"text_wrap": True, "valign": "top"})
        self.text_bold = add({"bold": True, "text_wrap": True, "valign": "top"})
        self.step = add({"bold": True, "align": "right", "valign": "top"})
        self.version = add({"bold": True, "align": "left", "num_format": "@"})
        self.header = add({"bold": True, "bg_color": HEADER_FILL, "valign": "vcenter", **border})
        self.section = add({"bold": True, "font_size": 12, "font_color": "#FFFFFF", "bg_color": SECTION_FILL, "valign": "vcenter"})
        self.label = add({"text_wrap": True, "valign": "top", **border})
        self.label_required = add({"bold": True, "text_wrap": True, "valign": "top", **border})
        self.help = add({"text_wrap": True, "valign": "top", "font_color": "#404040", "font_size": 10, **border})
        self.swatch_input = add({"bg_color": INPUT_FILL, **border})
        self.swatch_prefill = add({"bg_color": PREFILL_FILL, **border})
        self.star = add({"bold": True, "align": "center", "valign": "top"})
        self._workbook = workbook
        self._cells: dict[tuple[str, bool], Any] = {}

    def cell(self, field_type: str, prefilled: bool) -> Any:
        """The format of an input cell: yellow and unlocked, or grey and locked when prefilled."""
        key = (field_type, prefilled)
        if key not in self._cells:
            props: dict[str, Any] = {
                "bg_color": PREFILL_FILL if prefilled else INPUT_FILL,
                "locked": prefilled,
                "border": 1,
                "border_color": "#8C8C8C",
                "valign": "top",
                "align": "left",
            }
            if field_type == "datum":
                props["num_format"] = DATE_FORMAT
            elif field_type == "code":
                props["num_format"] = "@"  # text: leading zeros survive
            elif field_type in ("tekst", "email"):
                props["text_wrap"] = True
            self._cells[key] = self._workbook.add_format(props)
        return self._cells[key]


def _write_value(sheet: Any, row: int, col: int, field: Field, value: Any, fmt: Any) -> None:
    """Write a prefilled value with the cell type that suits the field."""
    if isinstance(value, bool) and field.type in ("janee", "janeenvt"):
        sheet.write_string(row, col, "ja" if value else "nee", fmt)
    elif isinstance(value, (datetime, date)):
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        sheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and field.type != "code":
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _write_norms(sheet: Any, formats: _Formats, catalogue: Catalogue, row: int) -> int:
    """'Waarop de gemeente let': every active rule with its norm and who set it, so a
    provider knows beforehand how its answers are judged. Returns the next free row."""
    from kvcompliance.explain import norm_text
    from kvcompliance.wording import origin_text

    sheet.write_string(row, 0, "Waarop de gemeente let", formats.heading)
    row += 1
    for rule in catalogue.active_rules:
        text = f"{rule.title}. {norm_text(catalogue, rule)} {origin_text(catalogue, rule)}"
        sheet.set_row(row, _height([(text, INFO_WIDTHS[1], LINE)]))
        sheet.write_string(row, 0, rule.id, formats.text_bold)
        sheet.write_string(row, 1, text, formats.text)
        row += 1
    return row + 1


def _write_instructions(workbook: Any, formats: _Formats, catalogue: Catalogue, letterhead: Letterhead) -> None:
    sheet = workbook.add_worksheet(INSTRUCTION_SHEET)
    sheet.set_column(0, 0, INFO_WIDTHS[0])
    sheet.set_column(1, 1, INFO_WIDTHS[1])
    sheet.hide_gridlines(2)
    row = 0
    sheet.set_row(row, 26)
    sheet.write_string(row, 0, "Jaarlijkse opgave voorwaarden kindermishandeling", formats.title)
    row += 1
    sheet.write_string(row, 0, "Verantwoording over de meldcode, de aandachtsfunctionaris, training en intervisie", formats.subtitle)
    row += 2
    for label, text in _sender_lines(letterhead):
        sheet.write_string(row, 0, label, formats.text_bold)
        sheet.write_string(row, 1, text, formats.text)
        row += 1
    row += 1

    sheet.write_string(row, 0, "Waarom deze opgave?", formats.heading)
    row += 1
    for paragraph in (
        "In uw contract of subsidie met de gemeente staan afspraken over de aanpak van huiselijk geweld en "
        "kindermishandeling: een meldcode, een aandachtsfunctionaris kindermishandeling, training en intervisie "
        "van medewerkers, en het gebruik van Veilig Thuis en de Verwijsindex. Met dit formulier legt u daarover "
        "elk jaar verantwoording af.",
        "De gemeente bespreekt de uitkomst met u in het accountgesprek. Vul het formulier daarom volledig en "
        "naar waarheid in; een leeg of onduidelijk antwoord kan de gemeente niet beoordelen.",
    ):
        sheet.set_row(row, _height([(paragraph, INFO_WIDTHS[1], LINE)]))
        sheet.write_string(row, 1, paragraph, formats.text)
        row += 1
    row += 1

    sheet.write_string(row, 0, "Zo vult u het formulier in", formats.heading)
    row += 1
    steps = (
        f"Vul op het tabblad {quoted(FORM_SHEET)} alleen de gele cellen in. Velden met een * zijn verplicht.",
        "Kies bij ja/nee-vragen en bij de sector een antwoord uit de keuzelijst: klik op de cel en daarna op het pijltje.",
        "Vul aantallen en getallen in zonder tekst of eenheid: 12 of 12,5, dus niet ‘ca. 12’ of ‘12 uur’. "
        "Is het aantal nul, vul dan 0 in en laat de cel niet leeg.",
        "Vul datums in als dd-mm-jjjj, bijvoorbeeld 01-03-2024.",
        f"Wilt u een antwoord toelichten? Gebruik dan het veld {quoted(catalogue.field('toelichting').label)} onderaan het"
        " formulier.",
        "Verander de opmaak niet: voeg geen rijen, kolommen of tabbladen toe en wijzig de namen van de tabbladen niet.",
        "Sla het bestand op als Excel-werkmap (.xlsx) en stuur het terug naar de gemeente. "
        "Stuur geen pdf, foto of scan: die kan de gemeente niet verwerken. Beveilig het bestand niet met een wachtwoord.",
    )
    for number, step in enumerate(steps, start=1):
        sheet.set_row(row, _height([(step, INFO_WIDTHS[1], LINE)]))
        sheet.write_string(row, 0, f"{number}.", formats.step)
        sheet.write_string(row, 1, step, formats.text)
        row += 1
    row += 1

    sheet.write_string(row, 0, "Legenda", formats.heading)
    row += 1
    sheet.write_blank(row, 0, None, formats.swatch_input)
    sheet.write_string(row, 1, "Gele cel: hier vult u uw antwoord in.", formats.text)
    row += 1
    sheet.write_blank(row, 0, None, formats.swatch_prefill)
    sheet.write_string(row, 1, "Grijze cel: door de gemeente vooraf ingevuld. Klopt dit niet, meld het dan in de toelichting.", formats.text)
    row += 1
    sheet.write_string(row, 0, "*", formats.star)
    sheet.write_string(row, 1, "Verplicht veld: altijd invullen.", formats.text)
    row += 2

    sheet.write_string(row, 0, "Sectoren", formats.heading)
    row += 1
    sheet.write_string(row, 1, "Kies in het formulier de korte naam uit de linkerkolom.", formats.text)
    row += 1
    for sector in catalogue.sectors:
        if sector.legal_basis:
            duty = f"meldcode wettelijk verplicht ({sector.legal_basis})"
        else:
            duty = "meldcode verplicht op grond van het contract of de subsidie"
        sheet.write_string(row, 0, sector.key, formats.text_bold)
        sheet.write_string(row, 1, f"{sector.label}: {duty}", formats.text)
        row += 1
    row += 1

    row = _write_norms(sheet, formats, catalogue, row)

    sheet.write_string(row, 0, "Over dit formulier", formats.heading)
    row += 1
    sheet.write_string(row, 0, "Formulierversie", formats.text)
    sheet.write_string(row, 1, catalogue.form_version, formats.version)
    row += 1
    contact = letterhead.contact_line or "uw contactpersoon bij de gemeente"
    sheet.write_string(row, 1, f"Vragen over dit formulier? Neem contact op met {contact}.", formats.text)

    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.6, right=0.6, top=0.7, bottom=0.7)
    sheet.set_footer("&L&8Formulierversie " + catalogue.form_version.replace("&", "&&") + "&R&8Pagina &P van &N")
    sheet.protect()
    sheet.activate()


def _sender_lines(letterhead: Letterhead) -> list[tuple[str, str]]:
    """(label, text) about who asks, whom to ask, and by when and where to send it back."""
    lines = [("Uitvraag van", letterhead.sender)]
    if letterhead.contact_line:
        lines.append(("Contactpersoon", letterhead.contact_line))
    if letterhead.year:
        lines.append(("Verslagjaar", str(letterhead.year)))
    if letterhead.deadline:
        lines.append(("Terugsturen vóór", date_in_words(letterhead.deadline)))
    if letterhead.email:
        lines.append(("Terugsturen naar", letterhead.email))
    return lines


def _write_form(workbook: Any, formats: _Formats, catalogue: Catalogue, prefill: Mapping[str, Any], letterhead: Letterhead) -> None:
    sheet = workbook.add_worksheet(FORM_SHEET)
    for col, width in enumerate(FORM_WIDTHS):
        sheet.set_column(col, col, width)
    sheet.set_row(TITLE_ROW, 26)
    sheet.merge_range(TITLE_ROW, 0, TITLE_ROW, 2, "Jaarlijkse opgave voorwaarden kindermishandeling", formats.title)
    sheet.set_row(INTRO_ROW, 30)
    sheet.merge_range(
        INTRO_ROW, 0, INTRO_ROW, 2,
        f"Uitvraag van {letterhead.sender}"
        + (f" over {letterhead.year}" if letterhead.year else "")
        + (f"; terugsturen vóór {date_in_words(letterhead.deadline)}" if letterhead.deadline else "")
        + (f" naar {letterhead.email}" if letterhead.email else "")
        + ". Vul alleen de gele cellen in. Velden met een * zijn verplicht. "
        f"Uitleg staat op het tabblad {quoted(INSTRUCTION_SHEET)}. Formulierversie {catalogue.form_version}.",
        formats.intro,
    )
    sheet.set_row(HEADER_ROW, 20)
    for col, text in enumerate(("Vraag", "Uw antwoord", "Uitleg bij de vraag")):
        sheet.write_string(HEADER_ROW, col, text, formats.header)

    row = FIRST_ROW
    blocks: list[tuple[int, float]] = []  # per section: first row, total height
    for section in catalogue.sections:
        fields = catalogue.fields_in(section.key)
        if not fields:
            continue
        blocks.append((row, SECTION_HEIGHT))
        sheet.set_row(row, SECTION_HEIGHT)
        sheet.merge_range(row, 0, row, 2, section.title, formats.section)
        row += 1
        for field in fields:
            label = f"{field.label} *" if field.required else field.label
            sheet.write_string(row, 0, label, formats.label_required if field.required else formats.label)
            prefilled = field.key in prefill and prefill[field.key] is not None
            fmt = formats.cell(field.type, prefilled)
            if prefilled:
                _write_value(sheet, row, 1, field, prefill[field.key], fmt)
            else:
                sheet.write_blank(row, 1, None, fmt)
            sheet.write_string(row, 2, field.help, formats.help)
            sheet.data_validation(row, 1, row, 1, _validation(field, catalogue))
            if field.key == "toelichting":
                height = 75.0  # room to write
            else:
                # Free-text answers (names, e-mail addresses) get room for two lines.
                minimum = 2 * LINE + 3 if field.type in ("tekst", "email") else 18
                height = _height([(label, FORM_WIDTHS[0], LINE), (field.help, FORM_WIDTHS[2] * 11 / 10, SMALL_LINE)], minimum)
            sheet.set_row(row, height)
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + height)
            workbook.define_name(field.defined_name, f"={_quote_sheet(FORM_SHEET)}!$B${row + 1}")
            row += 1

    sheet.freeze_panes(FIRST_ROW, 0)
    breaks = _page_breaks(blocks)
    if breaks:
        sheet.set_h_pagebreaks(breaks)
    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_footer("&L&8Formulierversie " + catalogue.form_version.replace("&", "&&") + "&R&8Pagina &P van &N")
    sheet.protect("", {"format_columns": True, "format_rows": True})


def _page_breaks(blocks: list[tuple[int, float]]) -> list[int]:
    """Rows to break the printed form before: between sections, pages about equally full.

    ``blocks`` holds the first row and height (points) of each section. A section never
    splits over two pages unless it is taller than a page.
    """
    total = sum(height for _, height in blocks) + TOP_HEIGHT
    pages = math.ceil(total / PAGE_CAPACITY)
    if pages <= 1:
        return []
    target = total / pages
    breaks: list[int] = []
    filled = TOP_HEIGHT
    for number, (first_row, height) in enumerate(blocks):
        # Break before this section when its middle would fall beyond the current page's share.
        if number and len(breaks) < pages - 1 and filled + height / 2 > target * (len(breaks) + 1):
            breaks.append(first_row)
        filled += height
    return breaks


def _quote_sheet(name: str) -> str:
    """A sheet name as it appears in a reference: quoted when it is not a plain word."""
    if name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "'" + name.replace("'", "''") + "'"


def write_template(
    path: Path, catalogue: Catalogue, prefill: Mapping[str, Any] | None = None, letterhead: Letterhead | None = None
) -> None:
    """Write the return form to ``path`` (.xlsx), atomically.

    ``prefill`` maps field keys to values that the gemeente fills in beforehand (for
    example per contract); those cells are grey and locked. ``letterhead`` (the settings)
    puts the sender, contact, deadline and return address on the form and fills in the
    verslagjaar.
    """
    letterhead = letterhead or Letterhead()
    from kvcompliance.report.xlsx import new_workbook

    prefill = dict(prefill or {})
    if letterhead.year and catalogue.has_field("verslagjaar"):
        prefill.setdefault("verslagjaar", letterhead.year)
    unknown = [key for key in prefill if not catalogue.has_field(key)]
    if unknown:
        raise KvError(f"Onbekend veld om vooraf in te vullen: {', '.join(sorted(unknown))}.")

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"De map {folder} bestaat niet; het formulier kan daar niet worden opgeslagen.")
    with new_workbook(path) as workbook:
        workbook.set_properties(
            {
                "title": "Jaarlijkse opgave voorwaarden kindermishandeling",
                "subject": "Uitvraag meldcode, aandachtsfunctionaris, training en intervisie",
                "author": letterhead.sender,
                "comments": f"Formulierversie {catalogue.form_version}; gemaakt met kvcompliance.",
            }
        )
        workbook.set_custom_property(VERSION_PROPERTY, catalogue.form_version)
        formats = _Formats(workbook)
        _write_instructions(workbook, formats, catalogue, letterhead)
        _write_form(workbook, formats, catalogue, prefill, letterhead)
        workbook.define_name(VERSION_NAME, '="' + catalogue.form_version.replace('"', '""') + '"')
