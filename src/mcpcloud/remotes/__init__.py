"""Upstream MCP servers: their tools offered here, through the same pipeline as local ones (docs/HYBRID.md).

`[remotes.<name>]` in the settings. `mount` is the one place remote tools enter and leave the
server; `upstream` holds the connection (the SDK's own client); `pins` the trust in what a remote
first offered; `oauth`/`login` the hop's OAuth; `cli` the `mcpcloud remotes` commands.
"""
