# A WSGI import endpoint that loads the whole upload into memory (here: grows a
# list fast); under a memory cgroup the kernel kills the worker.
def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/import"):
        rows = []
        while True:
            rows.append(bytearray(1 << 20))
    if path.startswith("/api/") or path == "/health":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok":true}\n']
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
