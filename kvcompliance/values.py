"""Understanding values as people type them, and showing values the Dutch way.

Parsers take one raw cell value (str, int, float, bool, date, datetime or None) and return
the typed value, ``None`` for empty, or raise :class:`NotUnderstood` with a Dutch reason.
They never guess: ``ca. 20`` is not 20.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any, Callable, Sequence

from kvcompliance.text import quoted

EXCEL_EPOCH = date(1899, 12, 30)
#: Excel serials before 1-1-1990 are not plausible dates here; '2024' is a year, not a date.
MIN_DATE_SERIAL = 32874


#: How an empty value reads in every text.
EMPTY = "niet ingevuld"


class NotUnderstood(ValueError):
    """A value that cannot be understood; ``reason`` is Dutch."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Error values spreadsheets put in cells (English and Dutch Excel, LibreOffice).
ERROR_VALUES = {
    "#div/0!", "#deel/0!", "#n/a", "#n/b", "#name?", "#naam?", "#null!", "#leeg!", "#num!", "#getal!",
    "#ref!", "#verw!", "#value!", "#waarde!", "#getting_data", "#spill!", "#overloop!", "#calc!",
    "#error!", "#fout!",
}
#: LibreOffice's numbered errors, in English and Dutch: Err:502, Fout:502.
_NUMBERED_ERROR = re.compile(r"^(err|fout):\d{3}$")

TRUE_WORDS = {"ja", "j", "x", "waar", "true", "1", "yes", "y", "wel", "ja.", "v", "✓", "✔"}
FALSE_WORDS = {"nee", "n", "onwaar", "false", "0", "no", "niet", "nee."}
NVT_WORDS = {"n.v.t.", "n.v.t", "nvt", "nvt.", "n.v.t..", "niet van toepassing", "n/a", "nvt (niet van toepassing)"}
#: What people type for "nothing to fill in here": read as an empty cell.
EMPTY_WORDS = {"-", "--", "—", "–", "."}


def raw_text(value: Any) -> str:
    """The raw value as the provider would recognise it (for messages and notes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "WAAR" if value else "ONWAAR"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return format_date(value.date()) if value.time() == datetime.min.time() else value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _text(value: Any) -> str | None:
    """Strip a string; treat blank strings as empty; reject spreadsheet error values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        text = value.replace("\u00a0", " ").replace("\u202f", " ").strip()
        if not text or text in EMPTY_WORDS:
            return None
        if text.lower() in ERROR_VALUES or _NUMBERED_ERROR.match(text.lower()):
            raise NotUnderstood(f"de cel bevat een foutwaarde ({text})")
        return text
    return None


def is_empty(value: Any) -> bool:
    try:
        return value is None or (isinstance(value, str) and _text(value) is None) or (
            isinstance(value, float) and math.isnan(value)
        )
    except NotUnderstood:
        return False


