"""The e-mail drafts (``kvcompliance verzend``) and the dossier (``--dossier``) in the web app.

The pages keep a place for both: the dossier is chosen on the start page and offered in
the downloads, the e-mail drafts are made and downloaded from the results page. Each is
shown only when its package is installed (:meth:`Features.detect`), and called exactly as
the CLI calls it:

- drafts: :func:`kvcompliance.mail.plan.make_plan` and
  :func:`kvcompliance.mail.messages.write_drafts` into ``UITVOER/verzending/``, as
  ``kvcompliance verzend UITVOER`` does (drafts only; sending stays a CLI step);
- dossier: :func:`kvcompliance.dossier.open_dossier`,
  :func:`kvcompliance.dossier.history.attach_history` before the workbooks and
  :func:`kvcompliance.dossier.store.store_audit` after them, inside the audit's process,
  as ``kvcompliance audit --dossier`` does (see :mod:`kvcompliance.web.runner`); the
  agreements of the conversations are stored in it from the results page
  (:mod:`kvcompliance.web.agreements`), as ``kvcompliance afspraken`` does.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


#: Who holds the output folder while the drafts are made, in the words of the message an
#: audit that wants to write there meanwhile gets.
DRAFTS_MAKER = "een bewerking in kvcompliance web die e-mailconcepten maakt"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Features:
    """The optional features the web app offers."""

    drafts: bool = False
    dossier: bool = False

    @classmethod
    def detect(cls) -> "Features":
        return cls(drafts=_installed("kvcompliance.mail"), dossier=_installed("kvcompliance.dossier"))


def drafts_dir(out_dir: Path) -> Path:
    from kvcompliance.mail.messages import MAIL_DIR

    return Path(out_dir) / MAIL_DIR


def draft_files(out_dir: Path) -> list[Path]:
    """The e-mail drafts in an output folder, by name."""
    folder = drafts_dir(out_dir)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix.lower() == ".eml" and p.is_file()), key=lambda p: p.name.casefold())


@dataclass
class DraftsMade:
    """What making the drafts did: the drafts written, and who got none and why (Dutch)."""

    written: list[Path] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)


def make_drafts(out_dir: Path, settings: Any, rules_file: str | None = None) -> DraftsMade:
    """One e-mail draft per provider workbook, as ``kvcompliance verzend UITVOER`` writes them.

    As verzend does, the output folder is held meanwhile (an audit running there refuses
    this with a Dutch :class:`~kvcompliance.errors.OutputError`, and is refused while this
    runs) and a swap that an audit died in is put back first."""
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.mail.messages import write_drafts
    from kvcompliance.mail.plan import make_plan
    from kvcompliance.outputs import settled_output

    catalogue = load_catalogue(rules_file)
    with settled_output(Path(out_dir), DRAFTS_MAKER):
        plan = make_plan(Path(out_dir), settings, catalogue=catalogue)
        drafts = write_drafts(Path(out_dir), plan.mailing, plan.outgoing, settings.letterhead())
    left = [(f"{item.who} ({item.address})" if item.address else item.who, item.reason) for item in plan.left]
    left += [(name, reason) for name, reason in drafts.kept]
    return DraftsMade([drafts.folder / name for name in drafts.written], left)
