"""The HTTP fast path: stateless 2026-07-28 `tools/call`, `tools/list` and `server/discover` answered inline.

The SDK's 2026-07-28 entry builds a `Connection`, a `ServerRunner`, a `ServerSession`, a task
group with a memory stream and a disconnect watcher, and validates the same data several times
for every request (bench/README.md, "Where the time goes"). The fast path sits where the SDK's
ASGI app sits — behind the Host/Origin guard, authentication and the engine's HTTP front, so
every HTTP policy and every call decision still applies — and answers a request itself only
when it is sure to produce the SDK's answer:

- `eligibility`: the headers and body checks that pick a request (anything unusual goes to the SDK);
- `tools`: per tool, what the SDK does per call, prepared once (argument validator, result conversion);
- `lists`: `tools/list` and `server/discover` results, serialized once per visibility class;
- `wire`: JSON encoding and the one response write;
- `app`: the ASGI component tying them together; it runs the server's own middleware chain
  (the message pipeline: metrics, log context, list visibility, the engine stage) around its
  handlers, so the same compiled policies decide a call on every path.

Whatever it does not take — other methods, the handshake era, a progress token, `Mcp-Param-*`
headers, a tool that wants the request `Context`, malformed input of any kind — goes to the SDK
untouched (the body it read is replayed), so errors stay the SDK's, word for word.
`http.fast_path = false` turns it off. tests/test_fastpath_differential.py holds it to the SDK.
"""

from mcpcloud.fastpath.app import FastPath

__all__ = ["FastPath"]
