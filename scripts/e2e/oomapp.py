"""An upstream that the kernel's OOM killer ends, for the live e2e run.

live_test.go starts it inside a cgroup v1 memory cgroup with a small
memory.limit_in_bytes. It answers HTTP on E2E_PORT, logs that it listens
(with its pid, which is how the analyzer ties the kernel's "Killed process
N (comm)" line to this service), and after E2E_OOM_AFTER seconds allocates
fast, touching every page, until the kernel kills it. A slow leak would make
the kernel reclaim and thrash for a long time first; a MemoryError cannot
happen (the allocations are small and the host has memory): only the cgroup
limit stops it, so the death is a real kernel OOM kill.
"""
import http.server
import logging
import os
import threading
import time

AFTER = float(os.environ.get("E2E_OOM_AFTER", "3"))
PORT = int(os.environ["E2E_PORT"])

logging.basicConfig(format="%(asctime)s %(levelname)s [shop-api] %(message)s", level=logging.INFO)
log = logging.getLogger("shop-api")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok":true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("listening on 127.0.0.1:%d (pid %d)", PORT, os.getpid())
    time.sleep(AFTER)
    log.warning("loading the whole catalogue into memory")
    hoard = []
    while True:
        # b"\x01" * n writes every byte: the pages are resident at once
        # (bytearray(n) would map zero pages the kernel does not charge).
        hoard.append(b"\x01" * (8 << 20))


if __name__ == "__main__":
    main()
