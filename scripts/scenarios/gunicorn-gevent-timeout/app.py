# A WSGI app for gunicorn's gevent workers. /pdf renders in pure Python without
# yielding to the event loop (CPU-bound for about 8 s), so the worker cannot
# heartbeat and the arbiter kills it after --timeout; every request multiplexed
# on that worker dies with it (/api/search waits 0.8 s on I/O, so several are).
import hashlib
import time


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/pdf"):
        end = time.monotonic() + 8
        h = b"x"
        while time.monotonic() < end:
            h = hashlib.sha256(h).digest()
        start_response("200 OK", [("Content-Type", "application/pdf")])
        return [h]
    if path.startswith("/api/search"):
        time.sleep(0.8)  # waits on the search index: gevent's patched sleep yields
    if path.startswith("/api/") or path == "/health":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok":true}\n']
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
