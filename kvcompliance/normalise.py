"""Raw returns -> one typed DataFrame (one row per return), the values not understood, and
how each return is named and tied to its contract.

Types are converted here, by the catalogue's field types, rather than by pandera coercion:
a value that is not understood becomes a :class:`FieldIssue` and an empty cell, so the
other checks on that column still run. Everything later stages need to know about a
return that does not come from its rules enters here, once: which returns count (the
newest of two for the same contract and year), the contract register's expectations, and
the return's :class:`~kvcompliance.model.Identity`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import pandas as pd

from kvcompliance.catalogue import Catalogue, Field
from kvcompliance.model import FieldIssue, Identity, RejectedFile, ReturnRecord
from kvcompliance.text import quoted, squash
from kvcompliance.values import NotUnderstood, parser_for, raw_text

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.register import Register, RegisterMatch

#: pandas dtype per catalogue field type (nullable dtypes: empty stays empty).
DTYPES = {
    "tekst": "string",
    "code": "string",
    "email": "string",
    "sector": "string",
    "janeenvt": "string",
    "jaar": "Int64",
    "geheel": "Int64",
    "getal": "Float64",
    "janee": "boolean",
    "datum": "datetime64[ns]",
}

#: Extra, non-form columns the frame carries: the expectation agreed in the contract
#: register, whether the meldcode is a statutory or a contractual duty for this provider
#: (the sector decides, the register may override), and contract or subsidie.
EXTRA_COLUMNS = {"verwacht_aantal_signalen": "Float64", "meldcodeplicht": "string", "relatie": "string"}

UNKNOWN = "onbekend"


def sector_lookup(catalogue: Catalogue) -> dict[str, str]:
    """Every way a sector may be typed (key, label, the catalogue's aliases) -> sector key."""
    lookup: dict[str, str] = {}
    for sector in catalogue.sectors:
        for text in (sector.key, sector.label, *sector.aliases):
            lookup.setdefault(squash(text), sector.key)
    return lookup


@dataclass(frozen=True)
class Normalised:
    """What normalisation hands on: the returns that count, typed, named and matched."""

    records: tuple[ReturnRecord, ...]  # returns that count, with remarks added here
    frame: pd.DataFrame  # index return_id: one column per field, plus EXTRA_COLUMNS
    issues: tuple[FieldIssue, ...]
    replaced: tuple[RejectedFile, ...]  # older returns for the same contract and year, or for another year
    identities: Mapping[str, Identity]
    register: "RegisterMatch | None" = None
    year: Any = None  # what ``choose_year`` gave for the frame (the audit year and where it came from)


def normalise(
    records: Iterable[ReturnRecord],
    catalogue: Catalogue,
    register: "Register | None" = None,
    choose_year: Callable[[pd.DataFrame], Any] | None = None,
) -> Normalised:
    """Type every return, keep the newest per contract and year, match the register.

    ``choose_year``: given the frame, the audit year (or a tuple starting with it); a
    return over another year is then set aside when the same contract has a return over
    the audit year (:func:`drop_other_years`).
    """
    records = list(records)
    frame, issues = typed_frame(records, catalogue)
    records, frame, issues, replaced = drop_replaced(records, frame, issues)
    year = None
    if choose_year is not None:
        year = choose_year(frame)
        records, frame, issues, other_years = drop_other_years(
            records, frame, issues, year[0] if isinstance(year, tuple) else year)
        replaced += other_years
    match = None
    if register is not None:
        from kvcompliance.register import match_returns

        match = match_returns(register, frame)
        expected, relations, duties = match.expectations(), match.relations(), match.duties()

        def column(values: dict[str, Any], default: pd.Series, dtype: str) -> pd.Series:
            return pd.Series([values.get(rid, default[rid]) for rid in frame.index], index=frame.index, dtype=dtype)

        frame = frame.assign(
            verwacht_aantal_signalen=column(expected, frame["verwacht_aantal_signalen"], "Float64"),
            meldcodeplicht=column(duties, frame["meldcodeplicht"], "string"),
            relatie=column(relations, frame["relatie"], "string"),
        )
        records = [_with_register_notes(r, match) for r in records]
    return Normalised(
        records=tuple(records),
        frame=frame,
        issues=tuple(issues),
        replaced=tuple(replaced),
        identities=identities(records, frame, catalogue, match),
        register=match,
        year=year,
    )


def _parse_column(field: Field, records: list[ReturnRecord], issues: list[FieldIssue], sectors: dict[str, str]) -> list:
    parse = parser_for(field.type, field.digits)
    out = []
    for record in records:
        raw = record.values.get(field.key)
        try:
            value = parse(raw)
            if value is not None and field.type == "sector":
                key = sectors.get(squash(value))
                if key is None:
                    raise NotUnderstood(f"{quoted(value)} is geen bekende sector")
                value = key
            if value is not None and field.type == "datum" and not 1900 <= value.year <= 2100:
                raise NotUnderstood(f"{quoted(raw_text(raw))} is geen geldige datum")
        except NotUnderstood as exc:
            issues.append(FieldIssue(record.return_id, field.key, raw_text(raw), exc.reason))
            value = None
        out.append(value)
    return out


def typed_frame(records: list[ReturnRecord], catalogue: Catalogue) -> tuple[pd.DataFrame, list[FieldIssue]]:
    """The typed frame (index ``return_id``) and the list of values not understood. Whether
    the meldcode is a statutory duty follows from the sector here; the register may say
    otherwise (:func:`normalise`)."""
    issues: list[FieldIssue] = []
    sectors = sector_lookup(catalogue)
    index = pd.Index([r.return_id for r in records], name="return_id", dtype="string")
    columns = {}
    for field in catalogue.fields:
        values = _parse_column(field, records, issues, sectors)
        if field.type == "datum":
            values = [pd.Timestamp(v) if isinstance(v, date) else pd.NaT for v in values]
        columns[field.key] = pd.Series(values, index=index, dtype=DTYPES[field.type])
    for column, dtype in EXTRA_COLUMNS.items():
        columns[column] = pd.Series([None] * len(records), index=index, dtype=dtype)
    statutory = {s.key: s.statutory for s in catalogue.sectors}
    columns["meldcodeplicht"] = pd.Series(
        [None if pd.isna(s) else "wettelijk" if statutory.get(s) else "contractueel" for s in columns["sector"]],
        index=index,
        dtype="string",
    )
    return pd.DataFrame(columns, index=index), issues


def drop_replaced(records: list[ReturnRecord], frame: pd.DataFrame, issues: list[FieldIssue]):
    """Keep one return per KvK-nummer + contractnummer + verslagjaar: the newest file.

    The older files are listed as not processed ("vervangen", or "dubbel" for the very same
    file twice), and the kept return says which file it replaces.
    """
    from kvcompliance.catalogue import load_file_reasons
    from kvcompliance.register import contract_key

    reasons = load_file_reasons()
    groups: dict[tuple, list[ReturnRecord]] = {}
    by_id = {r.return_id: r for r in records}
    for rid, kvk, contract, year in zip(frame.index, frame["kvk_nummer"], frame["contractnummer"], frame["verslagjaar"]):
        if pd.isna(kvk) or pd.isna(contract) or pd.isna(year):
            continue
        groups.setdefault((str(kvk), contract_key(contract), int(year)), []).append(by_id[rid])
    dropped: dict[str, ReturnRecord] = {}
    notes: dict[str, list[str]] = {}
    replaced: list[RejectedFile] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        newest = max(group, key=lambda r: (r.source.modified, r.source.path))
        for older in group:
            if older is newest:
                continue
            dropped[older.return_id] = older
            # the same file twice (saved twice from one e-mail) is a duplicate, not an older version
            key = "dubbel" if older.source.sha256 and older.source.sha256 == newest.source.sha256 else "vervangen"
            replaced.append(RejectedFile(older.source, reasons.text(key, bestand=newest.source.path), reasons.kind(key)))
            if key == "vervangen":
                notes.setdefault(newest.return_id, []).append(
                    f"Deze opgave vervangt een eerdere opgave voor hetzelfde contract en verslagjaar ({older.source.path}); "
                    "alleen deze nieuwste opgave is beoordeeld."
                )
    if not dropped:
        return records, frame, issues, replaced
    kept = [replace(r, notes=r.notes + tuple(notes.get(r.return_id, ()))) for r in records if r.return_id not in dropped]
    frame = frame.drop(index=list(dropped))
    issues = [i for i in issues if i.return_id not in dropped]
    return kept, frame, issues, replaced


def drop_other_years(records: list[ReturnRecord], frame: pd.DataFrame, issues: list[FieldIssue], audit_year: int):
    """Set aside a return over another year than ``audit_year`` when a return over the audit
    year came in for the same KvK-nummer + contractnummer (last year's file left in the
    folder, or sent again with this year's): only the audit year's return is judged, and no
    reminder asks the provider to correct a year it already sent. A return over another
    year without such a return stays (KV92 makes it grijs)."""
    from kvcompliance.catalogue import load_file_reasons
    from kvcompliance.register import contract_key

    reasons = load_file_reasons()
    keys = {}
    for rid, kvk, contract, year in zip(frame.index, frame["kvk_nummer"], frame["contractnummer"], frame["verslagjaar"]):
        if not (pd.isna(kvk) or pd.isna(contract) or pd.isna(year)):
            keys[rid] = (str(kvk), contract_key(contract), int(year))
    current = {key[:2]: rid for rid, key in keys.items() if key[2] == audit_year}
    by_id = {r.return_id: r for r in records}
    dropped: set[str] = set()
    set_aside: list[RejectedFile] = []
    notes: dict[str, list[str]] = {}
    for rid, key in keys.items():
        kept = current.get(key[:2])
        if key[2] == audit_year or kept is None:
            continue
        dropped.add(rid)
        other, this = by_id[rid].source.path, by_id[kept].source.path
        set_aside.append(RejectedFile(by_id[rid].source, reasons.text("ander_jaar", jaar=key[2], controlejaar=audit_year,
                                                                      bestand=this), reasons.kind("ander_jaar")))
        notes.setdefault(kept, []).append(
            f"Voor hetzelfde contract kwam ook een opgave over {key[2]} binnen ({other}); alleen deze opgave over"
            f" {audit_year} is beoordeeld.")
    if not dropped:
        return records, frame, issues, []
    kept_records = [replace(r, notes=r.notes + tuple(notes.get(r.return_id, ()))) for r in records if r.return_id not in dropped]
    return kept_records, frame.drop(index=list(dropped)), [i for i in issues if i.return_id not in dropped], set_aside


def _with_register_notes(record: ReturnRecord, match: "RegisterMatch") -> ReturnRecord:
    notes = list(record.notes)
    contract = match.matched.get(record.return_id)
    if contract is None:
        notes.append("Deze opgave hoort bij geen enkel contract in het contractregister: controleer het contractnummer.")
    elif record.return_id in match.kvk_differs:
        notes.append(f"Het KvK-nummer wijkt af van het contractregister ({contract.kvk_nummer}).")
    return replace(record, notes=tuple(notes)) if notes != list(record.notes) else record


# ------------------------------------------------------------------ identity
_IDENTITY_FIELDS = (
    "sector", "verslagjaar", "aanbieder_naam", "kvk_nummer", "contractnummer", "meldcodeplicht", "relatie", "contact_naam",
    "contact_email",
)


def plain(value: Any) -> Any:
    """A frame cell as a plain Python value; NA, NaN and NaT become ``None``."""
    if value is None:
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return plain(value.item())
    if isinstance(value, datetime) and type(value) is not datetime:  # pandas Timestamp
        return value.to_pydatetime()
    return value


def display(value: Any) -> str:
    """A value as short Dutch text for identity columns ('' when empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return raw_text(value)
    return str(value).strip()


def identities(
    records: Iterable[ReturnRecord], frame: pd.DataFrame, catalogue: Catalogue, match: "RegisterMatch | None" = None
) -> dict[str, Identity]:
    """Return id -> :class:`Identity`: the typed value of a field, else what was typed. The
    contact's address is the register's first (what the gemeente knows), then the form's."""
    columns = {key: dict(zip(frame.index, frame[key].tolist())) for key in _IDENTITY_FIELDS if key in frame.columns}
    found = {}
    for record in records:

        def typed(key: str) -> Any:
            value = plain(columns.get(key, {}).get(record.return_id))
            if value is None:
                raw = record.values.get(key)
                value = None if raw is None or (isinstance(raw, str) and not raw.strip()) else raw
                if isinstance(value, float) and math.isnan(value):
                    value = None
            return value

        who = _identity(catalogue, record, typed)
        contract = match.matched.get(record.return_id) if match is not None else None
        email = (contract.contact_email if contract is not None and contract.contact_email else "") or display(typed("contact_email"))
        found[record.return_id] = replace(who, contact_name=display(typed("contact_naam")), contact_email=email)
    return found


def _identity(catalogue: Catalogue, record: ReturnRecord, typed: Any) -> Identity:
    from kvcompliance.wording import condition_phrase

    sector_raw = display(typed("sector"))
    sector = catalogue.sector(sector_raw) if sector_raw else None
    sector_label = sector.label if sector is not None else (f"{sector_raw} (onbekende sector)" if sector_raw else UNKNOWN)
    duty, relation = typed("meldcodeplicht"), typed("relatie")
    if duty == "wettelijk":
        law = sector.legal_basis if sector is not None and sector.legal_basis else "volgens het contractregister"
        obligation = f"wettelijk verplicht ({law})"
    elif duty == "contractueel":
        obligation = condition_phrase(relation)
    else:
        obligation = "niet vast te stellen: de sector ontbreekt of is onbekend"
    year = typed("verslagjaar")
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if year is not None and not isinstance(year, int):
        year = display(year)
    return Identity(
        return_id=record.return_id,
        name=display(typed("aanbieder_naam")),
        kvk=display(typed("kvk_nummer")),
        contract=display(typed("contractnummer")),
        sector_key=sector.key if sector else None,
        sector_label=sector_label,
        obligation=obligation,
        duty=duty,
        relation=relation,
        year=year,
        source=record.source.path,
        source_name=PurePosixPath(record.source.path).name,
    )
