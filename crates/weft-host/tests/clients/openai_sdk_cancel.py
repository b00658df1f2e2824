"""Cancels a background response of a Weft host with the official `openai` Python SDK.

Usage: python openai_sdk_cancel.py BASE_URL MODEL   (BASE_URL ends in /v1; MODEL never ends)

Prints one `ok: ...` line per check; any failure raises (non-zero exit).
"""

import sys
import time

from openai import OpenAI

base_url, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)


def check(condition, what, detail):
    if not condition:
        raise AssertionError(f"{what}: {detail!r}")
    print(f"ok: {what}")


queued = client.responses.create(model=model, input="hi", background=True)
check(queued.status == "queued", "background response is queued", queued.status)
polled = client.responses.retrieve(queued.id)
deadline = time.monotonic() + 20
while polled.status == "queued" and time.monotonic() < deadline:
    time.sleep(0.05)
    polled = client.responses.retrieve(queued.id)
check(polled.status == "in_progress", "the run goes on", polled.status)
cancelled = client.responses.cancel(queued.id)
check(cancelled.status == "cancelled", "responses.cancel", cancelled.status)
check(client.responses.retrieve(queued.id).status == "cancelled", "retrieve after cancel", cancelled.id)
print("all checks passed")
