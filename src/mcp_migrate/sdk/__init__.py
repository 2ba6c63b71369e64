"""What the platforms look like: MCP SDKs (python.py), Kubernetes (kubernetes.py, workloads.py).

This package's `__init__` stays free of parser imports: rule metadata reads the gates below.
"""

from ..model import Gate

# A Python file can only hold a finding about the MCP SDKs if it imports one of them (rules
# resolve every name through the imports). Checked on the raw bytes before parsing.
PYTHON_IMPORTS_MCP = Gate(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*(?:from|import)[ \t]+(?:mcp|fastmcp)\b", (b"mcp",))

# The same for TypeScript/JavaScript: an MCP SDK import, require or re-export names its package.
TYPESCRIPT_IMPORTS_MCP = Gate(
    rb"@modelcontextprotocol/|[\"']agents/mcp", (b"@modelcontextprotocol/", b"agents/mcp"), imports=True
)
