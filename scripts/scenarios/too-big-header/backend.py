#!/usr/bin/env python3
"""An account service; while --flag exists (a new build that stores the whole
session in a cookie), /account answers with an 8 KB Set-Cookie header, more than
nginx's default proxy_buffer_size (4k): nginx rejects the response."""
import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--flag", required=True)
a = ap.parse_args()


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        body = b'{"ok":true}\n'
        self.send_response(200 if path.startswith("/account") or path == "/" else 404)
        if path.startswith("/account") and os.path.exists(a.flag):
            self.send_header("Set-Cookie", "session=" + "x" * 8192 + "; Path=/; HttpOnly")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", a.port), H).serve_forever()
