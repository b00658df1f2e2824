"""An A2A agent written with the official `a2a-sdk` (1.3.0) server, for Weft's `A2AAgent` tests.

Usage: python a2a_sdk_server.py   (prints `listening on PORT` once it serves on 127.0.0.1)

The card offers JSON-RPC at `/` (1.0, and 0.3 without the A2A-Version header) and HTTP+JSON at
`/rest` (1.0). The agent, by the user's text:
- `My name is X.` / `What is my name?`: remembers the name per contextId;
- text with `colour`: asks (input-required) "What is your favourite colour?", and the next
  message to that task completes it with "Your favourite colour is <answer>.";
- text with `slow`: sends a first artifact chunk, then works for 60 s (a cancel stops it);
- text with `fail`: the task fails with "the tool broke";
- anything else: answers "echo: <text>" in two artifact chunks.
"""

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette

from a2a.helpers.proto_helpers import get_message_text, new_task_from_user_message, new_text_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events.event_queue_v2 import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Role, TaskState

names = {}


class Executor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = get_message_text(context.message)
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        reply = lambda t: new_text_message(t, context_id=task.context_id, task_id=task.id, role=Role.ROLE_AGENT)
        if task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            await updater.start_work()
            await updater.add_artifact([new_text_part(f"Your favourite colour is {text.strip()}.")], name="answer")
            await updater.complete()
            return
        await updater.start_work()
        if "colour" in text:
            await updater.requires_input(reply("What is your favourite colour?"))
        elif text.startswith("My name is "):
            names[task.context_id] = text[len("My name is "):].rstrip(".")
            await updater.add_artifact([new_text_part("Nice to meet you.")], name="answer")
            await updater.complete()
        elif "What is my name" in text:
            name = names.get(task.context_id, "unknown to me")
            await updater.add_artifact([new_text_part(f"Your name is {name}.")], name="answer")
            await updater.complete()
        elif "slow" in text:
            await updater.add_artifact([new_text_part("working")], artifact_id="a1", name="answer")
            await asyncio.sleep(60)
            await updater.add_artifact([new_text_part(" done")], artifact_id="a1", append=True)
            await updater.complete()
        elif "fail" in text:
            await updater.failed(reply("the tool broke"))
        else:
            await updater.add_artifact([new_text_part("echo: ")], artifact_id="a1", name="answer")
            await updater.add_artifact([new_text_part(text)], artifact_id="a1", append=True, last_chunk=True)
            await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        updater = TaskUpdater(event_queue, context.task_id, task.context_id if task else context.context_id)
        await updater.cancel()


def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Listening before the port is printed: a client that connects at once waits in the backlog.
    sock.listen(128)
    base = f"http://127.0.0.1:{port}"
    card = AgentCard(
        name="sdk-agent",
        description="An agent written with the a2a-sdk",
        version="1.0.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="echo", description="Echoes, remembers, asks", tags=["test"])],
        supported_interfaces=[
            AgentInterface(protocol_binding="JSONRPC", url=f"{base}/", protocol_version="1.0"),
            AgentInterface(protocol_binding="HTTP+JSON", url=f"{base}/rest", protocol_version="1.0"),
        ],
    )
    handler = DefaultRequestHandler(agent_executor=Executor(), task_store=InMemoryTaskStore(), agent_card=card)
    routes = (
        create_agent_card_routes(card)
        + create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True)
        + create_rest_routes(handler, path_prefix="/rest")
    )
    app = Starlette(routes=routes)
    print(f"listening on {port}", flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
