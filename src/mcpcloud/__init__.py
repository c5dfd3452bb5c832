"""mcpcloud: one MCP server for local stdio and for a team's Streamable HTTP service."""

__version__ = "0.1.0"
