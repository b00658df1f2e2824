"""Approvals through the official `openai` Python SDK: a tool needing approval ends the response
with an `mcp_approval_request` item (typed by the SDK as McpApprovalRequest); an
`mcp_approval_response` input item continues it, by previous_response_id and by conversation,
streamed and not; a second answer is refused (409, the SDK's ConflictError).

Usage: python openai_sdk_approvals.py BASE_URL MODEL   (BASE_URL ends in /v1; the agent's
`delete_file` tool needs approval)
"""

import sys

import openai
from openai import OpenAI
from openai.types.responses.response_output_item import McpApprovalRequest

base_url, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


def approval_request(response):
    check(response.status == "completed", "a held run is completed", response.status)
    requests = [item for item in response.output if item.type == "mcp_approval_request"]
    check(len(requests) == 1 and isinstance(requests[0], McpApprovalRequest), "typed mcp_approval_request", response.output)
    request = requests[0]
    check(request.name == "delete_file" and "notes.txt" in request.arguments, "request names the call", request)
    check(request.server_label == model, "server_label is the agent", request.server_label)
    return request


def answer(request, approve):
    return [{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": approve}]


# Not streamed, continued by previous_response_id.
first = client.responses.create(model=model, input="Delete the file notes.txt")
request = approval_request(first)
second = client.responses.create(model=model, previous_response_id=first.id, input=answer(request, True))
outputs = [item for item in second.output if item.type == "function_call_output"]
check(outputs and outputs[0].output == "deleted notes.txt", "the approved call ran", second.output)
check("deleted notes.txt" in second.output_text, "the run went on", second.output_text)
try:
    client.responses.create(model=model, previous_response_id=first.id, input=answer(request, True))
    raise AssertionError("a second answer was accepted")
except openai.ConflictError as error:
    check(error.status_code == 409, "a second answer is a ConflictError", error)

# Streamed, rejected.
events = list(client.responses.create(model=model, input="Delete the file notes.txt", stream=True))
added = [event.item for event in events if event.type == "response.output_item.added"]
check(any(isinstance(item, McpApprovalRequest) for item in added), "streamed mcp_approval_request", added)
request = approval_request(events[-1].response)
events = list(
    client.responses.create(
        model=model, previous_response_id=events[-1].response.id, input=answer(request, False), stream=True
    )
)
check(events[-1].type == "response.completed", "the rejected run ends", events[-1].type)
outputs = [item for item in events[-1].response.output if item.type == "function_call_output"]
check(outputs and "did not approve" in outputs[0].output, "a rejected call does not run", outputs)

# By conversation.
conversation = client.conversations.create()
first = client.responses.create(model=model, input="Delete the file notes.txt", conversation=conversation.id)
request = approval_request(first)
second = client.responses.create(model=model, conversation=conversation.id, input=answer(request, True))
check("deleted notes.txt" in second.output_text, "a conversation's request is answered", second.output_text)
kinds = [item.type for item in client.conversations.items.list(conversation.id, order="asc").data]
check("mcp_approval_request" in kinds and "mcp_approval_response" in kinds, "the conversation keeps both", kinds)

print("all checks passed")
