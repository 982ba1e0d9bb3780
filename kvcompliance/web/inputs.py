"""The files an audit is given besides the returns: chosen from the work folder or uploaded,
and checked at once with the same checks the CLI makes before it reads a return."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcompliance.errors import KvError
from kvcompliance.web.state import NotFound, WebState, audit_or_404, form_fields, web
from kvcompliance.web.uploads import UploadRefused, receive, temp_path, too_big
from kvcompliance.web.workspace import KINDS, Audit


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
        elif key == "dossier":
            from kvcompliance.dossier import open_dossier

            open_dossier(path, create=False, write=False)
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


def _as_named(error: str | None, path: Path, name: str) -> str | None:
    """``error`` naming the file as the officer named it, not as it is kept (an upload is
    kept as, say, regels.toml; the officer sent regels-eemvallei-2025.toml)."""
    if error and path.name != name and path.is_file():
        return error.replace(path.name, name)
    return error


async def record_choice(state: WebState, audit: Audit, key: str, path: Path | None, name: str) -> str | None:
    new_dossier = key == "dossier" and path is not None and not path.exists()  # the first audit makes it
    error = None if path is None or new_dossier else _as_named(await run_in_threadpool(check_input, audit, key, path), path, name)
    state.workspace.set_input(audit.id, key, path, name, error)
    if key == "regels":  # the register and the previous findings are checked against the rules
        fresh = state.workspace.audit(audit.id)
        for other in ("contracten", "vorige"):
            chosen, other_path = fresh.input(other), fresh.input_path(other)
            if chosen and other_path:
                again = _as_named(await run_in_threadpool(check_input, fresh, other, other_path), other_path, chosen["naam"])
                state.workspace.set_input(audit.id, other, other_path, chosen["naam"], again)
    return error


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
    return JSONResponse({"fout": await record_choice(state, audit, key, choice.path, choice.label)})


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
    return JSONResponse({"fout": await record_choice(state, audit, key, chosen, sent)})


def routes(audit: str) -> list[Route]:
    return [
        Route(audit + "/invoer/{kind}", choose_input, methods=["POST"]),
        Route(audit + "/invoer/{kind}/bestand", upload_input, methods=["POST"]),
    ]
