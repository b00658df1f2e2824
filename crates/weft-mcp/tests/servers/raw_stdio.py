"""A deliberately faulty MCP server on stdio, for fault tests. Answers initialize and tools/list
properly; tools/call of:
  garbage     -> writes a line that is not JSON, then the real answer
  unknown_id  -> answers a request id that was never sent, and never answers the real one
  die         -> exits at once (the server dies during the call)
  ok          -> answers normally
  slow_reload -> answers, then sends tools/list_changed; from then on tools/list is never
                 answered (a log notification "holding tools/list" says it arrived)
"""

import json
import sys


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


TOOLS = [
    {"name": n, "description": f"fault tool {n}", "inputSchema": {"type": "object", "properties": {}}}
    for n in ["garbage", "unknown_id", "die", "ok", "slow_reload"]
]

hold_lists = False

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    method = msg.get("method")
    mid = msg.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {"listChanged": True}},
            "serverInfo": {"name": "raw", "version": "0"}}})
    elif method == "tools/list":
        if hold_lists:
            send({"jsonrpc": "2.0", "method": "notifications/message",
                  "params": {"level": "info", "data": "holding tools/list"}})
        else:
            send({"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        name = msg["params"]["name"]
        ok = {"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": f"{name} ok"}]}}
        if name == "garbage":
            sys.stdout.write("this is {not json\n")
            sys.stdout.flush()
            send(ok)
        elif name == "unknown_id":
            send({"jsonrpc": "2.0", "id": 987654, "result": {"content": []}})
        elif name == "die":
            sys.exit(3)
        elif name == "slow_reload":
            hold_lists = True
            send(ok)
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        else:
            send(ok)
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
    elif mid is not None:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "not found"}})
