"""Drives a Weft host with the official `openai` Python SDK and checks what it gets.

Usage: python openai_sdk.py BASE_URL MODEL   (BASE_URL ends in /v1)

The agent is the scripted model with a `get_weather` tool (the `weft serve` demo agent or the
test host's). Prints one `ok: ...` line per check; any failure raises (non-zero exit).
"""

import sys
import time

import openai
from openai import OpenAI

base_url, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


# Responses, not streamed: the tool call shows as items, the answer as output_text.
response = client.responses.create(model=model, input="Tell me the weather in Paris")
check(response.status == "completed", "responses.create status", response.status)
kinds = [item.type for item in response.output]
check(kinds == ["function_call", "function_call_output", "message"], "responses.create items", kinds)
check(response.output[0].name == "get_weather", "function_call name", response.output[0].name)
check("Paris" in response.output_text, "responses.create output_text", response.output_text)
check(response.usage is not None and response.usage.total_tokens >= 0, "responses.create usage", response.usage)

# Responses, streamed: typed events, numbered in order, ending with response.completed.
events = list(client.responses.create(model=model, input="Tell me the weather in Paris", stream=True))
types = [event.type for event in events]
check(None not in types, "stream event types", types)
check([event.sequence_number for event in events] == list(range(len(events))), "sequence numbers", types)
check(types[:2] == ["response.created", "response.in_progress"], "stream start", types[:2])
check(types[-1] == "response.completed", "stream end", types[-1])
check("response.function_call_arguments.done" in types, "function call events", types)
text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
check(text == events[-1].response.output_text, "deltas add up to output_text", text)

# The stream helper of the SDK folds the events into the final response.
with client.responses.stream(model=model, input="hello there") as stream:
    final = stream.get_final_response()
check("hello there" in final.output_text, "responses.stream final response", final.output_text)

# Continuation by previous_response_id.
first = client.responses.create(model=model, input="My name is Ada.")
second = client.responses.create(model=model, input="What is my name?", previous_response_id=first.id)
check("Ada" in second.output_text, "previous_response_id continues", second.output_text)
streamed = list(
    client.responses.create(model=model, input="What is my name?", previous_response_id=first.id, stream=True)
)
check("Ada" in streamed[-1].response.output_text, "previous_response_id continues, streamed", streamed[-1].type)

# Stored responses: retrieved as created, their input items listed, deleted.
stored = client.responses.retrieve(first.id)
check(stored.id == first.id and stored.output_text == first.output_text, "responses.retrieve", stored)
inputs = client.responses.input_items.list(first.id)
check([item.type for item in inputs.data] == ["message"], "responses.input_items.list", inputs)
check(inputs.data[0].content[0].text == "My name is Ada.", "input item text", inputs.data[0])
client.responses.delete(first.id)
try:
    client.responses.retrieve(first.id)
    raise AssertionError("a deleted response was retrieved")
except openai.NotFoundError as error:
    check(True, "responses.delete forgets it", error)

# Conversations: created with items and metadata, continued by responses.create(conversation=...).
conversation = client.conversations.create(
    metadata={"user": "ada"}, items=[{"type": "message", "role": "user", "content": "My name is Ada."}]
)
check(conversation.object == "conversation" and conversation.metadata == {"user": "ada"}, "conversations.create", conversation)
answer = client.responses.create(model=model, input="What is my name?", conversation=conversation.id)
check("Ada" in answer.output_text, "responses.create(conversation=...) continues", answer.output_text)
check(answer.conversation.id == conversation.id, "response.conversation", answer.conversation)
retrieved = client.conversations.retrieve(conversation.id)
check(retrieved.id == conversation.id and retrieved.created_at == conversation.created_at, "conversations.retrieve", retrieved)
updated = client.conversations.update(conversation.id, metadata={"user": "bo"})
check(updated.metadata == {"user": "bo"}, "conversations.update", updated)
page = client.conversations.items.list(conversation.id, order="asc")
check([item.type for item in page.data] == ["message"] * 3, "conversations.items.list", page.data)
check(page.data[2].content[0].text == answer.output_text, "the turn's answer is an item", page.data[2])
every = [item.id for item in client.conversations.items.list(conversation.id, limit=1, order="asc")]
check(every == [item.id for item in page.data], "conversations.items.list pages by after", every)
added = client.conversations.items.create(
    conversation.id, items=[{"type": "message", "role": "user", "content": "one more"}]
)
item = client.conversations.items.retrieve(added.data[0].id, conversation_id=conversation.id)
check(item.content[0].text == "one more", "conversations.items.create and retrieve", item)
after = client.conversations.items.delete(item.id, conversation_id=conversation.id)
check(after.id == conversation.id, "conversations.items.delete", after)
deleted = client.conversations.delete(conversation.id)
check(deleted.deleted and deleted.object == "conversation.deleted", "conversations.delete", deleted)
try:
    client.responses.create(model=model, input="hi", conversation=conversation.id)
    raise AssertionError("a deleted conversation was continued")
except openai.NotFoundError as error:
    check(True, "a deleted conversation is gone", error)

# Background: answered at once, polled with retrieve until it ends.
queued = client.responses.create(model=model, input="hello there", background=True)
check(queued.status == "queued" and queued.background, "background response is queued", queued.status)
polled = queued
deadline = time.monotonic() + 20
while polled.status in ("queued", "in_progress") and time.monotonic() < deadline:
    time.sleep(0.05)
    polled = client.responses.retrieve(queued.id)
check(polled.status == "completed" and "hello there" in polled.output_text, "background polling", polled.status)
events = list(client.responses.create(model=model, input="hello there", background=True, stream=True))
check(events[-1].type == "response.completed" and events[-1].response.background, "background streamed", events[-1].type)
check(client.responses.retrieve(events[-1].response.id).status == "completed", "background streamed is stored", events[-1])

# Chat Completions, not streamed and streamed; the client sends the history.
history = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Nice to meet you, Ada."},
    {"role": "user", "content": "What is my name?"},
]
completion = client.chat.completions.create(model=model, messages=history)
check("Ada" in completion.choices[0].message.content, "chat.completions.create", completion.choices[0].message)
check(completion.choices[0].finish_reason == "stop", "chat finish_reason", completion.choices[0].finish_reason)
chunks = list(client.chat.completions.create(model=model, messages=history, stream=True))
text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
check("Ada" in text, "chat.completions.create streamed", text)
check(chunks[-1].choices[0].finish_reason == "stop", "chat stream finish_reason", chunks[-1])

# Errors come back as the SDK's typed exceptions.
try:
    client.responses.create(model="no-such-agent", input="hi")
    raise AssertionError("an unknown model was accepted")
except Exception as error:  # openai.NotFoundError
    check(type(error).__name__ == "NotFoundError", "unknown model is NotFoundError", error)

print("all checks passed")
