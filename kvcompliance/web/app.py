"""The web app: routes that call the library and render templates.

Pages: start (new audit, earlier audits), an audit (its inputs: :mod:`~.inputs`; the forms;
adding returns: :mod:`~.intake`; running), its results and one page per return
(:mod:`~.pages`), downloads (:mod:`~.downloads`). Everything an audit computes comes from
:func:`kvcompliance.audit.run_audit`, in the audit's own process (:mod:`~.runner`).
"""

from __future__ import annotations

import logging

from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kvcompliance.errors import KvError
from kvcompliance.ingest.inbox import display_name
from kvcompliance.web import agreements, downloads, inputs, intake, pages
from kvcompliance.web.extras import Features
from kvcompliance.web.security import Guard
from kvcompliance.web.state import HERE, YEAR_GIVEN, Busy, NotFound, WebState, audit_or_404, form_fields, run_request, web
from kvcompliance.web.uploads import Limits, too_big
from kvcompliance.web.workspace import INPUT_KINDS, Workspace

__all__ = ["YEAR_GIVEN", "create_app"]

#: Starting an audit without returns: what to do instead.
NO_RETURNS = ("Voeg eerst opgaven toe: sleep de ingevulde formulieren in het vak bij stap 3, of kies ze met"
              " Bestanden kiezen of Map kiezen.")


def _kinds(state: WebState) -> list:
    return [k for k in INPUT_KINDS if k.key != "dossier" or state.features.dossier]


def _default_year(state: WebState) -> int:
    from kvcompliance.settings import DEFAULT_FILE, load_settings

    path = state.workspace.root / DEFAULT_FILE
    if path.is_file():
        try:
            year = load_settings(path).get("uitvraag", "verslagjaar")
            if year:
                return year
        except KvError:
            pass
    return datetime.now().year - 1


async def start(request: Request) -> Response:
    state = web(request)
    workspace = state.workspace
    choices = {kind.key: workspace.choices(kind.key) for kind in _kinds(state)}
    from kvcompliance.settings import DEFAULT_FILE

    preset = {"instellingen": f"werkmap:{DEFAULT_FILE}"}
    return state.render("start.html", audits=workspace.audits(), kinds=_kinds(state), choices=choices, preset=preset,
                        year=await run_in_threadpool(_default_year, state), root=str(workspace.root), limits=state.limits)


async def create(request: Request) -> Response:
    state = web(request)
    fields = await form_fields(request)
    try:
        year = int(fields.get("jaar", ""))
    except ValueError:
        year = 0
    if not 1990 <= year <= 2100:
        return JSONResponse({"fout": "Vul een controlejaar in, bijvoorbeeld 2025."}, status_code=400)
    audit = await run_in_threadpool(state.workspace.create, year)
    errors = {}
    for kind in _kinds(state):
        choice_id = fields.get(kind.key, "")
        if choice_id:
            choice = state.workspace.choice(kind.key, choice_id, exclude=audit.id)
            if choice is not None:
                error = await inputs.record_choice(state, state.workspace.audit(audit.id), kind.key, choice.path, choice.label)
                if error:
                    errors[kind.key] = error
    return JSONResponse({"id": audit.id, "adres": f"/controles/{audit.id}", "fouten": errors})