def parse_text(value: Any) -> str | None:
    if isinstance(value, str):
        return _text(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return raw_text(value)


def parse_code(value: Any, digits: int | None = None) -> str | None:
    """An identifier such as a KvK-nummer: spaces and dots removed, leading zeros kept.

    The format itself (exactly N digits) is checked by validation (KV91), not here.
    """
    if isinstance(value, bool):
        raise NotUnderstood("een ja/nee-waarde is geen nummer")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if isinstance(value, float) and not value.is_integer():
            return raw_text(value)
        return str(int(value))
    text = parse_text(value)
    if text is None or text.lower() in NVT_WORDS:
        return None  # 'n.v.t.' for an optional identifier means: none
    return re.sub(r"[\s.\-]", "", text) or None


def parse_bool(value: Any) -> bool | None:
    """ja/nee as typed: ja, Ja, JA, j, x, waar, TRUE, 1 / nee, n, onwaar, FALSE, 0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            return None
        if value in (0, 1):
            return bool(value)
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen ja of nee")
    text = _text(value) if isinstance(value, str) else None
    if text is None:
        if value is None or isinstance(value, str):
            return None
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen ja of nee")
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise NotUnderstood(f"{quoted(text)} is geen ja of nee")


def parse_ternary(value: Any) -> str | None:
    """ja / nee / n.v.t., returned as one of exactly those three strings."""
    if isinstance(value, str):
        text = _text(value)
        if text is not None and text.lower() in NVT_WORDS:
            return "n.v.t."
    try:
        parsed = parse_bool(value)
    except NotUnderstood:
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen ja, nee of n.v.t.") from None
    if parsed is None:
        return None
    return "ja" if parsed else "nee"


_NUMBER_DUTCH = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$", re.ASCII)  # 1.234 or 1.234,5; not 0.800
# English grouping only when unambiguous: 1,234.5 or 1,234,567. A lone "1,234" is Dutch 1,234.
_NUMBER_ENGLISH = re.compile(r"^[+-]?[1-9]\d{0,2}((,\d{3}){2,}(\.\d+)?|,\d{3}\.\d+)$", re.ASCII)
_NUMBER_COMMA = re.compile(r"^[+-]?\d*,\d+$", re.ASCII)  # 12,5
_NUMBER_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$", re.ASCII)  # 12 or 12.5


def parse_number(value: Any) -> float | None:
    """A number as typed: 12,5 and 1.234 (Dutch), 12.5, 1,234.5, 80% (= 0,8)."""
    if isinstance(value, bool):
        raise NotUnderstood("een ja/nee-waarde is geen getal")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isinf(number):
            raise NotUnderstood(f"{quoted(raw_text(value)[:20])} is geen bruikbaar getal")
        return number
    if isinstance(value, (date, datetime)):
        raise NotUnderstood(f"{quoted(raw_text(value))} is een datum, geen getal")
    text = _text(value) if isinstance(value, str) else None
    if text is None:
        if value is None or isinstance(value, str):
            return None
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen getal")
    compact = text.replace(" ", "").replace("\u2212", "-")
    percent = compact.endswith("%")
    if percent:
        compact = compact[:-1]
    if _NUMBER_DUTCH.match(compact):
        number = float(compact.replace(".", "").replace(",", "."))
    elif _NUMBER_ENGLISH.match(compact):
        number = float(compact.replace(",", ""))
    elif _NUMBER_COMMA.match(compact):
        number = float(compact.replace(",", "."))
    elif _NUMBER_PLAIN.match(compact):
        number = float(compact)
    else:
        raise NotUnderstood(f"{quoted(text)} is geen getal")
    if math.isinf(number):
        raise NotUnderstood(f"{quoted(text[:20] + '…')} is geen bruikbaar getal")
    return number / 100 if percent else number


def parse_count(value: Any) -> int | None:
    """A whole number ≥ 0 (a count of people, hours or events)."""
    number = parse_number(value)
    if number is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        raise NotUnderstood(f"{quoted(value.strip())} is een percentage, geen aantal")
    if number < 0:
        raise NotUnderstood(f"{quoted(raw_text(value))} is negatief; een aantal kan niet kleiner zijn dan 0")
    if not float(number).is_integer():
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen geheel getal")
    if number > 10**9:
        raise NotUnderstood(f"{quoted(raw_text(value))} is onwaarschijnlijk groot")
    return int(number)


def parse_amount(value: Any) -> float | None:
    """A number ≥ 0 such as fte or hours (not a percentage)."""
    number = parse_number(value)
    if number is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        raise NotUnderstood(f"{quoted(value.strip())} is een percentage; vul een aantal in")
    if number < 0:
        raise NotUnderstood(f"{quoted(raw_text(value))} is negatief; dit getal kan niet kleiner zijn dan 0")
    if number > 10**9:
        raise NotUnderstood(f"{quoted(raw_text(value))} is onwaarschijnlijk groot")
    return number


def parse_year(value: Any) -> int | None:
    if isinstance(value, (date, datetime)):
        return value.year
    try:
        number = parse_number(value)
    except NotUnderstood:
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen jaartal") from None
    if number is None:
        return None
    if not float(number).is_integer() or not 1990 <= number <= 2100:
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen jaartal")
    return int(number)


_DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$", re.ASCII)
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]([01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?)?$", re.ASCII)
MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "februari": 2, "mrt": 3, "maart": 3, "apr": 4, "april": 4,
    "mei": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "augustus": 8, "sep": 9,
    "sept": 9, "september": 9, "okt": 10, "oktober": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}
_DATE_WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})$", re.ASCII)


def _make_date(year: int, month: int, day: int, text: str, two_digit_year: bool = False) -> date:
    if two_digit_year:
        year += 2000 if year < 70 else 1900
    try:
        return date(year, month, day)
    except ValueError:
        raise NotUnderstood(f"{quoted(text)} is geen bestaande datum") from None


def parse_date(value: Any) -> date | None:
    """A date: a real date, 1-3-2024, 01-03-24, 2024-03-01, 1 maart 2024 or an Excel serial."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise NotUnderstood("een ja/nee-waarde is geen datum")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        if MIN_DATE_SERIAL <= value <= 2958465:  # Excel serials from 1990 up to 9999-12-31
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen datum")
    text = _text(value) if isinstance(value, str) else None
    if text is None:
        if value is None or isinstance(value, str):
            return None
        raise NotUnderstood(f"{quoted(raw_text(value))} is geen datum")
    if m := _DATE_DMY.match(text):
        return _make_date(int(m.group(3)), int(m.group(2)), int(m.group(1)), text, len(m.group(3)) == 2)
    if m := _DATE_ISO.match(text):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    if m := _DATE_WORDS.match(text.lower()):
        month = MONTHS.get(m.group(2))
        if month:
            return _make_date(int(m.group(3)), month, int(m.group(1)), text)
    if re.fullmatch(r"[0-9]+([.,][0-9]+)?", text):
        return parse_date(parse_number(text))
    raise NotUnderstood(f"{quoted(text)} is geen datum (gebruik dd-mm-jjjj)")


def parser_for(field_type: str, digits: int | None = None) -> Callable[[Any], Any]:
    """The parser for a catalogue field type."""
    return {
        "tekst": parse_text,
        "email": parse_text,
        "sector": parse_text,
        "code": lambda v: parse_code(v, digits),
        "jaar": parse_year,
        "datum": parse_date,
        "geheel": parse_count,
        "getal": parse_amount,
        "janee": parse_bool,
        "janeenvt": parse_ternary,
    }[field_type]


# ----------------------------------------------------------------------- formatting
def _group(digits: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return ".".join(parts)


def format_number(value: float, decimals: int = 2) -> str:
    """12.5 -> '12,5'; 1234 -> '1.234'; trailing zeros dropped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    # Formatting rounds exactly as round() would (half to even on the exact value), and
    # round() itself is slow: this runs for every number in every finding.
    text = f"{float(value):.{decimals}f}"
    sign = ""
    if text.startswith("-"):
        text = text[1:]
        sign = "-" if text.strip("0.") else ""  # no '-0'
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return f"{sign}{_group(whole)}" + (f",{frac}" if frac else "")


def format_percent(value: float, decimals: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    if decimals is None:
        decimals = 0 if abs(value) >= 0.1 else 1
    return f"{format_number(value * 100, decimals)}%"


def plural(n: float, one: str, many: str) -> str:
    """A count with the right word: ``plural(1, 'signaal', 'signalen')`` -> '1 signaal'.

    A form holding ``#`` gets the number in that place: ``plural(3, 'is # medewerker',
    'zijn # medewerkers')`` -> 'zijn 3 medewerkers'.
    """
    number = format_number(float(n))
    form = one if float(n) == 1 else many
    return form.replace("#", number) if "#" in form else f"{number} {form}"


def listing(items: Sequence[str], last: str = "en") -> str:
    """Items as a Dutch list: 'jeugdhulp, onderwijs en welzijn' ('of' with ``last="of"``)."""
    items = list(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}" if len(items) > 1 else "".join(items)


def format_near(value: float, fmt: str, thresholds: tuple[float, ...] = ()) -> str:
    """``value`` formatted as ``fmt`` ('getal' or 'procent'), with as many decimals as it
    takes to stay on the same side of every threshold: 1,9988 hours against a norm of 2
    reads '1,999', not '2'. When even four more decimals do not tell, the text says so."""
    def shown(decimals: int) -> tuple[str, float]:
        if fmt == "procent":
            return format_percent(value, decimals), round(value * 100, decimals) / 100
        return format_number(value, decimals), round(value, decimals)

    base = (0 if abs(value) >= 0.1 else 1) if fmt == "procent" else 2
    for decimals in range(base, base + 5):
        text, rounded = shown(decimals)
        if all((rounded < t) == (value < t) and (rounded > t) == (value > t) for t in thresholds):
            return text
    nearest = min(thresholds, key=lambda t: abs(value - t))
    return f"{text} ({'net onder' if value < nearest else 'net boven'} de norm)"


def format_probability(value: float) -> str:
    """A chance in words a provider understands: '0,25% (ongeveer 1 op 400)'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    if value < 0.0001:
        return "minder dan 0,01% (minder dan 1 op 10.000)"
    pct = format_number(value * 100, 2 if value < 0.01 else 1)
    if value >= 0.5:
        return f"{pct}%"
    odds = 1 / value
    if odds >= 100:  # two significant digits: 'ongeveer 1 op 400', not '1 op 403'
        scale = 10 ** (int(math.log10(odds)) - 1)
        odds = round(odds / scale) * scale
    return f"{pct}% (ongeveer 1 op {format_number(round(odds), 0)})"


def format_date(value: date) -> str:
    return f"{value.day}-{value.month}-{value.year}"


def format_value(value: Any, fmt: str) -> str:
    """Format a typed value for a Dutch reader; ``fmt`` is a catalogue format name."""
    if value is None:
        return EMPTY
    try:
        if value != value:  # NaN / NA
            return EMPTY
    except (TypeError, ValueError):  # pd.NA compares to NA and cannot be truth-tested
        return EMPTY
    if fmt == "janee" or isinstance(value, bool):
        return "ja" if bool(value) else "nee"
    if fmt == "procent":
        return format_percent(float(value))
    if fmt == "kans":
        return format_probability(float(value))
    if fmt == "geheel":
        return format_number(float(value), 0)
    if fmt == "jaar":
        return str(int(value))
    if fmt == "getal":
        return format_number(float(value), 2)
    if fmt == "datum" or isinstance(value, (date, datetime)):
        if hasattr(value, "date") and callable(value.date):
            value = value.date()
        return format_date(value)
    if isinstance(value, float):
        return format_number(value)
    return str(value)
