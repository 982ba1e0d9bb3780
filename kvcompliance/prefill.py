"""One pre-filled form per contract (``kvcompliance template --contracten``), in parallel.

Name, KvK-nummer, contract number and sector come from the contract register and are
locked in the form; the sender, contact, deadline and verslagjaar from the settings. The
forms are independent, so worker processes write them (a thousand contracts take about
as long as writing a thousand plain workbooks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvcompliance.catalogue import Catalogue
from kvcompliance.errors import OutputError
from kvcompliance.settings import Letterhead

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.audit import Progress
    from kvcompliance.register import Register

#: Fields that a pre-filled form takes from the contract register (and locks).
PREFILLED_FIELDS = ("aanbieder_naam", "kvk_nummer", "contractnummer", "sector")
#: First part of the file name of a pre-filled form: uitvraag_<naam>_<contractnummer>.xlsx
PREFILLED_PREFIX = "uitvraag"


def _write_one(item: tuple[str, dict[str, Any], Letterhead, str | None]) -> None:
    """Write one form (runs in a worker process when there are many)."""
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.template import write_template

    path, prefill, letterhead, rules_file = item
    write_template(Path(path), load_catalogue(rules_file), prefill, letterhead)


def write_prefilled_forms(
    register: "Register",
    catalogue: Catalogue,
    out_dir: Path,
    letterhead: Letterhead | None = None,
    *,
    progress: "Progress | None" = None,
    jobs: int = 1,
) -> list[Path]:
    """Write one form per contract of ``register`` into ``out_dir``, pre-filled and locked.

    File names are ``uitvraag_<naam>_<contractnummer>.xlsx``, safe on every system and
    unique. ``out_dir`` is created when needed. Returns the files written, in register order.
    """
    from kvcompliance.parallel import ordered_map
    from kvcompliance.report.names import provider_filename
    from kvcompliance.report.xlsx import os_reason

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is een bestand; geef met -o een map op voor de formulieren.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"De map {out_dir} kan niet worden gemaakt: {os_reason(exc)}.") from None
    taken: set[str] = set()
    items = []
    for contract in register.contracts:
        name = provider_filename(PREFILLED_PREFIX, contract.aanbieder_naam, contract.contractnummer, taken)
        taken.add(name.casefold())
        prefill = {key: getattr(contract, key) for key in PREFILLED_FIELDS if catalogue.has_field(key)}
        items.append((str(out_dir / name), prefill, letterhead or Letterhead(), catalogue.rules_file))
    if progress is not None:
        progress.stage("Formulieren schrijven", len(items))
    for _ in ordered_map(_write_one, items, jobs, on_done=progress.step if progress is not None else None):
        pass
    if progress is not None:
        progress.done()
    return [Path(item[0]) for item in items]
