# The working version of a small WSGI service.
def app(environ, start_response):
    if environ.get("PATH_INFO", "/").startswith("/api/"):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok":true}\n']
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
