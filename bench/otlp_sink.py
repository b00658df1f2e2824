#!/usr/bin/env python3
"""An OTLP/HTTP receiver that accepts and discards: the export target of W1-otel (bench/run.sh).

It runs in its own process so that what it spends receiving is not counted as the client's
CPU. Answers every POST (/v1/traces, /v1/metrics) 200 with an empty protobuf body (an empty
Export*ServiceResponse: all accepted) over keep-alive HTTP/1.1, and counts requests and bytes:
GET /stats returns them as JSON.

    python3 bench/otlp_sink.py PORT
"""
import http.server
import json
import sys
import threading

stats = {"requests": 0, "bytes": 0}
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        with lock:
            stats["requests"] += 1
            stats["bytes"] += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            body = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 4318
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
