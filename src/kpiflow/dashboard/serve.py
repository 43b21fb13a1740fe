"""`--serve`: the built site over HTTP on localhost, for browsers that restrict file:// pages."""

from __future__ import annotations

import contextlib
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(site: Path, port: int, host: str = "127.0.0.1") -> None:
    """Serve `site` until interrupted (Ctrl-C); local only by default."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    with ThreadingHTTPServer((host, port), handler) as server:
        print(f"Serving {site} at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
