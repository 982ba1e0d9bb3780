"""The web app: routes that call the library and render templates.

Pages: start (new audit, earlier audits), an audit (its inputs, the forms, adding returns,
running), its results and one page per return (:mod:`~.pages`), downloads
(:mod:`~.downloads`). Everything an audit computes comes from
:func:`kvcompliance.audit.run_audit`, in the audit's own process (:mod:`~.runner`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kvcompliance.errors import KvError
from kvcompliance.values import format_number, plural
from kvcompliance.web import downloads, pages
from kvcompliance.web.extras import Features
from kvcompliance.web.runner import Job, Runner, RunRequest
from kvcompliance.web.security import Guard
from kvcompliance.web.uploads import (
    Limits,
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
from kvcompliance.web.workspace import INPUT_KINDS, KINDS, Audit, Workspace

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
#: Results kept in memory (the most recently shown audits).
KEEP_RESULTS = 3
#: Largest form body (the start page sends a year and a few choices).
MAX_FORM = 16 * 1024
YEAR_GIVEN = "gekozen bij het aanmaken van de controle in kvcompliance web"


@dataclass
class Shown:
    """An audit's result as the pages show it."""

    result: Any  # AuditResult
    files: dict[str, str]  # return id -> workbook name
    written: bool  # True: from a run that wrote the output folder
    order: list[str] | None = None  # return ids in call-list order, made when first needed


class WebState:
    """What the routes share: the work folder, the runs, the results in memory."""

    def __init__(self, workspace: Workspace, features: Features, limits: Limits, jobs: int):
        self.workspace = workspace
        self.features = features
        self.limits = limits
        self.jobs = jobs
        self.results: OrderedDict[str, Shown] = OrderedDict()
        self.runner = Runner(self._keep)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["aantal"] = lambda n, one, many: plural(n, one, many)
        self.env.filters["getal"] = lambda n: format_number(n, 0)
        self.env.filters["datum"] = date_text

    def _keep(self, audit_id: str, job: Job, result: Any, files: dict[str, str]) -> None:
        from kvcompliance.audit import status_counts

        self.results[audit_id] = Shown(result, files, job.write)
        self.results.move_to_end(audit_id)
        while len(self.results) > KEEP_RESULTS:
            self.results.popitem(last=False)
        if job.write:
            audit = self.workspace.audit(audit_id)
            self.workspace.update(audit_id, laatste={
                "datum": result.run_date.isoformat(),
                "opgaven": len(result.returns),
                "niet_verwerkt": len(result.rejected),
                "oordelen": {str(s): n for s, n in status_counts(result).items()},
                "seconden": round(job.finished - job.started, 1) if job.finished else None,
                "vingerafdruk": audit.fingerprint() if audit else "",
            })

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("features", self.features)
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)


def date_text(value: Any) -> str:
    """'3 maart 2026, 14:05' for a datetime or its ISO text ('' when there is none)."""
    from kvcompliance.settings import date_in_words

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return ""
    return f"{date_in_words(value.date())}, {value:%H:%M}"


def web(request: Request) -> WebState:
    return request.app.state.web


def audit_or_404(request: Request) -> Audit:
    audit = web(request).workspace.audit(request.path_params["audit_id"])
    if audit is None:
        raise NotFound("Deze controle bestaat niet (meer) in de werkmap.")
    return audit


class NotFound(KvError):
    """A page or file that is not there; the message is Dutch."""


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a small url-encoded form (parsed here: no multipart parser needed)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise KvError("Het formulier is te groot.")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _modified(request: Request) -> float | None:
    """The file's last change as the browser told it (milliseconds since 1970), in seconds."""
    try:
        value = float(request.headers.get("x-gewijzigd", ""))
    except ValueError:
        return None
    return value / 1000 if 0 < value < 10**14 else None


