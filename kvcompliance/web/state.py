"""What the routes of the web app share: the work folder, the runs, the results in memory,
the templates, and small helpers for requests."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kvcompliance.errors import KvError
from kvcompliance.values import format_number, plural
from kvcompliance.web.extras import Features
from kvcompliance.web.runner import Job, Runner, RunRequest
from kvcompliance.web.uploads import Limits
from kvcompliance.web.workspace import Audit, Workspace

HERE = Path(__file__).resolve().parent
#: Results kept in memory (the most recently shown audits).
KEEP_RESULTS = 3
#: Largest form body (the start page sends a year and a few choices).
MAX_FORM = 16 * 1024
#: Where the audit year came from, as the overview says it (the CLI: 'opgegeven met --jaar').
YEAR_GIVEN = "gekozen bij het aanmaken van de controle in kvcompliance web"


@dataclass
class Shown:
    """An audit's result as the pages show it."""

    result: Any  # AuditResult
    files: dict[str, str]  # return id -> workbook name
    written: bool  # True: from a run that wrote the output folder
    order: list[str] | None = None  # return ids in call-list order (pages.call_rows)
    rows: list[dict[str, Any]] | None = None  # the call list as the table shows it (pages.call_rows)
    comparisons: Any = None  # every return's sector comparison, made when a provider page first needs it
    run: str | None = None  # the run whose files the output folder held (its manifest): the files to download
    manifest: tuple | None = None  # that manifest file as last seen holding ``run`` (pages._same_run)


class WebState:
    """What the routes share: the work folder, the runs, the results in memory."""

    def __init__(self, workspace: Workspace, features: Features, limits: Limits, jobs: int):
        self.workspace = workspace
        self.features = features
        self.limits = limits
        self.jobs = jobs
        self.results: OrderedDict[str, Shown] = OrderedDict()
        self.runner = Runner(self._keep)
        #: Per audit, the inputs its running audit was started with (Audit.input_fingerprints).
        self.run_inputs: dict[str, dict[str, str]] = {}
        #: Per audit, the uploads being put among its returns now: no run starts meanwhile.
        self.placing: Counter[str] = Counter()
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["aantal"] = lambda n, one, many: plural(n, one, many)
        self.env.filters["getal"] = lambda n: format_number(n, 0)
        self.env.filters["datum"] = date_text

    def _keep(self, audit_id: str, job: Job, result: Any, files: dict[str, str], run: str | None = None) -> None:
        from kvcompliance.audit import status_counts

        from kvcompliance.web.pages import call_rows

        shown = Shown(result, files, job.write, run=run)
        call_rows(shown)  # here, so the results page is quick when the browser asks for it
        self.results[audit_id] = shown
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
                "invoer": self.run_inputs.pop(audit_id, {}),
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


class Busy(KvError):
    """An audit is writing the files asked for right now; try again in a moment (Dutch)."""


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a small url-encoded form (parsed here: no multipart parser needed)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise KvError("Het formulier is te groot.")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


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
        settings_base=str(audit.root),
        dossier=path("dossier") if state.features.dossier else None,
        settings_dossier=state.features.dossier,
        jobs=state.jobs,
        write=write,
    )


def dossier_path(state: WebState, audit: Audit) -> Path | None:
    """The audit's dossier: the one chosen, else the one its settings name ([dossier] pad),
    as ``kvcompliance audit`` without ``--dossier`` takes it; None without the feature."""
    if not state.features.dossier:
        return None
    chosen = audit.input_path("dossier")
    if chosen is not None:
        return chosen
    try:
        named = audit.settings().get("dossier", "pad")
    except KvError:
        return None
    return Path(named) if named else None
