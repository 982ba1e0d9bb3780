"""The parsers in values.py: values as providers really type them, and what is refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kvcompliance.values import (
    NotUnderstood,
    format_number,
    parse_amount,
    parse_bool,
    parse_code,
    parse_count,
    parse_date,
    parse_number,
    parse_ternary,
    parse_text,
    parse_year,
    parser_for,
)


# ------------------------------------------------------------------------------ ja / nee
@pytest.mark.parametrize("typed", ["ja", "Ja", "JA", "Ja ", " ja", "j", "J", "x", "X", "waar", "WAAR", "TRUE", "true", "1", 1, 1.0, True])
def test_yes_variants(typed):
    assert parse_bool(typed) is True


@pytest.mark.parametrize("typed", ["nee", "Nee", "NEE", "nee ", "n", "N", "onwaar", "ONWAAR", "FALSE", "false", "0", 0, 0.0, False])
def test_no_variants(typed):
    assert parse_bool(typed) is False


@pytest.mark.parametrize("typed", [None, "", "   ", "\u00a0"])
def test_empty_is_none_not_no(typed):
    assert parse_bool(typed) is None


@pytest.mark.parametrize("typed", ["misschien", "ja/nee", "2", 2, 0.5, "n.v.t.", date(2024, 1, 1), "#N/A", "#WAARDE!"])
def test_yes_no_not_understood(typed):
    with pytest.raises(NotUnderstood) as info:
        parse_bool(typed)
    assert info.value.reason  # a Dutch reason the user sees


def test_not_understood_reason_quotes_what_was_typed():
    with pytest.raises(NotUnderstood, match="‘misschien’ is geen ja of nee"):
        parse_bool("misschien")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("ja", "ja"), ("Ja ", "ja"), ("x", "ja"), ("nee", "nee"), ("N", "nee"), ("n.v.t.", "n.v.t."), ("N.V.T.", "n.v.t."),
     ("nvt", "n.v.t."), ("n.v.t", "n.v.t."), ("niet van toepassing", "n.v.t."), (True, "ja"), (False, "nee"), ("", None), (None, None)],
)
def test_yes_no_not_applicable(typed, expected):
    assert parse_ternary(typed) == expected


def test_yes_no_not_applicable_refuses_other_words():
    with pytest.raises(NotUnderstood, match="geen ja, nee of n.v.t."):
        parse_ternary("soms")


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12,5", 12.5),  # Dutch decimal comma
        ("1.234", 1234.0),  # Dutch thousands mark
        ("1.234,5", 1234.5),
        ("12.345.678", 12345678.0),
        ("12.5", 12.5),  # a dot with one or two decimals is a decimal point
        ("0,5", 0.5),
        (" 12 ", 12.0),
        ("1 234", 1234.0),
        ("1,234.5", 1234.5),  # both marks: unambiguous English
        ("80%", 0.8),
        ("\u22123", -3.0),  # typographic minus
        (3, 3.0),
        (12.5, 12.5),
    ],
)
def test_numbers_as_typed(typed, expected):
    assert parse_number(typed) == pytest.approx(expected)


@pytest.mark.parametrize("typed", ["ca. 20", "12 uur", "ongeveer 5", "1e3", "12,5,3", "abc", "€ 100", True, date(2024, 3, 1)])
def test_numbers_not_understood(typed):
    with pytest.raises(NotUnderstood):
        parse_number(typed)


def test_number_not_understood_is_never_a_guess():
    with pytest.raises(NotUnderstood, match="‘ca. 20’ is geen getal"):
        parse_number("ca. 20")


def test_leading_zero_comma_is_a_decimal():
    assert parse_number("0,125") == pytest.approx(0.125)


@pytest.mark.parametrize(("typed", "expected"), [("1,234", 1.234), ("1,234.5", 1234.5), ("1,234,567", 1234567)])
def test_comma_is_dutch_unless_clearly_english(typed, expected):
    assert parse_number(typed) == pytest.approx(expected)


@pytest.mark.parametrize(("typed", "expected"), [("12", 12), (12.0, 12), ("1.234", 1234), ("0", 0), (" 7 ", 7)])
def test_counts(typed, expected):
    value = parse_count(typed)
    assert value == expected and isinstance(value, int)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("12,5", "geen geheel getal"), ("-3", "negatief"), ("80%", "percentage"), ("ca. 20", "geen getal")],
)
def test_counts_refused(typed, reason):
    with pytest.raises(NotUnderstood, match=reason):
        parse_count(typed)


def test_amount_allows_decimals_but_not_negative():
    assert parse_amount("12,5") == pytest.approx(12.5)
    with pytest.raises(NotUnderstood, match="negatief"):
        parse_amount("-0,5")


# ------------------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    "typed",
    [
        "1-3-2024",
        "01-03-2024",
        "01-03-24",
        "2024-03-01",
        "1/3/2024",
        "1.3.2024",
        "1 maart 2024",
        "1 mrt 2024",
        45352,  # Excel serial number
        45352.0,
        "45352",
        date(2024, 3, 1),
        datetime(2024, 3, 1, 14, 30),
    ],
)
def test_dates_as_typed(typed):
    assert parse_date(typed) == date(2024, 3, 1)


@pytest.mark.parametrize("typed", ["31-02-2024", "binnenkort", "maart", "1-13-2024", True, -5])
def test_dates_not_understood(typed):
    with pytest.raises(NotUnderstood):
        parse_date(typed)


def test_impossible_date_says_so():
    with pytest.raises(NotUnderstood, match="geen bestaande datum"):
        parse_date("31-02-2024")


def test_bare_year_is_not_a_date():
    with pytest.raises(NotUnderstood):
        parse_date("2024")


def test_empty_date_is_none():
    assert parse_date("") is None and parse_date(None) is None


# ------------------------------------------------------------------------------ years, codes, text
@pytest.mark.parametrize(("typed", "expected"), [("2025", 2025), (2025, 2025), (2025.0, 2025), (date(2025, 6, 1), 2025)])
def test_years(typed, expected):
    assert parse_year(typed) == expected


@pytest.mark.parametrize("typed", ["25", "2025,5", "twintig", 1850])
def test_years_refused(typed):
    with pytest.raises(NotUnderstood, match="geen jaartal"):
        parse_year(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("01234567", "01234567"), (" 0123 4567 ", "01234567"), ("1234.5678", "12345678"), (12345678, "12345678"), (12345678.0, "12345678")],
)
def test_codes_keep_leading_zeros_and_drop_separators(typed, expected):
    assert parse_code(typed, 8) == expected


def test_code_refuses_yes_no():
    with pytest.raises(NotUnderstood):
        parse_code(True, 8)


def test_text_is_stripped_and_formula_text_stays_text():
    assert parse_text("  Stichting De Kern \u00a0") == "Stichting De Kern"
    assert parse_text('=HYPERLINK("http://x","y")') == '=HYPERLINK("http://x","y")'
    assert parse_text("   ") is None


@pytest.mark.parametrize("typed", ["#DIV/0!", "#N/B", "#WAARDE!", "Err:502"])
def test_error_values_in_cells_are_not_understood(typed):
    with pytest.raises(NotUnderstood, match="foutwaarde"):
        parse_number(typed)


@pytest.mark.parametrize(
    ("field_type", "typed", "expected"),
    [("janee", "Ja ", True), ("janeenvt", "nvt", "n.v.t."), ("geheel", "1.234", 1234), ("getal", "12,5", 12.5),
     ("datum", "1-3-2024", date(2024, 3, 1)), ("jaar", "2025", 2025), ("code", "0123 4567", "01234567"), ("tekst", " x ", "x")],
)
def test_parser_for_every_field_type(field_type, typed, expected):
    assert parser_for(field_type, 8)(typed) == expected


def test_dutch_number_format_for_messages():
    assert format_number(1234.5) == "1.234,5"
    assert format_number(12.0) == "12"


@pytest.mark.parametrize("typed", ["#DEEL/0!", "#deel/0!", "#N/B", "Fout:502", "Err:522", "#OVERLOOP!"])
def test_error_values_of_dutch_excel_and_libreoffice_are_named_as_such(typed):
    for parse in (parse_number, parse_bool, parse_date, parse_text):
        with pytest.raises(NotUnderstood, match="foutwaarde"):
            parse(typed)


def test_a_dutch_list_ends_in_en_or_of():
    from kvcompliance.values import listing

    assert listing(["jeugdhulp", "onderwijs", "welzijn"]) == "jeugdhulp, onderwijs en welzijn"
    assert listing(["ja", "nee"], "of") == "ja of nee" and listing(["Wmo"]) == "Wmo" and listing([]) == ""
