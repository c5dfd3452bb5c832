"""Why an OAuth bearer token was refused: importable without the JWT and HTTP client libraries.

The authentication middleware catches these whatever the configured modes; only a server with
`oauth` among `auth.modes` imports `mcpcloud.security.oauth` (PyJWT, httpx: ~3.4 MiB of RSS).
"""

from __future__ import annotations


class InvalidToken(Exception):
    """The token is not acceptable; the message is safe to show the caller (it holds no token)."""


class IssuerUnavailable(Exception):
    """The issuer's keys or introspection endpoint cannot be reached: refuse (fail closed), retryably."""
