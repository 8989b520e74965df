#!/usr/bin/env python3
"""Loopback webhook receiver for the alert tests (python3 stdlib only).

    webhook_receiver.py [--port N] [--port-file PATH] [--mode ok|500|hang|down]

Listens on 127.0.0.1 only (port 0 = a free one) and records every POST.
Modes, switched at any time through the control endpoint:

    ok     answer 200 and record the request
    500    answer 500 (recorded, counted as a failed attempt)
    hang   accept the request and never answer (until the mode changes)
    down   close the connection at once without a reply, as if nothing
           were listening

    POST /_hook/mode   {"mode": "hang"}
    GET  /_hook/stats  {"mode", "received": [{"path", "content_type",
                        "body", "json"}], "attempts": N, "hanging": N}
    POST /_hook/reset  forget requests and go back to ok

"received" lists the requests answered 200; "attempts" counts every POST.
"""
import argparse
import os
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"mode": "ok", "received": [], "attempts": 0, "hanging": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace")

    def do_GET(self):
        if self.path == "/_hook/stats":
            with lock:
                self.reply(200, state)
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        text = self.body()
        if self.path == "/_hook/mode":
            with lock:
                state["mode"] = json.loads(text)["mode"]
            self.reply(200, {"mode": state["mode"]})
            return
        if self.path == "/_hook/reset":
            with lock:
                state.update(mode="ok", received=[], attempts=0, hanging=0)
            self.reply(200, {})
            return
        with lock:
            state["attempts"] += 1
            mode = state["mode"]
        if mode == "down":
            self.close_connection = True
            self.connection.close()
            return
        if mode == "hang":
            with lock:
                state["hanging"] += 1
            while True:
                with lock:
                    if state["mode"] != "hang":
                        break
                time.sleep(0.1)
            self.close_connection = True
            return
        if mode == "500":
            self.reply(500, {"error": "receiver told to fail"})
            return
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        with lock:
            state["received"].append({"path": self.path,
                                      "content_type": self.headers.get("Content-Type"),
                                      "body": text, "json": parsed})
        self.reply(200, {"ok": True})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--mode", default="ok", choices=["ok", "500", "hang", "down"])
    args = ap.parse_args()
    state["mode"] = args.mode
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(port, flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