# ------------------------------------------------------------------ checks of the inputs
def check_input(audit: Audit, key: str, path: Path) -> str | None:
    """The Dutch error of the chosen file for input ``key``, or None when it can be used.
    The same checks as the CLI's before any return is read."""
    from kvcompliance.catalogue import load_catalogue

    try:
        if key == "instellingen":
            from kvcompliance.settings import load_settings

            load_settings(path)
        elif key == "regels":
            load_catalogue(str(path))
        elif key in ("contracten", "vorige"):
            rules = audit.input_path("regels")
            try:
                catalogue = load_catalogue(str(rules) if rules else None)
            except KvError:
                catalogue = load_catalogue()
            if key == "contracten":
                from kvcompliance.register import load_register

                load_register(path, catalogue)
            else:
                from kvcompliance.history import load_previous

                load_previous(path, catalogue)
    except KvError as exc:
        return str(exc)
    return None


async def _record_choice(state: WebState, audit: Audit, key: str, path: Path | None, name: str) -> str | None:
    error = None if path is None or key == "dossier" else await run_in_threadpool(check_input, audit, key, path)
    state.workspace.set_input(audit.id, key, path, name, error)
    if key == "regels":  # the register and the previous findings are checked against the rules
        fresh = state.workspace.audit(audit.id)
        for other in ("contracten", "vorige"):
            chosen, other_path = fresh.input(other), fresh.input_path(other)
            if chosen and other_path:
                again = await run_in_threadpool(check_input, fresh, other, other_path)
                state.workspace.set_input(audit.id, other, other_path, chosen["naam"], again)
    return error


# ------------------------------------------------------------------ pages
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
                error = await _record_choice(state, state.workspace.audit(audit.id), kind.key, choice.path, choice.label)
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
    return state.render("controle.html", audit=audit, kinds=_kinds(state), choices=choices, files=[f.name for f in files],
                        job=job.as_json() if job and job.state == "bezig" else None, limits=limits,
                        changed=audit.changed_since_run(), errors=audit.input_errors(),
                        too_big_file=str(too_big("{naam}", limits.file_bytes)),
                        too_big_zip=str(too_big("{naam}", limits.zip_bytes, "zip-bestand")))


async def choose_input(request: Request) -> Response:
    """Choose a file from the work folder for an input (or none)."""
    state = web(request)
    audit = audit_or_404(request)
    key = request.path_params["kind"]
    if key not in KINDS:
        raise NotFound("Onbekend soort bestand.")
    fields = await form_fields(request)
    choice_id = fields.get("keuze", "")
    if not choice_id:
        state.workspace.set_input(audit.id, key, None)
        return JSONResponse({"fout": None})
    choice = state.workspace.choice(key, choice_id, exclude=audit.id)
    if choice is None:
        return JSONResponse({"fout": "Dit bestand staat niet (meer) in de werkmap."}, status_code=400)
    return JSONResponse({"fout": await _record_choice(state, audit, key, choice.path, choice.label)})


async def upload_input(request: Request) -> Response:
    """An uploaded settings file, rules file, register, previous findings or dossier."""
    state = web(request)
    audit = audit_or_404(request)
    key = request.path_params["kind"]
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound("Onbekend soort bestand.")
    sent = request.query_params.get("naam", "")[:255]
    suffix = Path(sent).suffix.lower()
    if suffix not in kind.suffixes:
        return JSONResponse({"fout": f"{sent} is geen {kind.label.lower()}: kies een bestand op {', '.join(kind.suffixes)}."},
                            status_code=400)
    limit = state.limits.dossier_bytes if key == "dossier" else state.limits.input_bytes
    target = audit.inputs_dir / (kind.stored_name if key == "vorige" else kind.stored_name + suffix)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = temp_path(target.parent)
    try:
        if int(request.headers.get("content-length") or 0) > limit:
            raise too_big(sent, limit, return_form=False)
        await receive(request.stream(), tmp, limit, sent, return_form=False)
    except UploadRefused as exc:
        return JSONResponse({"fout": str(exc)}, status_code=413)
    tmp.replace(target)
    chosen = target.parent if key == "vorige" else target
    return JSONResponse({"fout": await _record_choice(state, audit, key, chosen, sent)})