async def audit_page(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    files = audit.inbox_files()
    choices = {kind.key: state.workspace.choices(kind.key, exclude=audit.id) for kind in _kinds(state)}
    job = state.runner.job(audit.id)
    limits = state.limits
    return state.render("controle.html", audit=audit, kinds=_kinds(state), choices=choices,
                        files=[display_name(f.name) for f in files],
                        job=job.as_json() if job and job.state == "bezig" else None, limits=limits,
                        changed=audit.changed_since_run(),
                        changed_inputs=audit.inputs_changed_since_run(),
                        too_big_file=str(too_big("{naam}", limits.file_bytes)),
                        too_big_zip=str(too_big("{naam}", limits.zip_bytes, "zip-bestand")))


async def start_run(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    if not audit.inbox_files():
        return JSONResponse({"fout": NO_RETURNS}, status_code=400)
    errors = audit.input_errors()
    if errors:
        return JSONResponse({"fout": "Kies eerst andere bestanden: " + " ".join(errors)}, status_code=400)
    if state.placing[audit.id]:
        return JSONResponse({"fout": "Er worden nog opgaven toegevoegd; start de controle als dat klaar is."}, status_code=409)
    if state.runner.busy(audit.id):
        return JSONResponse({"fout": "Deze controle loopt al."}, status_code=409)
    state.results.pop(audit.id, None)
    state.run_inputs[audit.id] = audit.input_fingerprints()  # what the pages compare with once it is done
    job = state.runner.start(audit.id, run_request(state, audit))
    if job is None:
        return JSONResponse({"fout": "Deze controle loopt al."}, status_code=409)
    return JSONResponse(job.as_json())


async def stop_run(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    if not state.runner.stop(audit.id):
        return JSONResponse({"fout": "Er loopt geen controle."}, status_code=409)
    return JSONResponse({"toestand": "bezig"})  # until the process has cleaned up and ended


async def progress(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    job = state.runner.job(audit.id)
    if job is None:
        return JSONResponse({"toestand": "geen"})
    return JSONResponse({**job.as_json(), "resultaten": f"/controles/{audit.id}/resultaten"})


async def kv_error(request: Request, exc: Exception) -> Response:
    """A project error (a Dutch message): a page, or ``{"fout": ...}`` for a script."""
    status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Busy) else 400
    logging.getLogger(__name__).debug("%s %s: refused", request.method, request.url.path, exc_info=exc)  # with --debug
    if request.method != "GET":
        return JSONResponse({"fout": str(exc)}, status_code=status)
    title = {404: "Niet gevonden", 409: "Even geduld: de uitvoer is in gebruik"}.get(status, "Dat lukte niet")
    back = None
    if "audit_id" in request.path_params and web(request).workspace.audit(request.path_params["audit_id"]) is not None:
        back = f"/controles/{request.path_params['audit_id']}"  # the audit's page: from there on to its outcome
    return web(request).render("fout.html", status=status, title=title, message=str(exc), back=back)


async def unexpected(request: Request, exc: Exception) -> Response:
    """An error in a route: a Dutch page (the details go to the log, see :mod:`~.security`)."""
    from kvcompliance.web.security import UNEXPECTED

    if request.method != "GET" or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"fout": UNEXPECTED}, status_code=500)
    return web(request).render("fout.html", status=500, title="Er ging iets mis", message=UNEXPECTED)


async def page_missing(request: Request, exc: Exception) -> Response:
    return web(request).render("fout.html", status=404, title="Niet gevonden", message="Deze pagina bestaat niet.")


def create_app(workspace: Workspace, token: str, port: int, *, features: Features | None = None, limits: Limits | None = None,
               jobs: int | None = None) -> Any:
    """The app for ``workspace``, guarded by ``token`` on ``port`` (see :mod:`~.security`)."""
    from kvcompliance.parallel import default_jobs

    state = WebState(workspace, features if features is not None else Features.detect(), limits or Limits(),
                     jobs or default_jobs())
    audit = "/controles/{audit_id}"
    routes = [
        Route("/", start),
        Route("/controles", create, methods=["POST"]),
        Route(audit, audit_page),
        *inputs.routes(audit),
        *intake.routes(audit),
        Route(audit + "/start", start_run, methods=["POST"]),
        Route(audit + "/stoppen", stop_run, methods=["POST"]),
        Route(audit + "/voortgang", progress),
        *pages.routes(audit),
        *downloads.routes(audit),
        *agreements.routes(audit),
        Route("/stijl/statussen.css", pages.status_css),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Route("/favicon.ico", lambda request: RedirectResponse("/static/favicon.svg", status_code=301)),
    ]
    app = Starlette(routes=routes, exception_handlers={KvError: kv_error, 404: page_missing, Exception: unexpected})
    app.state.web = state
    return Guard(app, token, port)
