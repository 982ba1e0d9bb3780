"""The real web server and a real browser for the web tests.

:class:`RunningServer` runs :func:`kvcompliance.web.server.prepare`'s app with uvicorn in a
thread on a free port of 127.0.0.1. :func:`launch_chromium` starts the distribution's
Chromium through Playwright (never Playwright's own browser download).
"""

from __future__ import annotations

import http.client
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def need_chromium() -> str:
    """The Chromium to test with. Without one the browser tests are skipped, except in CI
    (CI=true), where .ci/run installs it: there a missing browser fails the run."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium ontbreekt in CI: .ci/run hoort het te installeren (apt-get install -y chromium).")
        pytest.skip("Chromium ontbreekt: installeer het met 'apt-get install -y chromium' om de browsertests te draaien.")
    try:
        import playwright  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Playwright ontbreekt in CI: het hoort bij de testafhankelijkheden (pip install -e '.[test]').")
        pytest.skip("Playwright ontbreekt: pip install -e '.[test]'.")
    return path


class RunningServer:
    """The web app of ``root`` served by uvicorn in a thread, until :meth:`stop`."""

    def __init__(self, root: Path, **options: Any):
        import uvicorn

        from kvcompliance.web.server import prepare

        self.web = prepare(root, 0, **options)
        self.port = self.web.port
        self.token = self.web.token
        self.url = self.web.url
        self.base = f"http://127.0.0.1:{self.port}"
        self.cookie = f"kvcompliance_{self.port}={self.token}"
        self._server = uvicorn.Server(self.web.config())
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.web.sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)

    @property
    def state(self):
        return self.web.app.app.state.web

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self.web.sock.close()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                cookie: bool = True, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request (http.client sends exactly the headers given)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            sent = {"Host": host if host is not None else f"127.0.0.1:{self.port}", **(headers or {})}
            if cookie:
                sent["Cookie"] = self.cookie
            if body is not None:
                sent.setdefault("Content-Length", str(len(body)))
            for name, value in sent.items():
                if value is not None:  # None: leave the header out
                    connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def post(self, path: str, body: bytes = b"", headers: dict[str, str] | None = None, **kwargs: Any):
        return self.request("POST", path, body, {"Origin": self.base, **(headers or {})}, **kwargs)


def launch_chromium(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def wait_for_run(server: RunningServer, audit_id: str, timeout: float = 180) -> dict:
    """Poll the progress of ``audit_id`` as the page does, until the run ends."""
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body = server.request("GET", f"/controles/{audit_id}/voortgang")
        state = json.loads(body)
        if state["toestand"] != "bezig":
            return state
        time.sleep(0.1)
    raise TimeoutError(audit_id)


def upload(server: RunningServer, audit_id: str, path: Path, name: str | None = None) -> dict:
    import json
    from urllib.parse import quote

    status, _, body = server.post(f"/controles/{audit_id}/opgaven?naam={quote(name or path.name)}", path.read_bytes(),
                                  {"Content-Type": "application/octet-stream",
                                   "X-Gewijzigd": str(int(path.stat().st_mtime * 1000))})
    return {"status": status, **json.loads(body)}


def new_audit(server: RunningServer, year: int = 2025, **choices: str) -> str:
    import json
    from urllib.parse import urlencode

    status, _, body = server.post("/controles", urlencode({"jaar": year, **choices}).encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    return json.loads(body)["id"]


def sheet_values(path: Path) -> dict[tuple[str, str], object]:
    """Every non-empty cell of a workbook: (sheet, cell) -> value (read back with openpyxl)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    return {(sheet.title, cell.coordinate): cell.value
            for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None}


def same_workbook(web: Path, cli: Path, replacements: dict[str, str]) -> list:
    """The cells that differ between two workbooks once each run's own words (its run
    time, where its audit year came from) are replaced by ``replacements``'s keys."""

    def normal(value: object) -> object:
        if isinstance(value, str):
            for old, new in replacements.items():
                value = value.replace(old, new)
        return value

    a = {k: normal(v) for k, v in sheet_values(web).items()}
    b = {k: normal(v) for k, v in sheet_values(cli).items()}
    return [(key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def audit_samples(server: RunningServer, pattern: str = "0[1-3]_*.xlsx", year: int = 2025, **choices: str) -> str:
    """A new audit (``choices`` as on the start page) of the sample returns matching
    ``pattern``, uploaded and run to the end; its id."""
    samples = Path(__file__).resolve().parent.parent / "sample_workbooks"
    audit_id = new_audit(server, year, **choices)
    for path in sorted(samples.glob(pattern)):
        upload(server, audit_id, path)
    assert server.post(f"/controles/{audit_id}/start")[0] == 200
    assert wait_for_run(server, audit_id)["toestand"] == "klaar"
    return audit_id
