"""A region's own rules file (``--regels``): what it may change, and how it merges.

The file names only what differs. Tables merge (parameters, texts, agenda questions), and
so do norm levels: a ``[[regel.norm]]`` with the status and column of a default level
changes that level and keeps the others; a new one is added. Only with
``norm_vervangen = true`` is the rule's norm exactly the list in the file, and then
``kvcompliance regels`` warns about every status the default had that is gone.
``vastgesteld`` (at the top, or per rule) says who set the norms and when; without it a
norm stays a kvcompliance default (DOMAIN §5.2). ``[[escalatie]]`` blocks at the top
replace the whole escalation ladder (:func:`escalation_ladder` checks it, for the default
catalogue too).
"""

from __future__ import annotations

import copy
from typing import Any

from kvcompliance.catalogue.model import EscalationStep
from kvcompliance.errors import CatalogueError
from kvcompliance.text import quoted

#: What an own rules file may change per rule.
OVERRIDE_KEYS = {
    "id", "titel", "grondslag", "artikel", "toelichting", "sectoren", "actief", "parameters", "norm",
    "norm_vervangen", "waarde", "tekst", "agenda", "vastgesteld",
}
TOP_KEYS = {"regel", "vastgesteld", "escalatie"}
#: What one step of the escalation ladder holds, and limits that keep it readable.
ESCALATION_KEYS = {"trede", "naam", "uitleg"}
MAX_STEPS, MAX_NAME, MAX_EXPLANATION = 9, 60, 300
OPERATOR_KEYS = {"kleiner_dan", "groter_dan", "gelijk_aan", "niet_gelijk_aan", "in", "niet_patroon"}
STATUS_WORDS = {"rood": "rood", "oranje": "oranje", "grijs": "grijs"}
#: Marks a level that came from the own rules file with its place there (for messages).
PLACE = "_plaats"


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise CatalogueError(f"{where}: {message}")


