#!/usr/bin/env python3
"""A search backend whose /search becomes slow while the file given by --slow-flag
exists (a stand-in for a database that stalls under a heavy query). The process
never dies and logs nothing but its access lines: nginx's read timeout is the only
trace of the problem."""
import argparse
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--slow-flag", required=True)
ap.add_argument("--delay", type=float, default=3.5)
a = ap.parse_args()


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/search" and os.path.exists(a.slow_flag):
            time.sleep(a.delay)
        if path in ("/search", "/", "/products", "/charge"):
            body = b'{"results":[]}\n'
            self.send_response(200)
        else:
            body = b'{"error":"not found"}\n'
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:
            pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", a.port), H).serve_forever()
