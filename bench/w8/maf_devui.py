"""W8's peer: MAF serving the same agent as `weft serve` (one turn, instructions, no tools) on the
mock, through its `agent-framework-devui` server (the Responses protocol at /v1/responses, the
agent picked by `metadata.entity_id`). Run by bench/run.sh:

    MOCK_URL=http://127.0.0.1:8089 W8_MOCK_MODEL=echo python bench/w8/maf_devui.py PORT

The venv: python3 -m venv /tmp/bench-venv-devui &&
  /tmp/bench-venv-devui/bin/pip install --pre agent-framework-devui==1.0.0b261022 agent-framework-openai
"""

import os
import sys

from agent_framework import Agent
from agent_framework.devui import serve
from agent_framework.openai import OpenAIChatCompletionClient

MOCK = os.environ.get("MOCK_URL", "http://127.0.0.1:8089")
MODEL = os.environ.get("W8_MOCK_MODEL", "echo")
API = os.environ.get("W8_API", "chat")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8088
    if API == "chat":
        client = OpenAIChatCompletionClient(model=MODEL, api_key="mock-key", base_url=MOCK + "/v1")
    else:
        from agent_framework.openai import OpenAIChatClient

        client = OpenAIChatClient(model=MODEL, api_key="mock-key", base_url=MOCK + "/v1")
    agent = Agent(client=client, name="bench", instructions="You are a benchmark agent.")
    serve(entities=[agent], port=port, host="127.0.0.1", ui_enabled=False, auth_enabled=False, mode="user")


if __name__ == "__main__":
    main()
