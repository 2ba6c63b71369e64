"""The same team's older endpoint, still on the legacy HTTP+SSE transport (mcp v2 SDK)."""

from mcp.server.mcpserver import MCPServer

server = MCPServer("weather-alerts")


@server.tool()
def alerts(region: str) -> list[str]:
    return [f"No alerts for {region}."]


if __name__ == "__main__":
    server.run(transport="sse", host="0.0.0.0", port=8081)
