#!/usr/bin/env python3
"""A payments API that nginx reaches over TLS. While --plain-flag exists (a build
deployed with TLS switched off by mistake), it answers on the same port in
plain HTTP: nginx's TLS handshake fails. The process never restarts."""
import argparse
import os
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--plain-flag", required=True)
a = ap.parse_args()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(a.cert, a.key)


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok":true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class S(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = super().get_request()
        if os.path.exists(a.plain_flag):
            return sock, addr
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # handshake failures of clients are not this story


S(("127.0.0.1", a.port), H).serve_forever()
