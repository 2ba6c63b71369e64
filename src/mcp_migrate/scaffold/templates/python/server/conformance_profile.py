"""The fixture tools, resources and prompts the official conformance suite calls by name.

`@modelcontextprotocol/conformance server --requirements 2026-07-28` grades a server through
tools such as `test_simple_text` and `test_input_required_result_multi_round`; a real server has
none of them. With MCP_CONFORMANCE_FIXTURES=1 the reference server registers them (server.py),
so the suite grades the part that matters for a migration: multi round-trip calls (SEP-2322)
answered through any replica, with requestState sealed by the shared keys. Never set it in
production: these are test fixtures.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer, Resolve, Sample
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp_types import (
    AudioContent,
    CallToolResult,
    Completion,
    CreateMessageResult,
    EmbeddedResource,
    ImageContent,
    InputRequiredResult,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)

ENVIRONMENT = "MCP_CONFORMANCE_FIXTURES"
# A 1x1 red pixel (PNG) and a 44-byte silent WAV header: the smallest valid media for the checks.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154"
        "08d763f8cfc000000301010018dd8db00000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(
    b"RIFF"
    + (36).to_bytes(4, "little")
    + b"WAVEfmt "
    + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (1).to_bytes(2, "little")
    + (8000).to_bytes(4, "little")
    + (8000).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (8).to_bytes(2, "little")
    + b"data"
    + (0).to_bytes(4, "little")
).decode()


def _elicit(message: str, field: str, kind: str = "string") -> dict[str, Any]:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return {"method": "elicitation/create", "params": {"mode": "form", "message": message, "requestedSchema": schema}}


def _sample(text: str, max_tokens: int) -> dict[str, Any]:
    return {
        "method": "sampling/createMessage",
        "params": {"messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max_tokens},
    }


ROOTS: dict[str, Any] = {"method": "roots/list", "params": {}}


def _sampling_message(text: str) -> SamplingMessage:
    return SamplingMessage(role="user", content=TextContent(type="text", text=text))


def sample_greeting() -> Sample:
    """A resolver (module level: tool annotations are evaluated in this module's namespace)."""
    return Sample([_sampling_message("Generate a greeting")], max_tokens=50)


def _ask(requests: dict[str, dict[str, Any]], state: str | None = None) -> InputRequiredResult:
    return InputRequiredResult.model_validate(
        {"inputRequests": requests, **({"requestState": state} if state is not None else {})}
    )


def _answers(ctx: Context) -> dict[str, Any]:
    """The client's answers, as plain JSON (the SDK hands them over as models)."""
    found: dict[str, Any] = {}
    for key, value in (ctx.input_responses or {}).items():
        found[key] = value.model_dump(by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value
    return found


def _elicited(answer: Any, field: str) -> Any:
    content = answer.get("content") if isinstance(answer, dict) else None
    return content.get(field) if isinstance(content, dict) else None


def register(mcp: MCPServer[Any]) -> None:
    """Add every fixture the 2026-07-28 requirements call by name (and that this SDK can serve)."""

    @mcp.tool(description="Returns a simple text response.")
    def test_simple_text() -> str:
        return "This is a simple text response for testing."

    @mcp.tool(description="Returns an image.")
    def test_image_content() -> list[ImageContent]:
        return [ImageContent(type="image", data=PNG, mime_type="image/png")]

    @mcp.tool(description="Returns audio.")
    def test_audio_content() -> list[AudioContent]:
        return [AudioContent(type="audio", data=WAV, mime_type="audio/wav")]

    resource = TextResourceContents(
        uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
    )

    @mcp.tool(description="Returns an embedded resource.")
    def test_embedded_resource() -> list[EmbeddedResource]:
        return [EmbeddedResource(type="resource", resource=resource)]

    @mcp.tool(description="Returns text, an image and a resource.")
    def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
        mixed = TextResourceContents(
            uri="test://mixed-content-resource", mime_type="application/json", text='{"test":"data","value":123}'
        )
        return [
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG, mime_type="image/png"),
            EmbeddedResource(type="resource", resource=mixed),
        ]

    @mcp.tool(description="Always fails.")
    def test_error_handling() -> str:
        raise ToolError("This tool intentionally returns an error for testing")

    @mcp.tool(description="Reports progress 0, 50 and 100 of 100.")
    async def test_tool_with_progress(ctx: Context) -> str:
        for step in (0, 50, 100):
            await ctx.report_progress(step, 100)
            if step < 100:
                await anyio.sleep(0.05)
        return "Progress test completed"

    # -- multi round-trip requests (SEP-2322): the state is sealed by the SDK's boundary --------
    @mcp.tool(description="Asks the user's name, then greets them.")
    def test_input_required_result_elicitation(ctx: Context) -> CallToolResult | InputRequiredResult:
        name = _elicited(_answers(ctx).get("user_name"), "name")
        if name is None:  # first round, or answers without the key asked for: ask (again)
            return _ask({"user_name": _elicit("What is your name?", "name")})
        return CallToolResult(content=[TextContent(type="text", text=f"Hello, {name}!")])

    @mcp.tool(description="Samples the client's model.")
    def test_input_required_result_sampling(ctx: Context) -> CallToolResult | InputRequiredResult:
        answer = _answers(ctx).get("capital_question")
        if not isinstance(answer, dict):
            return _ask({"capital_question": _sample("What is the capital of France?", 100)})
        content = answer.get("content")
        text = content.get("text") if isinstance(content, dict) else str(content)
        return CallToolResult(content=[TextContent(type="text", text=f"LLM response: {text}")])

    @mcp.tool(description="Lists the client's roots.")
    def test_input_required_result_list_roots(ctx: Context) -> CallToolResult | InputRequiredResult:
        answer = _answers(ctx).get("client_roots")
        if not isinstance(answer, dict) or not isinstance(answer.get("roots"), list):
            return _ask({"client_roots": ROOTS})
        uris = ", ".join(str(root.get("uri")) for root in answer["roots"] if isinstance(root, dict))
        return CallToolResult(content=[TextContent(type="text", text=f"Client roots: {uris or 'none'}")])

    @mcp.tool(description="Round-trips requestState.")
    def test_input_required_result_request_state(ctx: Context) -> CallToolResult | InputRequiredResult:
        answer = _answers(ctx).get("confirm")
        if answer is None or ctx.request_state != "confirm-pending":
            return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, "confirm-pending")
        return CallToolResult(content=[TextContent(type="text", text=f"state-ok: confirmed={_elicited(answer, 'ok')}")])

    @mcp.tool(description="Asks three things at once.")
    def test_input_required_result_multiple_inputs(ctx: Context) -> CallToolResult | InputRequiredResult:
        answers = _answers(ctx)
        wanted = {
            "user_name": _elicit("What is your name?", "name"),
            "greeting": _sample("Generate a greeting", 50),
            "client_roots": ROOTS,
        }
        missing = {key: request for key, request in wanted.items() if key not in answers}
        if missing or ctx.request_state != "three-questions":
            return _ask(missing or wanted, "three-questions")
        return CallToolResult(content=[TextContent(type="text", text=f"All inputs received: {sorted(answers)}")])

    @mcp.tool(description="Asks two questions, one round each.")
    def test_input_required_result_multi_round(ctx: Context) -> CallToolResult | InputRequiredResult:
        answers, state = _answers(ctx), ctx.request_state or ""
        if state.startswith("round-2:") and "step2" in answers:
            color = _elicited(answers["step2"], "color")
            return CallToolResult(content=[TextContent(type="text", text=f"{state[8:]} likes {color}")])
        name = _elicited(answers.get("step1"), "name")
        if state == "round-1" and name is not None:
            return _ask({"step2": _elicit("Step 2: What is your favorite color?", "color")}, f"round-2:{name}")
        return _ask({"step1": _elicit("Step 1: What is your name?", "name")}, "round-1")

    @mcp.tool(description="Seals its requestState (a tampered one is rejected by the SDK, -32602).")
    def test_input_required_result_tampered_state(ctx: Context) -> CallToolResult | InputRequiredResult:
        if ctx.request_state != "sealed" or "confirm" not in _answers(ctx):
            return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, "sealed")
        return CallToolResult(content=[TextContent(type="text", text="state verified")])

    @mcp.tool(description="Asks only what the client declared it can answer.")
    def test_input_required_result_capabilities(ctx: Context) -> CallToolResult | InputRequiredResult:
        declared = ctx.client_capabilities
        requests: dict[str, dict[str, Any]] = {}
        if declared is not None and declared.elicitation is not None:
            requests["user_name"] = _elicit("What is your name?", "name")
        if declared is not None and declared.sampling is not None:
            requests["greeting"] = _sample("Generate a greeting", 50)
        if declared is not None and declared.roots is not None:
            requests["client_roots"] = ROOTS
        pending = {key: request for key, request in requests.items() if key not in _answers(ctx)}
        if pending:
            return _ask(pending)
        return CallToolResult(content=[TextContent(type="text", text=f"answered: {sorted(requests)}")])

    @mcp.prompt(description="Asks for context before it is built.")
    def test_input_required_result_prompt(ctx: Context) -> list[UserMessage] | InputRequiredResult:
        context = _elicited(_answers(ctx).get("user_context"), "context")
        if context is None:
            return _ask({"user_context": _elicit("What context should the prompt use?", "context")})
        return [UserMessage(f"Use this context: {context}")]

    @mcp.tool(description="Needs the client's sampling capability (undeclared: -32021, by the SDK).")
    def test_missing_capability(greeting: Annotated[CreateMessageResult, Resolve(sample_greeting)]) -> str:
        return "sampled"

    @mcp.completion()  # type: ignore[no-untyped-call, untyped-decorator]  # the SDK leaves it untyped
    async def complete(ref: Any, argument: Any, context: Any) -> Completion:
        values = [v for v in ("paris", "park", "party") if v.startswith(str(getattr(argument, "value", "")))]
        return Completion(values=values, total=len(values), has_more=False)

    # -- resources and prompts -----------------------------------------------------------------
    @mcp.resource("test://static-text", mime_type="text/plain", description="Static text.")
    def static_text() -> str:
        return "This is the content of the static text resource."

    @mcp.resource("test://static-binary", mime_type="image/png", description="Static binary data.")
    def static_binary() -> bytes:
        return base64.b64decode(PNG)

    @mcp.resource("test://template/{id}/data", mime_type="application/json", description="A templated resource.")
    def templated(id: str) -> str:
        return f'{{"id":"{id}","templateTest":true,"data":"Data for ID: {id}"}}'

    @mcp.prompt(description="A simple prompt.")
    def test_simple_prompt() -> str:
        return "This is a simple prompt for testing."

    @mcp.prompt(description="A prompt with two arguments.")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @mcp.prompt(description="A prompt that embeds a resource.")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
        embedded = TextResourceContents(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            UserMessage(EmbeddedResource(type="resource", resource=embedded)),
            UserMessage("Please process the embedded resource above."),
        ]

    @mcp.prompt(description="A prompt with an image.")
    def test_prompt_with_image() -> list[UserMessage]:
        return [
            UserMessage(ImageContent(type="image", data=PNG, mime_type="image/png")),
            UserMessage("Please analyze the image above."),
        ]
