"""The agreements of the conversations (``kvcompliance afspraken``) in the web app.

After the conversations the officer adds, on the results page, the workbooks in which the
agreements were typed (the Afspraak, Wie and Termijn columns of the agenda). They wait in
the audit's own folder until the officer stores them; then they are read and stored in the
audit's dossier exactly as ``kvcompliance afspraken`` does
(:func:`~kvcompliance.dossier.agreements.read_folder`,
:func:`~kvcompliance.dossier.agreements.store_agreements`), and removed again.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcompliance.errors import KvError
from kvcompliance.web.state import WebState, audit_or_404, dossier_path, web
from kvcompliance.web.uploads import Outcome, UploadRefused, place, receive, recount, skip_reason, temp_path, too_big
from kvcompliance.web.workspace import Audit

#: Under the audit's folder: the workbooks added, until they are stored.
AGREEMENTS_DIR = "afspraken"
NO_DOSSIER = ("Deze controle heeft geen dossier, dus de afspraken kunnen nergens worden bewaard. Kies bij de volgende"
              " controle een dossier op de startpagina; dan kunt u daar de afspraken bewaren.")
BUSY = "Er loopt een controle; bewaar de afspraken als die klaar is."


def gone(name: str) -> str:
    """The refusal when the audit's dossier was moved or deleted after the audit."""
    return (f"Het dossier {name} is niet meer te vinden: het is verplaatst, hernoemd of verwijderd. Zet het terug en probeer"
            " het opnieuw; dan kunt u hier de afspraken bewaren.")


def _dossier(state: WebState, audit: Audit) -> Path | None:
    """The audit's dossier, once its audit has made it."""
    path = dossier_path(state, audit)
    return path if path is not None and path.is_file() else None


def _refusal(state: WebState, audit: Audit) -> JSONResponse:
    """Why nothing can be stored: no dossier chosen, or the one chosen is gone."""
    path = dossier_path(state, audit)
    return JSONResponse({"fout": NO_DOSSIER if path is None else gone(path.name)}, status_code=400)


def waiting(audit: Audit) -> list[str]:
    """The names of the workbooks added and not yet stored, by name."""
    return waiting_in(audit.folder / AGREEMENTS_DIR)


def waiting_in(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=str.casefold)


async def add_workbook(request: Request) -> Response:
    """One workbook with agreements, as the raw body (its name in ``?naam=``)."""
    from kvcompliance.dossier.agreements import OTHER_SPREADSHEETS, WORKBOOK_SUFFIXES

    state = web(request)
    audit = audit_or_404(request)
    if _dossier(state, audit) is None:
        return _refusal(state, audit)
    sent = request.query_params.get("naam", "")[:255]
    not_one = skip_reason(sent, "werkboek")  # Excel's ~$ lock file: the reader would pass it over without a word
    if not_one:
        return JSONResponse({"fout": not_one}, status_code=400)
    if Path(sent).suffix.lower() not in (*WORKBOOK_SUFFIXES, *OTHER_SPREADSHEETS):
        return JSONResponse({"fout": f"{sent} is geen werkboek: kies het werkboek voor het accountgesprek (.xlsx) waarin u de"
                                     " afspraken invulde."}, status_code=400)
    folder = audit.folder / AGREEMENTS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    limit = state.limits.input_bytes
    tmp = temp_path(folder)
    try:
        if int(request.headers.get("content-length") or 0) > limit:
            raise too_big(sent, limit, what="werkboek", return_form=False)
        sha256 = await receive(request.stream(), tmp, limit, sent, what="werkboek", return_form=False)
    except UploadRefused as exc:
        return JSONResponse({"fout": str(exc)}, status_code=413)
    try:
        modified = int(request.headers.get("x-gewijzigd", "")) / 1000  # the officer's own file time: the newest copy wins
    except ValueError:
        modified = None
    outcome = Outcome()
    place(tmp, folder, sent, sha256, modified, state.limits.files, outcome)
    if outcome.refused:
        return JSONResponse({"fout": outcome.refused[0][1]}, status_code=400)
    return JSONResponse({"fout": None, "wachtend": waiting(audit)})


def _store(folder: Path, dossier_file: Path) -> dict:
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.dossier import open_dossier
    from kvcompliance.dossier.agreements import read_folder, store_agreements, summary

    dossier = open_dossier(dossier_file, create=False, write=True)
    found = read_folder(folder, load_catalogue())
    stored = store_agreements(dossier, found.read)
    lines, notes, problems = summary(folder, found, stored, dossier.path, names_only=True)
    return {"regels": [line.strip() for line in lines], "opmerkingen": [note.strip() for note in notes],
            "problemen": [problem.strip() for problem in problems]}


async def store(request: Request) -> Response:
    """Read the workbooks added and store their agreements in the audit's dossier."""
    state = web(request)
    audit = audit_or_404(request)
    dossier = _dossier(state, audit)
    if dossier is None:
        return _refusal(state, audit)
    if state.runner.busy(audit.id):
        return JSONResponse({"fout": BUSY}, status_code=409)
    folder = audit.folder / AGREEMENTS_DIR
    if not waiting(audit):
        return JSONResponse({"fout": "Voeg eerst de werkboeken toe waarin u de afspraken invulde."}, status_code=400)
    read = _files(folder)  # before reading: a workbook added while these are stored waits for the next time
    try:
        answer = await run_in_threadpool(_store, folder, dossier)
    except KvError as exc:  # the dossier could not be written: the workbooks stay for another try
        return JSONResponse({"fout": str(exc)}, status_code=400)
    for path, seen in read.items():  # only the copies this page received and that were read
        with contextlib.suppress(OSError):
            if _identity(path) == seen:
                path.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()  # empty: nothing waits
    recount(folder)
    return JSONResponse({"fout": None, **answer, "wachtend": waiting(audit)})


def _identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _files(folder: Path) -> dict[Path, tuple[int, int, int]]:
    """The workbooks waiting in ``folder``, each with what tells it apart from a later one."""
    found = {}
    for name in waiting_in(folder):
        with contextlib.suppress(OSError):
            found[folder / name] = _identity(folder / name)
    return found


def routes(audit: str) -> list[Route]:
    return [
        Route(audit + "/afspraken/bestand", add_workbook, methods=["POST"]),
        Route(audit + "/afspraken", store, methods=["POST"]),
    ]
