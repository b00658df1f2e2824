"""Microsoft Agent Framework's own clients driving `weft serve`: a MAF `Agent` over
`OpenAIChatClient` (Responses) and over `OpenAIChatCompletionClient` (Chat Completions), and
`AGUIChatClient` over weft serve's AG-UI endpoint.

Usage: python maf_clients.py PART PLAIN_URL APPROVE_URL
  PART:        responses, chat-completions or ag-ui (each test runs one: MAF takes seconds to import)
  PLAIN_URL:   `weft serve` of the demo agent (its tools run on the server)
  APPROVE_URL: `weft serve --approve` (every tool call waits for approval)
Both are roots (http://127.0.0.1:PORT). Prints one `ok: ...` line per check; a failure raises.
"""

import asyncio
import sys

from agent_framework import Agent, Message
from agent_framework.ag_ui import AGUIChatClient
from agent_framework.openai import OpenAIChatClient, OpenAIChatCompletionClient

part, plain, approve = sys.argv[1], sys.argv[2], sys.argv[3]


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


def types(response):
    return [content.type for message in response.messages for content in message.contents]


async def drive(agent, label):
    """Multi-turn, not streamed then streamed, and a server-side tool call, through `agent`."""
    session = agent.create_session()
    first = await agent.run("My name is Ada.", session=session)
    check(first.text, f"{label}: an answer", first.text)
    second = await agent.run("What is my name?", session=session)
    check("Ada" in second.text, f"{label}: the session goes on", second.text)
    streamed = agent.run("What is my name?", session=session, stream=True)
    text = "".join([update.text async for update in streamed])
    check("Ada" in text, f"{label}: streamed, the session goes on", text)
    final = await streamed.get_final_response()
    check("Ada" in final.text, f"{label}: the stream's final response", final.text)
    weather = await agent.run("What's the weather in Paris?")
    check("sunny" in weather.text, f"{label}: the server's tool ran", weather.text)
    return weather


async def responses():
    client = OpenAIChatClient(model="weft", api_key="unused", base_url=f"{plain}/v1")
    weather = await drive(Agent(client=client, name="maf-responses"), "responses")
    kinds = types(weather)
    check("function_call" in kinds and "function_result" in kinds, "responses: the tool call is shown", kinds)
    calls = [c for m in weather.messages for c in m.contents if c.type == "function_call"]
    check(calls[0].name == "get_weather", "responses: the call's name", calls[0].name)

    # Approvals: MAF reads the mcp_approval_request as a user input request and answers it.
    agent = Agent(client=OpenAIChatClient(model="weft", api_key="unused", base_url=f"{approve}/v1"), name="maf")
    session = agent.create_session()
    held = await agent.run("What's the weather in Paris?", session=session)
    requests = held.user_input_requests
    check(len(requests) == 1, "responses: an approval request", types(held))
    check(requests[0].function_call.name == "get_weather", "responses: the request names the tool", requests[0])
    answer = Message(role="user", contents=[requests[0].to_function_approval_response(True)])
    done = await agent.run(answer, session=session)
    check("sunny" in done.text, "responses: the approved call ran and the run went on", done.text)

    # Streamed approval, rejected.
    session = agent.create_session()
    stream = agent.run("What's the weather in Rome?", session=session, stream=True)
    async for _ in stream:
        pass
    held = await stream.get_final_response()
    requests = held.user_input_requests
    check(len(requests) == 1, "responses: a streamed approval request", types(held))
    answer = Message(role="user", contents=[requests[0].to_function_approval_response(False)])
    stream = agent.run(answer, session=session, stream=True)
    text = "".join([update.text async for update in stream])
    check("sunny" not in text, "responses: a rejected call did not run", text)


async def chat_completions():
    client = OpenAIChatCompletionClient(model="weft", api_key="unused", base_url=f"{plain}/v1")
    await drive(Agent(client=client, name="maf-chat"), "chat completions")


async def ag_ui():
    client = AGUIChatClient(endpoint=f"{plain}/ag-ui/weft")
    updates = [update async for update in client.get_response("hello there", stream=True)]
    text = "".join(update.text for update in updates)
    check("hello there" in text, "ag-ui: streamed text", text)
    weather = await client.get_response("What's the weather in Paris?")
    kinds = types(weather)
    check("function_call" in kinds and "function_result" in kinds, "ag-ui: the server's tool call is shown", kinds)
    check("sunny" in weather.text, "ag-ui: the answer", weather.text)
    agent = Agent(client=client, name="maf-ag-ui")
    session = agent.create_session()
    await agent.run("My name is Ada.", session=session)
    second = await agent.run("What is my name?", session=session)
    check("Ada" in second.text, "ag-ui: an Agent's session goes on", second.text)

    # An approval is an interrupt; the next run on the thread resumes it.
    client = AGUIChatClient(endpoint=f"{approve}/ag-ui/weft")
    thread = {"thread_id": "maf-approval"}
    held = await client.get_response("What's the weather in Paris?", options={"metadata": thread})
    interrupts = held.additional_properties.get("interrupts") or []
    check(len(interrupts) == 1 and interrupts[0]["reason"] == "tool_approval", "ag-ui: an interrupt", held.additional_properties)
    resume = [{"interruptId": interrupts[0]["id"], "status": "resolved", "payload": {"approved": True}}]
    done = await client.get_response([], options={"metadata": thread, "resume": resume})
    check("sunny" in done.text, "ag-ui: the resumed run ran the call", done.text)


async def main():
    parts = {"responses": responses, "chat-completions": chat_completions, "ag-ui": ag_ui}
    await parts[part]()
    print("all checks passed")


asyncio.run(main())
