"""A webhook receiver for the monitoring scenario: keeps every POST it gets, one JSON line each
({"path", "received_at", "body"}), in the file given as its first argument. Loopback only."""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD = sys.argv[1]


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = body.decode(errors="replace")
        with open(RECORD, "a", encoding="utf-8") as record:
            record.write(json.dumps({"path": self.path, "received_at": time.time(), "body": payload}) + "\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Recorder).serve_forever()
