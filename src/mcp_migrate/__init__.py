"""mcp-migrate: lint and codemod MCP servers from sessions to the stateless protocol."""

__version__ = "0.1.0"
# The distribution's name on the package index: `mcp-migrate` there is another project.
DISTRIBUTION = "mcp-stateless-migrate"
HOME = f"https://pypi.org/project/{DISTRIBUTION}/"