def apply_overrides(rules: list[dict[str, Any]], override: dict[str, Any], where: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The default rules with the file's changes, and Dutch warnings about what it drops."""
    unknown_top = set(override) - TOP_KEYS
    _require(
        not unknown_top,
        where,
        f"onbekende sleutel {', '.join(sorted(unknown_top))}; een regelbestand bevat [[regel]]-blokken en eventueel"
        " vastgesteld en [[escalatie]]-blokken",
    )
    adopted = override.get("vastgesteld", "")
    _require(isinstance(adopted, str), where, "vastgesteld moet tekst zijn (wie, welk besluit, wanneer)")
    entries = override.get("regel", [])
    _require(isinstance(entries, list), where, "gebruik [[regel]]-blokken")
    by_id = {r["id"]: i for i, r in enumerate(rules)}
    seen: set[str] = set()
    warnings: list[str] = []
    for n, entry in enumerate(entries, start=1):
        here = f"{where}, [[regel]] nummer {n}"
        _require(isinstance(entry, dict) and "id" in entry, here, "id ontbreekt")
        rule_id = entry["id"]
        _require(rule_id in by_id, here, f"onbekende regel {quoted(rule_id)} (bekend: {', '.join(by_id)})")
        _require(rule_id not in seen, here, f"regel {rule_id} staat twee keer in het bestand")
        seen.add(rule_id)
        rules[by_id[rule_id]] = _merge_rule(rules[by_id[rule_id]], entry, f"{where}, regel {rule_id}", warnings)
    if adopted:
        for rule in rules:
            rule.setdefault("vastgesteld", adopted)
    return rules, warnings


def _merge_rule(base: dict[str, Any], override: dict[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key in override:
        _require(key in OVERRIDE_KEYS, where, f"onbekende sleutel {quoted(key)} (toegestaan: {', '.join(sorted(OVERRIDE_KEYS))})")
    for key, value in override.items():
        if key in ("id", "norm", "norm_vervangen"):
            continue
        if key == "parameters":
            merged[key] = _merge_params(merged.get(key, {}), value, f"{where}, parameters")
        elif key in ("tekst", "agenda"):
            _require(isinstance(value, dict), where, f"{key} moet een tabel zijn")
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    if "norm" in override or "norm_vervangen" in override:
        replace_all = override.get("norm_vervangen", False)
        _require(isinstance(replace_all, bool), where, "norm_vervangen moet true of false zijn")
        levels = override.get("norm", [])
        _require(isinstance(levels, list), where, "norm moet een lijst niveaus zijn ([[regel.norm]])")
        merged["norm"] = _merge_levels(base.get("norm", []), levels, replace_all, where, warnings)
    return merged


def _merge_params(default: Any, given: Any, where: str) -> Any:
    """Parameters merge key by key; a key the rule does not have is an error."""
    _require(isinstance(given, dict), where, "moet een tabel zijn")
    merged = copy.deepcopy(default)
    for key, value in given.items():
        _require(key in default, where, f"onbekende parameter {quoted(key)} (bekend: {', '.join(sorted(default)) or 'geen'})")
        if isinstance(default[key], dict):
            merged[key] = _merge_params(default[key], value, f"{where}.{key}")
        else:
            _require(not isinstance(value, dict), f"{where}.{key}", "moet een waarde zijn, geen tabel")
            merged[key] = value
    return merged


def _merge_levels(
    default: list[dict[str, Any]], given: list[Any], replace_all: bool, where: str, warnings: list[str]
) -> list[dict[str, Any]]:
    rule_id = where.rsplit(" ", 1)[-1]
    for i, level in enumerate(given, start=1):
        _require(isinstance(level, dict), f"{where}, norm {i}", "een norm moet een tabel zijn")
        _require("status" in level and "kolom" in level, f"{where}, norm {i}", "geef status en kolom")
    given = [{**copy.deepcopy(level), PLACE: f"norm {i}"} for i, level in enumerate(given, start=1)]
    if replace_all:
        before = {lvl["status"] for lvl in default}
        after = {lvl.get("status") for lvl in given}
        for status in sorted(before - after, key=list(STATUS_WORDS).index):
            warnings.append(
                f"Regel {rule_id}: de eigen norm (norm_vervangen = true) heeft geen niveau {status} meer; "
                f"die regel geeft dan nooit meer {status}."
            )
        return given
    merged = [copy.deepcopy(lvl) for lvl in default]
    for level in given:
        match = next((m for m in merged if (m["status"], m["kolom"]) == (level["status"], level["kolom"])), None)
        if match is None:
            merged.append(copy.deepcopy(level))
            continue
        if OPERATOR_KEYS & set(level):
            for op in OPERATOR_KEYS:
                match.pop(op, None)
        match.update(level)
    return merged


def escalation_ladder(raw: Any, where: str) -> tuple[EscalationStep, ...]:
    """The ``[[escalatie]]`` blocks as steps: numbered 1, 2, ... in order, each with a name."""
    _require(isinstance(raw, list) and raw, where, "escalatie moet een of meer [[escalatie]]-blokken zijn (trede, naam, uitleg)")
    _require(len(raw) <= MAX_STEPS, where, f"de escalatieladder heeft meer dan {MAX_STEPS} treden")
    steps = []
    for n, entry in enumerate(raw, start=1):
        here = f"{where}, [[escalatie]] nummer {n}"
        _require(isinstance(entry, dict), here, "een trede moet een tabel zijn met trede, naam en uitleg")
        unknown = set(entry) - ESCALATION_KEYS
        _require(not unknown, here, f"onbekende sleutel {', '.join(sorted(unknown))} (toegestaan: trede, naam, uitleg)")
        step = entry.get("trede")
        _require(
            isinstance(step, int) and not isinstance(step, bool) and step == n,
            here,
            f"trede moet {n} zijn: de treden lopen op van 1, in volgorde (nu: {quoted(step)})",
        )
        name, explanation = entry.get("naam"), entry.get("uitleg", "")
        _require(isinstance(name, str) and name.strip(), here, "naam ontbreekt of is geen tekst (bijvoorbeeld \"verbeterplan\")")
        _require(isinstance(explanation, str), here, "uitleg moet tekst zijn")
        for label, text, limit in (("naam", name, MAX_NAME), ("uitleg", explanation, MAX_EXPLANATION)):
            _require("\n" not in text and len(text) <= limit, here, f"{label} moet één regel tekst zijn van hoogstens {limit} tekens")
        steps.append(EscalationStep(step, name.strip(), explanation.strip()))
    return tuple(steps)
