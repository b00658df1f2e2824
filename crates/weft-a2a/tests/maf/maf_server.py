"""A MAF agent served over A2A: MAF's `Agent` on a scripted chat client, behind MAF's own
`A2AExecutor` in the `a2a-sdk` server (the way MAF's docs serve an agent), for Weft's `A2AAgent`.

Usage: python maf_server.py HISTORY_DIR   (prints `listening on PORT` once it serves on 127.0.0.1)

MAF's executor makes a new session per message, with the A2A contextId as its id; the agent's
`FileHistoryProvider` (in HISTORY_DIR) keeps each context's conversation across messages.

The chat client answers `MAF heard: <the last user text>`, and `What is my name?` with the name
the conversation gave (`My name is X.`), so a multi-turn test shows MAF kept the history.
"""

import re
import socket
import sys

import uvicorn
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from agent_framework import Agent, BaseChatClient, ChatResponse, FileHistoryProvider, Message
from agent_framework_a2a import A2AExecutor
from starlette.applications import Starlette


class ScriptedClient(BaseChatClient):
    """A chat client that answers from the conversation, without a model."""

    async def _respond(self, messages):
        texts = [m.text for m in messages if m.role == "user"]
        last = texts[-1] if texts else ""
        if "What is my name" in last:
            names = [m.group(1) for t in texts for m in [re.search(r"My name is (\w+)", t)] if m]
            answer = f"Your name is {names[-1]}." if names else "I do not know your name."
        else:
            answer = f"MAF heard: {last}"
        return ChatResponse(messages=[Message(role="assistant", contents=[answer])], response_id="scripted")

    def _inner_get_response(self, *, messages, stream, options, **kwargs):
        if stream:
            raise NotImplementedError("the executor runs this agent without streaming")
        return self._respond(messages)


def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Listening before the port is printed: a client that connects at once waits in the backlog.
    sock.listen(128)
    base = f"http://127.0.0.1:{port}"
    agent = Agent(
        ScriptedClient(),
        name="maf-agent",
        description="A MAF agent on a scripted client",
        context_providers=[FileHistoryProvider(sys.argv[1])],
    )
    card = AgentCard(
        name="maf-agent",
        description="A MAF agent on a scripted client",
        version="1.0.0",
        default_input_modes=["text"],
        default_output_modes=["text"],
        capabilities=AgentCapabilities(streaming=True),
        supported_interfaces=[
            AgentInterface(url=f"{base}/", protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=f"{base}/rest", protocol_binding="HTTP+JSON", protocol_version="1.0"),
        ],
        skills=[AgentSkill(id="chat", name="chat", description="Answers from the conversation", tags=["test"])],
    )
    handler = DefaultRequestHandler(
        agent_executor=A2AExecutor(agent), task_store=InMemoryTaskStore(), agent_card=card
    )
    app = Starlette(
        routes=[
            *create_agent_card_routes(card),
            *create_jsonrpc_routes(handler, "/"),
            *create_rest_routes(handler, path_prefix="/rest"),
        ]
    )
    print(f"listening on {port}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
