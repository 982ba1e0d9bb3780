"""The results of an audit and the page per return: what the library computed, shown.

The call list is :func:`kvcompliance.report.calllist.call_list`, the page per return is
:func:`kvcompliance.report.provider.provider_view` (the data of that provider's workbook:
findings, agenda, sector comparison, year on year). Nothing is decided here.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from kvcompliance.catalogue import Status
from kvcompliance.outputs import FINDINGS_FILE, LOG_FILE, MAILING_FILE, MANIFEST_FILE, OVERVIEW_FILE, run_id
from kvcompliance.web import agreements, extras
from kvcompliance.web.state import NotFound, audit_or_404, dossier_path, run_request, web

#: The statuses the call list can be filtered on, in the order a user sees them.
FILTER_STATUSES = (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN)


def _state(request: Request):
    return web(request)


@lru_cache(maxsize=1)
def _status_css() -> str:
    """The status colours of the catalogue as classes (the one status → colour table)."""
    from kvcompliance.catalogue import load_catalogue

    lines = []
    for info in load_catalogue().statuses:
        lines.append(f".status-{info.status} {{ background: {info.colour}; }}")
        lines.append(f".licht-{info.status} {{ background: {info.light}; }}")
    return "\n".join(lines) + "\n"


async def status_css(request: Request) -> Response:
    return Response(_status_css(), media_type="text/css")


def status_badge(catalogue: Any, status: Any) -> dict[str, str]:
    if status is None:
        return {"key": "", "label": "", "meaning": ""}
    info = catalogue.status_info(status)
    return {"key": str(info.status), "label": info.label, "meaning": info.meaning}


def _waiting(state: Any, audit: Any, reading: bool) -> Response:
    return state.render("bezig.html", audit=audit, reading=reading)


def _shown_or_wait(request: Request):
    """(audit, shown) — or a response: the progress page while the result is (re)read."""
    state = _state(request)
    audit = audit_or_404(request)
    shown = state.results.get(audit.id)
    if shown is not None:
        if _same_run(shown, audit.output):
            return audit, shown
        # The output folder holds another run now (an audit run into it from elsewhere, or
        # one busy swapping its files in): never show one run's outcome beside another's files.
        state.results.pop(audit.id, None)
    job = state.runner.job(audit.id)
    if job is not None and job.state == "bezig":
        return _waiting(state, audit, reading=not job.write)
    if not audit.has_output() or audit.changed_since_run() or audit.inputs_changed_since_run():
        return RedirectResponse(f"/controles/{audit.id}", status_code=303)
    if job is not None and job.state == "fout" and not job.write and not state.runner.forget(audit.id, job):
        return state.render("fout.html", title="De uitkomst kon niet worden ingelezen", message=job.error,
                            back=f"/controles/{audit.id}")
    state.runner.start(audit.id, run_request(state, audit, write=False))
    return _waiting(state, audit, reading=True)


def _same_run(shown: Any, output: Any) -> bool:
    """Whether the output folder still holds the run ``shown`` was read with (by the run id
    in its manifest; read again only when the manifest file is another one)."""
    try:
        found = os.stat(output / MANIFEST_FILE)
        key = (found.st_ino, found.st_mtime_ns, found.st_size)
    except OSError:
        return False
    if key != shown.manifest:
        if shown.run != run_id(output):
            return False
        shown.manifest = key
    return True


def _downloads(state: Any, audit: Any) -> list[dict[str, str]]:
    base = f"/controles/{audit.id}/download"
    found = []
    for name, label, about in (
        (OVERVIEW_FILE, "Overzicht", "de bellijst, de oordelen per opgave, de bevindingen en wat niet is verwerkt"),
        ("werkboeken.zip", "Alle werkboeken", "één werkboek per aanbieder voor het accountgesprek, in één zip-bestand"),
        (FINDINGS_FILE, "Bevindingen", "alle bevindingen, ;-gescheiden, voor Excel"),
        (MAILING_FILE, "Verzendlijst", "per aanbieder het e-mailadres en het werkboek"),
        (LOG_FILE, "Verwerkingslog", "per ontvangen bestand wat ermee is gedaan"),
    ):
        if name == "werkboeken.zip" or (audit.output / name).is_file():
            found.append({"name": name, "label": label, "about": about, "url": f"{base}/{name}"})
    return found


def call_rows(shown: Any) -> list[dict[str, Any]]:
    """The call list (:func:`kvcompliance.report.calllist.call_list`) as the table shows it;
    made once per result (when it arrives), kept with it."""
    if shown.rows is not None:
        return shown.rows
    from kvcompliance.report.calllist import call_list

    result = shown.result
    badge = lambda status: status_badge(result.catalogue, status)  # noqa: E731
    rows = []
    for row in call_list(result, shown.files):
        who = row.identity
        rows.append({
            "rank": row.rank,
            "id": row.return_id,
            "action": row.action,
            "urgent": row.rank and row.action.startswith("Eerst"),
            "name": who.name or "onbekend",
            "sector": who.sector_label,
            "duty": who.duty or "onbekend",
            "overall": badge(row.verdict.overall),
            "content": badge(row.verdict.content),
            "delivery": badge(row.verdict.delivery),
            "red": row.red,
            "orange": row.orange,
            "first": row.first_point,
            "trend": row.trend,
            "escalation": row.escalation,
            "escalation_reason": row.escalation_reason,
            "workbook": row.workbook,
            "search": " ".join((who.name, who.kvk, who.contract, who.source_name)).casefold(),
        })
    shown.order = [row["id"] for row in rows]
    shown.rows = rows
    return rows


def results_view(state: Any, audit: Any, shown: Any) -> dict[str, Any]:
    from kvcompliance.audit import status_counts
    from kvcompliance.report.compare import trend_counts

    result = shown.result
    badge = lambda status: status_badge(result.catalogue, status)  # noqa: E731
    rows = call_rows(shown)
    counts = status_counts(result)
    register = result.register
    drafts = extras.draft_files(audit.output) if state.features.drafts else []
    return {
        "audit": audit,
        "result": result,
        "rows": rows,
        "sectors": sorted({r["sector"] for r in rows}, key=str.casefold),
        "statuses": [badge(s) for s in FILTER_STATUSES],
        "counts": [(badge(s), n) for s, n in counts.items()],
        "rejected": [{"path": r.source.path, "kind": r.kind, "reason": r.reason} for r in result.rejected],
        "skipped": [{"path": r.source.path, "kind": r.kind, "reason": r.reason} for r in result.skipped],
        "register": register,
        "missing": [_missing_row(result.catalogue, c) for c in register.missing] if register is not None else [],
        "trends": trend_counts(result) if result.trends is not None else None,
        "escalations": any(row["escalation"] for row in rows),
        "downloads": _downloads(state, audit),
        "drafts": drafts,
        "dossier": dossier if (dossier := dossier_path(state, audit)) is not None and dossier.is_file() else None,
        "dossier_gone": agreements.gone(dossier.name) if dossier is not None and not dossier.is_file() else None,
        "agreements_waiting": agreements.waiting(audit) if state.features.dossier else [],
        "run_date": result.run_date,
        "written": shown.written,
        "changed": audit.changed_since_run(),
        "changed_inputs": audit.inputs_changed_since_run(),
        "last_run": audit.last_run or {},
    }


async def results(request: Request) -> Response:
    state = _state(request)
    found = _shown_or_wait(request)
    if isinstance(found, Response):
        return found
    audit, shown = found
    # rendering a thousand rows takes a moment: not on the thread that answers the other requests
    return await run_in_threadpool(lambda: state.render("resultaten.html", **results_view(state, audit, shown)))


def provider_page_view(shown: Any, return_id: str) -> dict[str, Any] | None:
    from kvcompliance.report.compare import sector_comparisons
    from kvcompliance.report.provider import provider_view
    from kvcompliance.values import raw_text

    result = shown.result
    if result.record(return_id) is None:
        return None
    catalogue = result.catalogue
    if shown.comparisons is None:  # every return's, made once (as write_reports does)
        shown.comparisons = sector_comparisons(result)
    view = provider_view(result, return_id, shown.comparisons)
    titles = {rule.id: rule.title for rule in catalogue.rules}
    badge = lambda status: status_badge(catalogue, status)  # noqa: E731
    history = view.history.rules if view.history is not None else {}
    findings = []
    for finding in view.findings:
        previous, mark = history.get(finding.rule_id, (None, None))
        findings.append({
            "rule": finding.rule_id,
            "title": titles.get(finding.rule_id, ""),
            "status": badge(finding.status),
            "value": finding.value,
            "norm": finding.norm,
            "message": finding.message,
            "basis": finding.basis,
            "origin": finding.origin,
            "previous": badge(previous) if previous is not None else None,
            "trend": mark.text if mark is not None else "",
        })
    answers = [
        {"label": fld.label, "value": raw_text(view.values.get(fld.key)), "cell": view.cells.get(fld.key, "")}
        for fld in catalogue.fields
        if fld.key in view.values or fld.key in view.cells
    ]
    # previous and next in the call list
    call_rows(shown)
    order = shown.order
    at = order.index(return_id)
    return {
        "view": view,
        "verdict": {"overall": badge(view.verdict.overall), "content": badge(view.verdict.content),
                    "delivery": badge(view.verdict.delivery)},
        "findings": findings,
        "agenda": [{"topic": item.topic, "status": badge(item.status), "question": item.question, "worsened": item.worsened}
                   for item in view.agenda],
        "sector": view.sector,
        "answers": answers,
        "history": view.history,
        "workbook": shown.files.get(return_id, ""),
        "previous_id": order[at - 1] if at > 0 else None,
        "next_id": order[at + 1] if at + 1 < len(order) else None,
        "position": at + 1,
        "count": len(order),
    }


async def provider_page(request: Request) -> Response:
    state = _state(request)
    found = _shown_or_wait(request)
    if isinstance(found, Response):
        return found
    audit, shown = found
    context = await run_in_threadpool(provider_page_view, shown, request.path_params["return_id"])
    if context is None:
        raise NotFound("Deze opgave staat niet in de uitkomst van de controle.")
    return state.render("opgave.html", audit=audit, **context)


def routes(audit: str) -> list[Route]:
    return [
        Route(audit + "/resultaten", results),
        Route(audit + "/opgave/{return_id}", provider_page),
    ]


def _missing_row(catalogue: Any, contract: Any) -> dict[str, str]:
    """A contract without a return, as the page shows it (the sector by its name)."""
    sector = catalogue.sector(contract.sector)
    return {"contractnummer": contract.contractnummer, "aanbieder_naam": contract.aanbieder_naam,
            "kvk_nummer": contract.kvk_nummer, "sector": sector.label if sector else contract.sector,
            "contact_email": contract.contact_email}
