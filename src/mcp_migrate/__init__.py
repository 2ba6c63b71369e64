"""mcp-migrate: lint and codemod MCP servers from sessions to the stateless protocol."""

__version__ = "0.1.0"