async def _store_return(state: WebState, audit: Audit, tmp: Path, sent: str, digest: str, modified: float | None,
                        outcome: Outcome) -> None:
    """Put one received file among the audit's returns (a zip file: what is in it)."""
    reason = skip_reason(sent)
    if reason is not None:
        tmp.unlink(missing_ok=True)
        outcome.refused.append((sent, reason))
    elif sent.lower().endswith(".zip"):
        try:
            unpacked = await run_in_threadpool(unpack_zip, tmp, sent, audit.inbox, state.limits)
        finally:
            tmp.unlink(missing_ok=True)
        outcome.added += unpacked.added
        outcome.present += unpacked.present
        outcome.refused += unpacked.refused
    else:
        await run_in_threadpool(place, tmp, audit.inbox, sent, digest, modified, state.limits.files, outcome)


def _receiving(request: Request) -> tuple[WebState, Audit, Response | None]:
    state = web(request)
    audit = audit_or_404(request)
    if state.runner.busy(audit.id):
        return state, audit, JSONResponse({"fout": "Er loopt een controle; voeg de bestanden toe als die klaar is."},
                                          status_code=409)
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


def run_request(state: WebState, audit: Audit, write: bool = True) -> RunRequest:
    def path(key: str) -> str | None:
        found = audit.input_path(key)
        return str(found) if found is not None else None

    return RunRequest(
        inbox=str(audit.inbox),
        out_dir=str(audit.output),
        year=audit.year,
        year_given=YEAR_GIVEN,
        rules_file=path("regels"),
        register_file=path("contracten"),
        previous_dir=path("vorige"),
        settings_file=path("instellingen"),
        dossier=path("dossier") if state.features.dossier else None,
        dossier_hook=state.features.dossier,
        jobs=state.jobs,
        write=write,
    )


async def start_run(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    if not audit.inbox_files():
        return JSONResponse({"fout": "Voeg eerst opgaven toe."}, status_code=400)
    errors = audit.input_errors()
    if errors:
        return JSONResponse({"fout": "Kies eerst andere bestanden: " + " ".join(errors)}, status_code=400)
    state.results.pop(audit.id, None)
    job = state.runner.start(audit.id, run_request(state, audit))
    if job is None:
        return JSONResponse({"fout": "Deze controle loopt al."}, status_code=409)
    return JSONResponse(job.as_json())


async def progress(request: Request) -> Response:
    state = web(request)
    audit = audit_or_404(request)
    job = state.runner.job(audit.id)
    if job is None:
        return JSONResponse({"toestand": "geen"})
    return JSONResponse({**job.as_json(), "resultaten": f"/controles/{audit.id}/resultaten"})


async def kv_error(request: Request, exc: Exception) -> Response:
    """A project error (a Dutch message): a page, or ``{"fout": ...}`` for a script."""
    status = 404 if isinstance(exc, NotFound) else 400
    if request.method != "GET":
        return JSONResponse({"fout": str(exc)}, status_code=status)
    title = "Niet gevonden" if status == 404 else "Dat lukte niet"
    return web(request).render("fout.html", status=status, title=title, message=str(exc))


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
        Route(audit + "/invoer/{kind}", choose_input, methods=["POST"]),
        Route(audit + "/invoer/{kind}/bestand", upload_input, methods=["POST"]),
        Route(audit + "/opgaven", upload_return, methods=["POST"]),
        Route(audit + "/opgaven/bundel", upload_bundle, methods=["POST"]),
        Route(audit + "/start", start_run, methods=["POST"]),
        Route(audit + "/voortgang", progress),
        *pages.routes(audit),
        *downloads.routes(audit),
        Route("/stijl/statussen.css", pages.status_css),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Route("/favicon.ico", lambda request: RedirectResponse("/static/favicon.svg", status_code=301)),
    ]
    app = Starlette(routes=routes, exception_handlers={KvError: kv_error, 404: page_missing})
    app.state.web = state
    return Guard(app, token, port)
