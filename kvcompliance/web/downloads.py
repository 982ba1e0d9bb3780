"""Downloads: the files ``kvcompliance audit`` wrote into the audit's output folder, as they are.

A file is looked up by name among the files that are there (never a path from the
browser joined to a folder). Zip files for downloading several files at once are made
in the audit's ``downloads/`` folder, never in the output folder. The forms are written
by :func:`kvcompliance.template.write_template` and
:func:`~kvcompliance.template.write_prefilled_forms`, with the letterhead of the audit's
settings, as ``kvcompliance template`` writes them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from kvcompliance.errors import OutputError
from kvcompliance.outputs import FINDINGS_FILE, LOG_FILE, MAILING_FILE, OVERVIEW_FILE, PROVIDER_DIR
from kvcompliance.web import extras
from kvcompliance.web.state import Busy, NotFound, audit_or_404, dossier_path, web

OUTPUT_FILES = (OVERVIEW_FILE, FINDINGS_FILE, MAILING_FILE, LOG_FILE)
MEDIA = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".zip": "application/zip",
    ".eml": "message/rfc822",
    ".sqlite": "application/vnd.sqlite3",
}
WORKBOOKS_ZIP = "werkboeken.zip"
NOT_IN_OUTPUT = "Dit bestand staat niet in de uitvoer van deze controle."
#: How long a download waits for an audit that is swapping its files into the folder.
SETTLE_SECONDS = 5.0
#: Who holds the output folder while a download copies from it, in the words of the messages.
READER = "een download in kvcompliance web"
#: Private folders in downloads/ with the copies of one download (removed once sent).
SNAPSHOT_PREFIX = ".kopie-"
BUSY = ("De uitvoermap van deze controle is op dit moment in gebruik: een controle vervangt er de bestanden, of ze worden"
        " er gelezen. Zolang dat duurt, kunt u niet downloaden (u zou anders een mengsel van twee controles kunnen krijgen)."
        " Probeer het over een minuut opnieuw.")
DRAFTS_ZIP = "e-mailconcepten.zip"
FORMS_ZIP = "formulieren.zip"


def send_file(path: Path, name: str | None = None) -> FileResponse:
    name = name or path.name
    return FileResponse(path, filename=name, media_type=MEDIA.get(Path(name).suffix.lower(), "application/octet-stream"))


def _listed(folder: Path, name: str, suffix: str) -> Path | None:
    """The file called ``name`` in ``folder``, found by listing the folder."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == name and entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False):
                    return Path(entry.path)
    except FileNotFoundError:
        return None
    return None


