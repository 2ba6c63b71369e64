"""A small mcp 2 server for verify tests: STATELESS=1 serves legacy clients without sessions."""

import os

import uvicorn
from mcp.server.mcpserver import MCPServer

mcp = MCPServer("verify-probe")


@mcp.tool()
def add(a: int, b: int) -> str:
    return str(a + b)


app = mcp.streamable_http_app(stateless_http=os.environ.get("STATELESS") == "1")

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
