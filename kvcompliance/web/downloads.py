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
import zipfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from kvcompliance.outputs import FINDINGS_FILE, LOG_FILE, MAILING_FILE, OVERVIEW_FILE, PROVIDER_DIR
from kvcompliance.web import extras
from kvcompliance.web.state import NotFound, audit_or_404, dossier_path, web

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
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path, name in files:
            archive.write(path, name)
    os.replace(tmp, target)
    return target


def _fresh(target: Path, sources: list[Path]) -> bool:
    """Whether ``target`` was made after every one of ``sources`` last changed."""
    if not target.is_file():
        return False
    made = target.stat().st_mtime_ns
    return all(p.stat().st_mtime_ns <= made for p in sources)


def workbooks_zip(audit: Any) -> Path:
    folder = audit.output / PROVIDER_DIR
    books = sorted(p for p in folder.iterdir() if p.suffix == ".xlsx" and p.is_file()) if folder.is_dir() else []
    target = audit.downloads / WORKBOOKS_ZIP
    if not _fresh(target, books + [folder]):
        make_zip([(p, f"{PROVIDER_DIR}/{p.name}") for p in books], target)
    return target


async def output_file(request: Request) -> Response:
    audit = audit_or_404(request)
    name = request.path_params["name"]
    if name == WORKBOOKS_ZIP:
        if not (audit.output / PROVIDER_DIR).is_dir():
            raise NotFound("Deze controle heeft nog geen werkboeken.")
        return send_file(await run_in_threadpool(workbooks_zip, audit), f"werkboeken-{audit.id}.zip")
    if name == DRAFTS_ZIP:
        drafts = extras.draft_files(audit.output) if web(request).features.drafts else []
        if not drafts:
            raise NotFound("Er zijn (nog) geen e-mailconcepten.")
        target = audit.downloads / DRAFTS_ZIP
        await run_in_threadpool(make_zip, [(p, f"{p.parent.name}/{p.name}") for p in drafts], target)
        return send_file(target, f"e-mailconcepten-{audit.id}.zip")
    if name == "dossier":
        path = dossier_path(web(request), audit)
        if path is None or not path.is_file():
            raise NotFound("Er is geen dossier bij deze controle.")
        return send_file(path)
    path = _listed(audit.output, name, "") if name in OUTPUT_FILES else None
    if path is None:
        raise NotFound("Dit bestand staat niet in de uitvoer van deze controle.")
    return send_file(path)


async def workbook(request: Request) -> Response:
    audit = audit_or_404(request)
    path = _listed(audit.output / PROVIDER_DIR, request.path_params["name"], ".xlsx")
    if path is None:
        raise NotFound("Dit werkboek staat niet in de uitvoer van deze controle.")
    return send_file(path)


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
