"""The Python `mcp` client (PyPI `mcp` 2.x) driving a Weft agent served as an MCP server.

Usage: py_client.py stdio COMMAND [ARG...] | py_client.py http URL

Runs, in one session: list the tools; call the agent tool `helper` with progress; call it on a
prompt whose tool needs approval (the elicitation callback accepts, then declines); call it
with bad input; start a call that runs until cancelled and cancel it. Prints one JSON object per
line, `{"step": NAME, ...}`, for the Rust test (tests/server_peers.rs) to check.
"""

import json
import os
import sys

import anyio
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def texts(result):
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


async def drive(read, write):
    answers = ["accept", "decline"]
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        action = answers.pop(0) if answers else "cancel"
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    async with ClientSession(read, write, elicitation_callback=on_elicit) as session:
        await session.initialize()
        tools = await session.list_tools()
        emit("tools", names=[t.name for t in tools.tools],
             required=[t.input_schema.get("required") for t in tools.tools])

        progress = []

        async def on_progress(value, total, message):
            progress.append(message)

        result = await session.call_tool("helper", {"prompt": "What's the weather in Paris?"},
                                         progress_callback=on_progress)
        emit("weather", texts=texts(result), is_error=bool(result.is_error), progress=progress)

        result = await session.call_tool("helper", {"prompt": "wipe the cache"})
        emit("approve", texts=texts(result), is_error=bool(result.is_error), asked=list(asked))
        result = await session.call_tool("helper", {"prompt": "wipe the cache"})
        emit("decline", texts=texts(result), is_error=bool(result.is_error), asked=len(asked))

        result = await session.call_tool("helper", {"question": "no prompt"})
        emit("bad_input", texts=texts(result), is_error=bool(result.is_error))

        cancelled = False
        with anyio.move_on_after(2) as scope:
            await session.call_tool("helper", {"prompt": "start the slow job"})
        cancelled = scope.cancelled_caught
        emit("cancel", cancelled=cancelled)

        result = await session.call_tool("helper", {"prompt": "hello"})
        emit("after_cancel", texts=texts(result))


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        # The SDK passes the child only a few variables: hand it the marks directory.
        env = {k: v for k, v in os.environ.items() if k == "WEFT_SERVE_AGENT_MARKS"}
        params = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:], env=env)
        async with stdio_client(params) as (read, write):
            await drive(read, write)
    elif mode == "http":
        async with streamable_http_client(sys.argv[2]) as streams:
            await drive(streams[0], streams[1])
    else:
        raise SystemExit(f"unknown mode {mode}")
    emit("done")


if __name__ == "__main__":
    anyio.run(main)
