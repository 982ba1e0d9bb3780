"""Keep the README's rules table in step with the catalogue.

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


def render_readme(text: str) -> str:
    """The README text with a freshly generated rules table between the markers."""
    head, sep, rest = text.partition(BEGIN)
    if not sep or END not in rest:
        raise ValueError("README.md mist de markeringen voor de regeltabel")
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{markdown_rules_table(load_catalogue())}{END}{tail}"


def main(readme: Path = Path(__file__).resolve().parent.parent / "README.md") -> int:
    text = readme.read_text(encoding="utf-8")
    updated = render_readme(text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
        print(f"{readme} bijgewerkt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
