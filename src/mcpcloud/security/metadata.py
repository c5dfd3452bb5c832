"""RFC 9728 protected resource metadata and the `WWW-Authenticate` challenge that points to it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_url(resource: str) -> str:
    """`https://host/.well-known/oauth-protected-resource/mcp` for resource `https://host/mcp` (RFC 9728 §3.1)."""
    parts = urlsplit(resource)
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def challenge(
    resource_metadata: str | None,
    scopes: list[str],
    error: str | None = None,
    description: str | None = None,
    realm: str = "mcpcloud",
) -> str:
    parts = [f'realm="{realm}"']
    if resource_metadata:
        parts.append(f'resource_metadata="{resource_metadata}"')
    if scopes:
        parts.append(f'scope="{" ".join(scopes)}"')
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_quotable(description)}"')
    return "Bearer " + ", ".join(parts)


def _quotable(text: str) -> str:
    return "".join(ch for ch in text.replace('"', "'").replace("\\", "/") if 0x20 <= ord(ch) < 0x7F)


def metadata_routes(resource: str, authorization_servers: list[str], scopes: list[str], mcp_path: str) -> list[Route]:
    document = {
        "resource": resource,
        "authorization_servers": authorization_servers,
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": "mcpcloud",
    }

    async def protected_resource(_: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    paths = {WELL_KNOWN, WELL_KNOWN + mcp_path.rstrip("/")}
    return [Route(path, protected_resource, methods=["GET"]) for path in sorted(paths)]
