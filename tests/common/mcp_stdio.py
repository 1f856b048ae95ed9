"""A small stdio MCP server for the gateway's tests (standard library only).

Tools: `echo` (sends a progress notification first when the call has a progress token),
`ask_client` (asks the client to sample a message and answers with what it said), and `crash`
(exits at once, as a crashing server would). The server exits when its stdin closes.
"""

import json
import os
import sys


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def text(req_id, t):
    send({"jsonrpc": "2.0", "id": req_id, "result": {"content": [{"type": "text", "text": t}]}})


def read():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    return json.loads(line)


TOOLS = [{"name": n, "inputSchema": {"type": "object"}} for n in ("echo", "ask_client", "crash")]

while True:
    msg = read()
    method, req_id = msg.get("method"), msg.get("id")
    params = msg.get("params") or {}
    if method is None or req_id is None:
        continue  # responses and notifications need no answer
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": req_id, "result": {
            "protocolVersion": params.get("protocolVersion"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "stdio-mock", "version": str(os.getpid())},
        }})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": req_id, "result": {"tools": TOOLS}})
    elif method == "ping":
        send({"jsonrpc": "2.0", "id": req_id, "result": {}})
    elif method == "tools/call":
        name = params.get("name")
        args = params.get("arguments") or {}
        if name == "echo":
            token = (params.get("_meta") or {}).get("progressToken")
            if token is not None:
                send({"jsonrpc": "2.0", "method": "notifications/progress",
                      "params": {"progressToken": token, "progress": 1, "total": 1}})
            text(req_id, args.get("text", ""))
        elif name == "ask_client":
            send({"jsonrpc": "2.0", "id": "srv-1", "method": "sampling/createMessage",
                  "params": {"messages": [], "maxTokens": 5}})
            while True:
                answer = read()
                if answer.get("id") == "srv-1" and "method" not in answer:
                    break
            said = ((answer.get("result") or {}).get("content") or {}).get("text", "?")
            text(req_id, "client said: " + said)
        elif name == "crash":
            os._exit(3)
        else:
            send({"jsonrpc": "2.0", "id": req_id,
                  "error": {"code": -32602, "message": "Unknown tool: %s" % name}})
    else:
        send({"jsonrpc": "2.0", "id": req_id, "error": {"code": -32601, "message": "Method not found"}})
