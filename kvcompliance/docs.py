"""Keep the README's rules and settings tables in step with the catalogue.

``python -m kvcompliance.docs`` rewrites the table between the markers in README.md;
``tests/test_docs.py`` fails when the README is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kvcompliance.catalogue import load_catalogue
from kvcompliance.explain import markdown_rules_table

BEGIN = "<!-- regels:begin (gegenereerd door python -m kvcompliance.docs) -->"
END = "<!-- regels:end -->"
SETTINGS_BEGIN = "<!-- instellingen:begin (gegenereerd door python -m kvcompliance.docs) -->"
SETTINGS_END = "<!-- instellingen:end -->"


def _replace(text: str, begin: str, end: str, body: str) -> str:
    head, sep, rest = text.partition(begin)
    if not sep or end not in rest:
        raise ValueError(f"README.md mist de markeringen {begin} ... {end}")
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}{end}{tail}"


def settings_table() -> str:
    """The keys of the settings file as a Markdown table (from schemas/instellingen.toml)."""
    from kvcompliance.settings import settings_schema

    lines = ["| sectie | sleutel | betekenis | voorbeeld |", "|---|---|---|---|"]
    for section in settings_schema():
        for key in section.keys:
            example = f"`{key.example}`" if "\n" not in str(key.example) else "een brief: zie `kvcompliance init`"
            lines.append(f"| `[{section.key}]` | `{key.key}` | {key.help} | {example} |")
    for section in settings_schema():
        if not section.placeholders:
            continue
        lines += ["", f"Plaatshouders in de teksten van `[{section.key}]`:", "", "| plaatshouder | betekenis |", "|---|---|"]
        for mark in section.placeholders:
            where = f" (alleen in {', '.join(f'`{k}`' for k in mark.only_in)})" if mark.only_in else ""
            lines.append(f"| `{{{mark.key}}}` | {mark.help}{where} |")
    return "\n".join(lines) + "\n"


def render_readme(text: str) -> str:
    """The README text with freshly generated rules and settings tables between the markers."""
    text = _replace(text, BEGIN, END, markdown_rules_table(load_catalogue()))
    return _replace(text, SETTINGS_BEGIN, SETTINGS_END, settings_table())


def main(readme: Path = Path(__file__).resolve().parent.parent / "README.md") -> int:
    text = readme.read_text(encoding="utf-8")
    updated = render_readme(text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
        print(f"{readme} bijgewerkt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
