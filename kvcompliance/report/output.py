"""Writing output files whole or not at all.

Every writer produces its file under a temporary name in the target folder and moves it
into place with :func:`os.replace` only when it is complete, so an officer never finds a
half-written workbook or CSV (for instance after a crash or a full disk).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Iterator

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from kvcompliance.errors import OutputError

#: Options for every workbook: provider text is never turned into a formula, link or number.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "in_memory": True,  # no temporary part files: several times faster on slow disks
}


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was. OS errors
    become :class:`OutputError` with a Dutch message.
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Kan de map {folder} niet maken ({exc.strerror or exc.__class__.__name__}).") from None
    # Not created here (the writer creates it), so the file gets the usual permissions.
    tmp = folder / f".{path.stem[:40]}.{secrets.token_hex(6)}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"Kan {path.name} niet schrijven ({exc.strerror or exc.__class__.__name__}).") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def new_workbook(path: Path) -> Iterator[xlsxwriter.Workbook]:
    """An xlsxwriter workbook with the safe options, written atomically to ``path``."""
    with atomic_path(path) as tmp:
        workbook = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        try:
            yield workbook
        except BaseException:
            with contextlib.suppress(Exception):
                workbook.close()
            raise
        try:
            workbook.close()
        except XlsxWriterException as exc:
            raise OutputError(f"Kan {Path(path).name} niet schrijven ({exc}).") from None
