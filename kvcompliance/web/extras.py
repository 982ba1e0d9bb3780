"""The features other parts of kvcompliance add, found at run time: e-mail drafts and the dossier.

The pages have a place for both (the dossier on the start page and in the downloads, the
e-mail drafts in the downloads) and show it only when the feature is installed. This
module is the whole interface between the web app and those features; each is named by
a reference 'package.module:function', so it can cross into the audit's process.

What the web app calls (and so what it expects of them):

``kvcompliance.mail:write_drafts(out_dir: Path, settings: Settings) -> Any``
    Writes one e-mail draft per provider workbook as ``out_dir/verzending/*.eml`` (as
    ``kvcompliance verzend UITVOER`` does). Called in the web server when the officer asks
    for the drafts; the page offers ``verzending/*.eml`` as one zip. What it returns is
    shown when it has ``.skipped`` (a list of (workbook or provider, Dutch reason)).

``kvcompliance.dossier:record_audit(path: Path, result: AuditResult, reports: WrittenReports) -> None``
    Keeps the audit in the dossier ``path`` (one transaction), as ``kvcompliance audit
    --dossier FILE`` does. Called in the audit's process right after ``write_reports``.
    The dossier file itself can be downloaded from the results page.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAIL = "kvcompliance.mail:write_drafts"
DOSSIER = "kvcompliance.dossier:record_audit"
#: Where the e-mail drafts are, inside an output folder.
DRAFTS_DIR = "verzending"


def _present(reference: str) -> str | None:
    """``reference`` when its module can be imported and has the function, else None."""
    module_name, _, name = reference.partition(":")
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
        module = importlib.import_module(module_name)
    except Exception:  # noqa: BLE001 - a feature that cannot load is a feature that is not there
        return None
    return reference if callable(getattr(module, name, None)) else None


@dataclass(frozen=True)
class Features:
    """The optional features the web app offers (each a 'module:function' or None)."""

    drafts: str | None = None
    dossier: str | None = None

    @classmethod
    def detect(cls) -> "Features":
        return cls(drafts=_present(MAIL), dossier=_present(DOSSIER))


def call(reference: str, *args: Any) -> Any:
    module_name, _, name = reference.partition(":")
    return getattr(importlib.import_module(module_name), name)(*args)


def draft_files(out_dir: Path) -> list[Path]:
    """The e-mail drafts in an output folder, by name."""
    folder = Path(out_dir) / DRAFTS_DIR
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix.lower() == ".eml" and p.is_file()), key=lambda p: p.name.casefold())


def skipped(outcome: Any) -> list[tuple[str, str]]:
    """What the drafts function says it did not write, when it says so."""
    found = getattr(outcome, "skipped", None) or []
    rows = []
    for item in found:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            rows.append((str(item[0]), str(item[1])))
    return rows
