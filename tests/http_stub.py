"""The base of the small stdlib HTTP servers tests stand up (OAuth issuers, authorization servers)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietJsonHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (pytest output stays readable) and answers JSON."""

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
