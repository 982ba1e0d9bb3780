"""Serving the web app on this computer only: 127.0.0.1, with uvicorn.

:func:`prepare` opens the socket (so the port is known, and taken, before the browser
is opened) and makes the token; :meth:`WebServer.serve` runs until Ctrl+C.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcompliance.errors import KvError
from kvcompliance.web.security import TOKEN_PARAM, new_token
from kvcompliance.web.workspace import Workspace, default_root

HOST = "127.0.0.1"


@dataclass
class WebServer:
    app: Any
    sock: socket.socket
    port: int
    token: str
    workspace: Workspace

    @property
    def url(self) -> str:
        """The address to open: with the token, which the first page turns into a cookie."""
        return f"http://{HOST}:{self.port}/?{TOKEN_PARAM}={self.token}"

    def config(self) -> Any:
        import uvicorn

        return uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", server_header=False,
                              timeout_graceful_shutdown=2)

    def serve(self) -> None:
        """Serve until interrupted (Ctrl+C)."""
        import uvicorn

        uvicorn.Server(self.config()).run(sockets=[self.sock])


def open_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise KvError(f"Poort {port} is al in gebruik op deze computer. Kies een andere met --poort, of laat --poort weg.") from None
    sock.listen(128)
    return sock


def prepare(root: Path | None = None, port: int = 0, **options: Any) -> WebServer:
    """The app for the work folder ``root`` (default: :func:`default_root`), on a socket
    bound to 127.0.0.1:``port``. ``options`` go to :func:`~kvcompliance.web.app.create_app`."""
    from kvcompliance.web.app import create_app

    workspace = Workspace(root or default_root())
    sock = open_socket(port)
    port = sock.getsockname()[1]
    token = new_token()
    return WebServer(create_app(workspace, token, port, **options), sock, port, token, workspace)
