# A WSGI app whose image thumbnailer calls into native code; a corrupt upload
# makes it read a NULL pointer (here ctypes.string_at(0), the same SIGSEGV a
# buggy C extension gives). uWSGI's master respawns the worker.
import ctypes


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/thumbnail"):
        if "corrupt" in environ.get("QUERY_STRING", ""):
            ctypes.string_at(0)
        start_response("200 OK", [("Content-Type", "image/png")])
        return [b"\x89PNG"]
    if path.startswith("/api/") or path == "/health":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok":true}\n']
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
