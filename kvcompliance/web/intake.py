"""Adding returns to an audit: one file (or a zip) per request, or many small files in a bundle.
Names, limits and zip guards are :mod:`kvcompliance.web.uploads`'."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcompliance.ingest.inbox import display_name
from kvcompliance.web.state import WebState, audit_or_404, form_fields, web
from kvcompliance.web.uploads import (
    Outcome,
    UploadRefused,
    megabytes,
    place,
    receive,
    receive_bundle,
    recount,
    skip_reason,
    temp_path,
    too_big,
    unpack_zip,
)
from kvcompliance.web.workspace import Audit


BUSY = "Er loopt een controle; verander de bestanden pas als die klaar is."


def _modified(request: Request) -> float | None:
    """The file's last change as the browser told it (milliseconds since 1970), in seconds."""
    try:
        value = float(request.headers.get("x-gewijzigd", ""))
    except ValueError:
        return None
    return value / 1000 if 0 < value < 10**14 else None


async def _store_return(state: WebState, audit: Audit, tmp: Path, sent: str, digest: str, modified: float | None,
                        outcome: Outcome) -> None:
    """Put one received file among the audit's returns (a zip file: what is in it).

    Asked again now that the file has arrived: a run started meanwhile (a long upload, a
    second tab) gets nothing added under it; and while the file is placed, no run starts.
    """
    reason = skip_reason(sent) or (BUSY if state.runner.busy(audit.id) else None)
    if reason is not None:
        tmp.unlink(missing_ok=True)
        outcome.refused.append((sent, reason))
        return
    state.placing[audit.id] += 1  # nothing awaited since the question above
    try:
        if sent.lower().endswith(".zip"):
            try:
                unpacked = await run_in_threadpool(unpack_zip, tmp, sent, audit.inbox, state.limits)
            finally:
                tmp.unlink(missing_ok=True)
            outcome.added += unpacked.added
            outcome.present += unpacked.present
            outcome.refused += unpacked.refused
        else:
            await run_in_threadpool(place, tmp, audit.inbox, sent, digest, modified, state.limits.files, outcome)
    finally:
        state.placing[audit.id] -= 1


def _receiving(request: Request) -> tuple[WebState, Audit, Response | None]:
    state = web(request)
    audit = audit_or_404(request)
    if state.runner.busy(audit.id):
        return state, audit, JSONResponse({"fout": BUSY}, status_code=409)
    audit.inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    recount(audit.inbox)
    return state, audit, None


async def upload_return(request: Request) -> Response:
    """One file (or a zip of files) for the audit's returns, as the raw request body."""
    state, audit, busy = _receiving(request)
    if busy is not None:
        return busy
    sent = request.query_params.get("naam", "")[:255] or "bestand"
    outcome = Outcome()
    is_zip = sent.lower().endswith(".zip")
    limit = state.limits.zip_bytes if is_zip else state.limits.file_bytes
    what = "zip-bestand" if is_zip else "bestand"
    if int(request.headers.get("content-length") or 0) > limit:
        outcome.refused.append((sent, str(too_big(sent, limit, what))))
        return JSONResponse(outcome.as_json(), status_code=413)
    tmp = temp_path(audit.inbox)
    try:
        digest = await receive(request.stream(), tmp, limit, sent, what)
    except UploadRefused as exc:
        outcome.refused.append((sent, str(exc)))
        return JSONResponse(outcome.as_json(), status_code=413)
    await _store_return(state, audit, tmp, sent, digest, _modified(request), outcome)
    return JSONResponse(outcome.as_json())


async def upload_bundle(request: Request) -> Response:
    """Many small returns in one request (see :func:`kvcompliance.web.uploads.receive_bundle`)."""
    state, audit, busy = _receiving(request)
    if busy is not None:
        return busy
    outcome = Outcome()
    if int(request.headers.get("content-length") or 0) > state.limits.zip_bytes:
        outcome.refused.append(("", f"Te veel in één keer: stuur hoogstens {megabytes(state.limits.zip_bytes)} tegelijk."))
        return JSONResponse(outcome.as_json(), status_code=413)

    async def store(tmp: Path, sent: str, digest: str, modified: float | None) -> None:
        await _store_return(state, audit, tmp, sent, digest, modified, outcome)

    try:
        await receive_bundle(request.stream(), audit.inbox, state.limits, store)
    except UploadRefused as exc:
        outcome.refused.append(("", str(exc)))
        return JSONResponse(outcome.as_json(), status_code=413)
    return JSONResponse(outcome.as_json())


async def remove_return(request: Request) -> Response:
    """Take one file out of the audit's returns (a wrong file dropped in by mistake). Only
    a file the web app placed in this audit's own folder, named exactly; the officer's own
    copy is never touched. The next run reads the folder as it then is."""
    audit_or_404(request)
    name = (await form_fields(request)).get("naam", "")
    # asked only now, with nothing awaited until the file is gone: a run started while the
    # request arrived is not robbed of a file it reads
    state, audit, busy = _receiving(request)
    if busy is not None:
        return busy
    entry = next((e for e in audit.inbox_files() if display_name(e.name) == name), None)  # as the page shows it
    if entry is None:
        return JSONResponse({"fout": "Dit bestand staat niet (meer) in deze controle."}, status_code=404)
    Path(entry.path).unlink(missing_ok=True)
    recount(audit.inbox)
    return JSONResponse({"verwijderd": name, "aantal": len(audit.inbox_files())})


def routes(audit: str) -> list[Route]:
    return [
        Route(audit + "/opgaven", upload_return, methods=["POST"]),
        Route(audit + "/opgaven/bundel", upload_bundle, methods=["POST"]),
        Route(audit + "/opgaven/verwijderen", remove_return, methods=["POST"]),
    ]
