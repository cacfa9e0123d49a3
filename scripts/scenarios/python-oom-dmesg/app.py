# A small stdlib-only HTTP service (ThreadingHTTPServer): /export builds the whole
# export in memory before answering, which under a memory limit means the kernel
# OOM killer. Logs with Python logging's default asctime (local time, no zone);
# the request lines are http.server's own (stderr).
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
log = logging.getLogger("exporter")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        if self.path.startswith("/export"):
            rows = []
            while True:  # the bug: no paging
                rows.append(bytearray(1 << 20))
        if self.path in ("/", "/health") or self.path.startswith("/api/"):
            body = b'{"ok":true}\n'
            self.send_response(200)
        else:
            body = b"not found\n"
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


port = int(os.environ["PORT"])
srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
log.info("exporter %s serving on 127.0.0.1:%d", os.getpid(), port)
srv.serve_forever()
