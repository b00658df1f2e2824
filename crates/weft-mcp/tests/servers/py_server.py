"""A small MCP server for weft-mcp's tests, on the PyPI `mcp` package (2.x).

Usage: py_server.py stdio
       py_server.py http PORT        (streamable HTTP on 127.0.0.1:PORT/mcp, answers as SSE)
       py_server.py http-json PORT   (the same, answers as JSON bodies)
"""

import asyncio
import json
import sys
from typing import Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import SamplingMessage, TextContent
from pydantic import BaseModel

server = MCPServer("weft-test-py")
added = []
added_prompts = []


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return f"echo: {text}"


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep for a number of seconds, then answer."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
async def sleep_announced(seconds: float, ctx: Context) -> str:
    """Logs "sleeping" (a notification on the call's own stream), then sleeps."""
    await ctx.info("sleeping")
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def fail(message: str) -> str:
    """Always fails with the message."""
    raise ToolError(f"failure requested: {message}")


class Sum(BaseModel):
    total: float
    count: int


@server.tool()
def add_numbers(a: float, b: float) -> Sum:
    """Adds two numbers, with a structured result."""
    return Sum(total=a + b, count=2)


@server.tool()
async def change_tools(count: int, ctx: Context) -> str:
    """Adds a tool named extra_N, then sends tools/list_changed count times."""
    name = f"extra_{len(added)}"

    def extra() -> str:
        return f"{name} ran"

    server.add_tool(extra, name=name, description=f"An extra tool {name}.")
    added.append(name)
    for _ in range(count):
        await ctx.session.send_tool_list_changed()
    return f"added {name}, notified {count} times"


@server.tool()
async def change_prompts(count: int, ctx: Context) -> str:
    """Adds a prompt named extra_prompt_N, then sends prompts/list_changed count times."""
    from mcp.server.mcpserver.prompts.base import Prompt

    name = f"extra_prompt_{len(added_prompts)}"
    server.add_prompt(Prompt.from_function(lambda: f"{name} text", name=name, description=f"An extra prompt {name}."))
    added_prompts.append(name)
    for _ in range(count):
        await ctx.session.send_prompt_list_changed()
    return f"added {name}, notified {count} times"


@server.tool()
async def slow_with_change(seconds: float, ctx: Context) -> str:
    """Sends tools/list_changed, then keeps the call in flight for a while."""
    await ctx.session.send_tool_list_changed()
    await asyncio.sleep(seconds)
    return "finished"


@server.tool()
async def progress(steps: int, ctx: Context) -> str:
    """Reports progress steps, logging each one."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await ctx.info(f"progress step {i + 1}")
    return f"done {steps} steps"


class Profile(BaseModel):
    name: str
    age: int = 30
    score: float = 95.5
    status: Literal["active", "inactive", "pending"] = "active"
    verified: bool = True


@server.tool()
async def ask_profile(question: str, ctx: Context) -> str:
    """Elicits a profile from the user; answers with the action and the data (JSON)."""
    result = await ctx.elicit(question, Profile)
    if result.action == "accept":
        return json.dumps({"action": "accept", "data": result.data.model_dump()})
    return json.dumps({"action": result.action})


@server.tool()
def client_capabilities(ctx: Context) -> str:
    """The capabilities the client announced (JSON)."""
    capabilities = ctx.session.client_capabilities
    if capabilities is None:
        return "{}"
    return json.dumps(capabilities.model_dump(mode="json", exclude_none=True))


@server.tool()
async def summarize(text: str, ctx: Context) -> str:
    """Asks the client's model (sampling) to summarize the text; answers with the result (JSON)."""
    result = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=text))],
        max_tokens=64,
        system_prompt="Summarize in one line.",
        temperature=0.25,
        stop_sequences=["END"],
        related_request_id=ctx.request_id,
    )
    return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True))


cancelled = []


@server.tool()
async def sleep_tracked(seconds: float, tag: str) -> str:
    """Sleeps; when the call is cancelled, records the tag (see last_cancelled)."""
    try:
        await asyncio.sleep(seconds)
    except BaseException:
        cancelled.append(tag)
        raise
    return f"slept {seconds}"


@server.tool()
def last_cancelled() -> str:
    """The tags of the sleep_tracked calls that were cancelled, comma-separated."""
    return ",".join(cancelled)


@server.tool()
def big_reply(mib: float) -> str:
    """Answers with a text of `mib` MiB (to go past a transport's per-message limit)."""
    return "x" * int(mib * 1024 * 1024)


@server.tool()
def request_meta(ctx: Context) -> str:
    """The `_meta` of this request (JSON; `{}` without one)."""
    meta = ctx.request_context.meta
    if meta is None:
        return "{}"
    if hasattr(meta, "model_dump"):
        meta = meta.model_dump(mode="json", exclude_none=True)
    return json.dumps(dict(meta))


@server.prompt()
def greet(name: str) -> str:
    """A greeting prompt."""
    return f"Please greet {name} warmly."


@server.resource("test://hello")
def hello() -> str:
    """A static text resource."""
    return "hello from the resource"


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode in ("http", "http-json"):
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]), json_response=mode == "http-json")
    else:
        print("weft-test-py: starting on stdio", file=sys.stderr, flush=True)
        server.run("stdio")
