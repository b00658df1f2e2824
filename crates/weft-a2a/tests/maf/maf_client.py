"""MAF's own A2A agent (`agent_framework_a2a.A2AAgent`) calling a Weft agent served by weft-a2a.

Usage: python maf_client.py AGENT_URL   (a Weft A2A endpoint serving the scripted agent)

Over JSON-RPC and HTTP+JSON: a run, a streamed run, and a multi-turn conversation kept in MAF's
session (the A2A contextId). Prints one `ok: ...` line per check; any failure raises.
"""

import asyncio
import sys

from agent_framework_a2a import A2AAgent

url = sys.argv[1]


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


async def main():
    for binding in ("JSONRPC", "HTTP+JSON"):
        agent = A2AAgent(name="weft", url=url, supported_protocol_bindings=[binding])
        response = await agent.run("hello")
        check(response.text == "You said: hello", f"{binding}: run", response.text)

        pieces = []
        async for update in agent.run("streamed hello", stream=True):
            if update.text:
                pieces.append(update.text)
        check("".join(pieces) == "You said: streamed hello", f"{binding}: streamed run", pieces)

        session = agent.create_session()
        await agent.run("My name is Ada.", session=session)
        response = await agent.run("What is my name?", session=session)
        check(response.text == "Your name is Ada.", f"{binding}: multi-turn", response.text)
    print("all checks passed")


asyncio.run(main())