def make_zip(files: list[tuple[Path, str]], target: Path) -> Path:
    """``files`` (path, name in the zip) as one zip file ``target`` (written, then renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path, name in files:
            archive.write(path, name)
    os.replace(tmp, target)
    return target


# ------------------------------------------------------------------ a settled output folder
def settled_copies(audit: Any, pick: Callable[[Path], list[tuple[Path, str]]]) -> tuple[Path, list[tuple[Path, str]]]:
    """Copies of the files ``pick(output folder)`` chooses (path, name to give), taken while
    the audit's output folder is settled: no audit is swapping its files in meanwhile (a
    moment is waited for one), and a swap an audit died in is put back first, as
    ``kvcompliance verzend`` does. So a download is always one whole run, never a mix of
    two. The copies are hard links where the file system allows (instant, whatever the
    size) in a private folder of ``downloads/``; remove it when they are sent.
    Raises :class:`~kvcompliance.web.state.Busy` while an audit holds the folder."""
    from kvcompliance.folderlock import LOCK_FILE
    from kvcompliance.outputs import settled_output

    audit.downloads.mkdir(parents=True, exist_ok=True, mode=0o700)
    snapshot = audit.downloads / f"{SNAPSHOT_PREFIX}{secrets.token_hex(6)}"
    copies = []
    try:
        with settled_output(audit.output, READER, reading=True, wait=SETTLE_SECONDS):
            chosen = pick(audit.output)
            snapshot.mkdir(mode=0o700)
            for n, (path, name) in enumerate(chosen):
                copy = snapshot / f"{n}{path.suffix}"
                try:
                    os.link(path, copy)
                except OSError:  # a file system without hard links
                    shutil.copyfile(path, copy)
                copies.append((copy, name))
    except OutputError as exc:
        remove_copies(snapshot)
        if os.path.lexists(audit.output / LOCK_FILE):
            raise Busy(f"{BUSY} {exc}") from None
        raise
    except BaseException:
        remove_copies(snapshot)
        raise
    return snapshot, copies


def remove_copies(snapshot: Path) -> None:
    shutil.rmtree(snapshot, ignore_errors=True)


def _send_copy(snapshot: Path, copies: list[tuple[Path, str]], missing: str) -> Response:
    if not copies:
        remove_copies(snapshot)
        raise NotFound(missing)
    (path, name), = copies
    response = send_file(path, name)
    response.background = BackgroundTask(remove_copies, snapshot)
    return response


def _zip_copies(audit: Any, pick: Callable[[Path], list[tuple[Path, str]]], zip_name: str) -> Path:
    """The files ``pick`` chooses, from a settled output folder, in one new zip file."""
    snapshot, copies = settled_copies(audit, pick)
    try:
        return make_zip(copies, snapshot.with_name(f"{snapshot.name}-{zip_name}"))
    finally:
        remove_copies(snapshot)


def _workbooks(output: Path) -> list[tuple[Path, str]]:
    folder = output / PROVIDER_DIR
    if not folder.is_dir():
        raise NotFound("Deze controle heeft nog geen werkboeken.")
    books = sorted(p for p in folder.iterdir() if p.suffix == ".xlsx" and p.is_file() and not p.is_symlink())
    return [(p, f"{PROVIDER_DIR}/{p.name}") for p in books]


def _drafts(output: Path) -> list[tuple[Path, str]]:
    drafts = extras.draft_files(output)
    if not drafts:
        raise NotFound("Er zijn (nog) geen e-mailconcepten.")
    return [(p, f"{p.parent.name}/{p.name}") for p in drafts]


def _send_zip(path: Path, name: str) -> Response:
    response = send_file(path, name)
    response.background = BackgroundTask(path.unlink, missing_ok=True)
    return response


async def output_file(request: Request) -> Response:
    audit = audit_or_404(request)
    name = request.path_params["name"]
    if name == WORKBOOKS_ZIP:
        return _send_zip(await run_in_threadpool(_zip_copies, audit, _workbooks, WORKBOOKS_ZIP), f"werkboeken-{audit.id}.zip")
    if name == DRAFTS_ZIP:
        if not web(request).features.drafts:
            raise NotFound("Er zijn (nog) geen e-mailconcepten.")
        return _send_zip(await run_in_threadpool(_zip_copies, audit, _drafts, DRAFTS_ZIP), f"e-mailconcepten-{audit.id}.zip")
    if name == "dossier":
        path = dossier_path(web(request), audit)
        if path is None or not path.is_file():
            raise NotFound("Er is geen dossier bij deze controle.")
        return send_file(path)
    if name not in OUTPUT_FILES:
        raise NotFound(NOT_IN_OUTPUT)

    def pick(output: Path) -> list[tuple[Path, str]]:
        path = _listed(output, name, "")
        return [(path, name)] if path is not None else []

    snapshot, copies = await run_in_threadpool(settled_copies, audit, pick)
    return _send_copy(snapshot, copies, NOT_IN_OUTPUT)


async def workbook(request: Request) -> Response:
    audit = audit_or_404(request)
    name = request.path_params["name"]

    def pick(output: Path) -> list[tuple[Path, str]]:
        path = _listed(output / PROVIDER_DIR, name, ".xlsx")
        return [(path, name)] if path is not None else []

    snapshot, copies = await run_in_threadpool(settled_copies, audit, pick)
    return _send_copy(snapshot, copies, "Dit werkboek staat niet in de uitvoer van deze controle.")


async def make_drafts(request: Request) -> Response:
    """Write the e-mail drafts into the output folder, as ``kvcompliance verzend`` does."""
    state = web(request)
    audit = audit_or_404(request)
    if not state.features.drafts:
        return JSONResponse({"fout": "E-mailconcepten maken kan in deze versie van kvcompliance niet."}, status_code=404)
    if not audit.has_output():
        return JSONResponse({"fout": "Controleer eerst de opgaven."}, status_code=400)
    settings = await run_in_threadpool(audit.settings)
    rules = audit.input_path("regels")
    made = await run_in_threadpool(extras.make_drafts, audit.output, settings, str(rules) if rules else None)
    return JSONResponse({
        "aantal": len(made.written),
        "adres": f"/controles/{audit.id}/download/{DRAFTS_ZIP}",
        "overgeslagen": [{"wie": who, "reden": why} for who, why in made.left],
    })


# ------------------------------------------------------------------ forms
def _letterhead(audit: Any):
    return audit.settings().letterhead()


def _catalogue(audit: Any):
    """The catalogue the forms are made from: the standard one, as ``kvcompliance template``
    uses (a rules file changes norms, not the questions)."""
    from kvcompliance.catalogue import load_catalogue

    return load_catalogue()


def blank_form(audit: Any) -> Path:
    from kvcompliance.template import write_template

    audit.forms.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = audit.forms / f"uitvraag-{audit.year}.xlsx"
    write_template(path, _catalogue(audit), letterhead=_letterhead(audit))
    return path


def prefilled_forms(audit: Any) -> Path:
    import shutil

    from kvcompliance.prefill import write_prefilled_forms
    from kvcompliance.register import load_register

    register_file = audit.input_path("contracten")
    catalogue = _catalogue(audit)
    register = load_register(register_file, catalogue)
    folder = audit.forms / "per-contract"
    if folder.exists():
        shutil.rmtree(folder)
    # in this process (jobs=1): a server thread does not fork worker processes
    written = write_prefilled_forms(register, catalogue, folder, _letterhead(audit), jobs=1)
    return make_zip([(p, p.name) for p in written], audit.downloads / FORMS_ZIP)


async def form(request: Request) -> Response:
    audit = audit_or_404(request)
    return send_file(await run_in_threadpool(blank_form, audit))


async def forms(request: Request) -> Response:
    audit = audit_or_404(request)
    if audit.input_path("contracten") is None:
        raise NotFound("Kies eerst een contractregister voor deze controle.")
    return send_file(await run_in_threadpool(prefilled_forms, audit), f"formulieren-{audit.id}.zip")


def routes(audit: str) -> list[Route]:
    return [
        Route(audit + "/download/{name}", output_file),
        Route(audit + "/werkboek/{name}", workbook),
        Route(audit + "/e-mailconcepten", make_drafts, methods=["POST"]),
        Route(audit + "/formulier", form),
        Route(audit + "/formulieren", forms),
    ]
