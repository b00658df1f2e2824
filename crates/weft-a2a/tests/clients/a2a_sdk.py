"""Drives a Weft host's A2A server with the official `a2a-sdk` Python client.

Usage: python a2a_sdk.py BASE_URL   (the host serves the scripted agent `helper`, `hang` (an
agent that never ends) and `guarded` (a delete_file tool that needs approval) at
BASE_URL/a2a/{name})

For each binding (JSON-RPC 1.0, HTTP+JSON 1.0, JSON-RPC 0.3): a message sent without and with
streaming, a conversation continued by contextId, GetTask, SubscribeToTask, CancelTask of a running and of a
finished task, an unknown task id, and a task that is input-required until a tool call is approved. Prints one `ok: ...` line per check; any failure raises
(non-zero exit).
"""

import asyncio
import sys

from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_data_message, new_text_message
from a2a.types.a2a_pb2 import (
    AgentCard,
    AgentInterface,
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError

base = sys.argv[1]


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


def text_of(parts):
    return "".join(p.text for p in parts)


async def client_for(agent, binding, version, streaming, polling=False):
    """A client of `agent` over `binding` ("JSONRPC" or "HTTP+JSON") and protocol `version`."""
    config = ClientConfig(streaming=streaming, polling=polling, supported_protocol_bindings=[binding])
    url = f"{base}/a2a/{agent}"
    if version == "1.0":
        return await create_client(url, client_config=config)
    # 0.3: the same card, with an interface that says 0.3 (the SDK then speaks 0.3's methods).
    resolved = await create_client(url, client_config=ClientConfig(streaming=False))
    card = AgentCard()
    card.CopyFrom(resolved._card)
    del card.supported_interfaces[:]
    card.supported_interfaces.append(AgentInterface(url=url, protocol_binding=binding, protocol_version=version))
    return await create_client(card, client_config=config)


def request(text, context_id=None):
    return SendMessageRequest(message=new_text_message(text, context_id=context_id, role=Role.ROLE_USER))


async def send(client, text, context_id=None):
    """The events of one message."""
    return [event async for event in client.send_message(request(text, context_id))]


async def one_binding(binding, version):
    label = f"{binding} {version}"
    plain = await client_for("helper", binding, version, streaming=False)
    events = await send(plain, "hello")
    check(len(events) == 1 and events[0].HasField("task"), f"{label}: send answers a task", events)
    task = events[0].task
    check(task.status.state == TaskState.TASK_STATE_COMPLETED, f"{label}: the task is completed", task.status)
    answer = text_of(task.artifacts[0].parts)
    check(answer == "You said: hello", f"{label}: the artifact holds the answer", answer)

    first = (await send(plain, "My name is Ada.", None))[0].task
    second = (await send(plain, "What is my name?", first.context_id))[0].task
    check(second.context_id == first.context_id, f"{label}: contextId kept", second.context_id)
    recalled = text_of(second.artifacts[0].parts)
    check("Ada" in recalled, f"{label}: the conversation goes on in its context", recalled)

    fetched = await plain.get_task(GetTaskRequest(id=task.id))
    check(fetched.id == task.id and fetched.status.state == TaskState.TASK_STATE_COMPLETED, f"{label}: get task", fetched.status)

    try:
        await plain.cancel_task(CancelTaskRequest(id=task.id))
        raise AssertionError(f"{label}: cancel of a finished task succeeded")
    except TaskNotCancelableError:
        check(True, f"{label}: cancel of a finished task is refused (TaskNotCancelable)", None)
    try:
        await plain.get_task(GetTaskRequest(id="no-such-task"))
        raise AssertionError(f"{label}: an unknown task was found")
    except TaskNotFoundError:
        check(True, f"{label}: an unknown task id is TaskNotFound", None)

    if version == "1.0":
        listed = await plain.list_tasks(ListTasksRequest(context_id=first.context_id))
        ids = [t.id for t in listed.tasks]
        check(ids == [second.id, first.id], f"{label}: list tasks of a context, newest first", ids)

    streaming = await client_for("helper", binding, version, streaming=True)
    events = await send(streaming, "hello there")
    kinds = [e.WhichOneof("payload") for e in events]
    check(kinds[0] == "task" and kinds[-1] == "status_update", f"{label}: stream opens with the task, ends with a status", kinds)
    check("artifact_update" in kinds, f"{label}: the answer streams as artifact updates", kinds)
    check(events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED, f"{label}: the stream ends completed", events[-1])
    streamed = "".join(text_of(e.artifact_update.artifact.parts) for e in events if e.HasField("artifact_update"))
    check(streamed == "You said: hello there", f"{label}: the streamed pieces make the answer", streamed)

    polling = await client_for("hang", binding, version, streaming=False, polling=True)
    running = (await send(polling, "never ends"))[0].task
    check(
        running.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING),
        f"{label}: a polled task is answered before it ends",
        running.status,
    )
    follower = await client_for("hang", binding, version, streaming=True)
    subscription = follower.subscribe(SubscribeToTaskRequest(id=running.id))
    first = await subscription.__anext__()
    check(first.HasField("task") and first.task.id == running.id, f"{label}: subscribe opens with the task", first)
    cancelled = await polling.cancel_task(CancelTaskRequest(id=running.id))
    check(cancelled.status.state == TaskState.TASK_STATE_CANCELED, f"{label}: cancel task", cancelled.status)
    rest = [event async for event in subscription]
    check(
        rest and rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED,
        f"{label}: the subscription ends canceled",
        rest,
    )
    await follower.close()
    again = await polling.get_task(GetTaskRequest(id=running.id))
    check(again.status.state == TaskState.TASK_STATE_CANCELED, f"{label}: the task stays canceled", again.status)
    guarded = await client_for("guarded", binding, version, streaming=False)
    asked = (await send(guarded, "Delete the file notes.txt"))[0].task
    check(asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED, f"{label}: an approval makes the task input-required", asked.status)
    requests = [p.data for p in asked.status.message.parts if p.HasField("data")]
    check(len(requests) == 1, f"{label}: the status message names the call", asked.status.message)
    approve = new_data_message({"approved": True}, context_id=asked.context_id, task_id=asked.id, role=Role.ROLE_USER)
    done = [e async for e in guarded.send_message(SendMessageRequest(message=approve))][0].task
    check(done.id == asked.id and done.status.state == TaskState.TASK_STATE_COMPLETED, f"{label}: the approved task completes", done.status)
    result = text_of(done.artifacts[-1].parts)
    check("deleted notes.txt" in result, f"{label}: the approved call ran", result)
    for client in (plain, streaming, polling, guarded):
        await client.close()


async def main():
    for binding, version in [("JSONRPC", "1.0"), ("HTTP+JSON", "1.0"), ("JSONRPC", "0.3")]:
        await one_binding(binding, version)
    print("all checks passed")


asyncio.run(main())
