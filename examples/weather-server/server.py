"""A weather MCP server as many teams wrote it in 2025: Streamable HTTP with sessions."""

import argparse

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.server import StreamableHTTPASGIApp  # noqa: F401

mcp = FastMCP(
    "weather",
    host="0.0.0.0",
    port=8080,
    session_idle_timeout=900,
)


@mcp.tool()
async def forecast(city: str, ctx: Context) -> str:
    """Three-day forecast for a city."""
    await ctx.report_progress(0.5, 1.0)
    return f"Sunny in {city} for the next three days."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="streamable-http")
    args = parser.parse_args()
    mcp.run(transport=args.transport)


if __name__ == "__main__":
    main()
