"""Every request is checked before a route sees it (an ASGI middleware around the app).

- **Host**: only ``127.0.0.1:<port>`` or ``localhost:<port>``. A page on another site
  that makes its own name point at 127.0.0.1 (DNS rebinding) sends its own name: refused.
- **Token**: a random token made at each start is in the address the browser opens
  (``?sleutel=…``). The first request with it gets the token as a cookie (HttpOnly,
  SameSite=Strict, one per port) and is sent on to the same address without it, so the
  token does not stay in the address bar; every later request must carry that cookie.
- **Origin**: a request that changes something (anything but GET and HEAD) must come from
  this app's own origin; a form or script on another site is refused.
- **Headers** on every response: a Content-Security-Policy that allows only this app's
  own files (no inline script, no framing), X-Content-Type-Options, no referrer, no caching.
- **Errors**: an unexpected error in a route becomes a Dutch page, never a traceback in the
  browser; the details go to the log (with ``--debug``).
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

log = logging.getLogger(__name__)

TOKEN_PARAM = "sleutel"
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
    " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]

NO_TOKEN = (
    "Geen toegang. Open kvcompliance via het adres dat het commando <code>kvcompliance web</code> toonde"
    " (met de sleutel erin), of start het opnieuw."
)
FOREIGN_HOST = "Onbekend adres. kvcompliance is alleen te bereiken via 127.0.0.1 of localhost op deze computer."
FOREIGN_ORIGIN = "Geweigerd: dit verzoek komt niet van kvcompliance zelf, maar van een andere website."
UNEXPECTED = (
    "Er ging iets onverwachts mis. Probeer het opnieuw; gebeurt het weer, start dan kvcompliance web opnieuw met --debug"
    " en stuur wat in het venster verschijnt naar de beheerder."
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _page(message: str) -> bytes:
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>kvcompliance</title></head>'
        f"<body><h1>kvcompliance</h1><p>{message}</p></body></html>"
    ).encode()


async def refuse(scope: Scope, send: Send, status: int, message_html: str) -> None:
    """A refusal: a small Dutch page, or ``{"fout": ...}`` for a script's request."""
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    wants_json = b"text/html" not in accept  # a page the browser shows asks for HTML; a script's request does not
    if wants_json:
        text = html.unescape(message_html.replace("<code>", "").replace("</code>", ""))
        body, kind = json.dumps({"fout": text}, ensure_ascii=False).encode(), b"application/json"
    else:
        body, kind = _page(message_html), b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """The checks of the module docstring, around ``app``."""

    def __init__(self, app: Any, token: str, port: int):
        self.app = app
        self.token = token
        self.port = port
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self.cookie = f"kvcompliance_{port}"

    def _cookie_token(self, headers: dict[bytes, bytes]) -> str:
        raw = headers.get(b"cookie", b"").decode("latin-1")
        try:
            jar = SimpleCookie(raw)
        except Exception:  # noqa: BLE001 - a malformed cookie header is no token
            return ""
        morsel = jar.get(self.cookie)
        return morsel.value if morsel is not None else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if host not in self.hosts:
            await refuse(scope, send, 421, FOREIGN_HOST)
            return
        method = scope["method"]
        if method not in SAFE_METHODS and headers.get(b"origin", b"").decode("latin-1") not in self.origins:
            await refuse(scope, send, 403, FOREIGN_ORIGIN)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for key, value in query if key == TOKEN_PARAM]
        if given and method in SAFE_METHODS and secrets.compare_digest(given[-1].encode(), self.token.encode()):
            rest = urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])
            location = scope.get("path", "/") + (f"?{rest}" if rest else "")
            cookie = f"{self.cookie}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                                    (b"content-length", b"0"), *HEADERS]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not secrets.compare_digest(self._cookie_token(headers).encode(), self.token.encode()):
            await refuse(scope, send, 403, NO_TOKEN)
            return

        started = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name.lower() for name, _ in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + HEADERS}
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # noqa: BLE001 - a Dutch page, the details in the log
            log.error("error in %s %s: %s", method, scope.get("path"), exc.__class__.__name__,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            if not started:
                await refuse(scope, send, 500, html.escape(UNEXPECTED))
