# The release that broke: it imports a module the deploy did not ship.
import billing_client  # noqa: F401  (missing: ModuleNotFoundError at import)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok":true}\n']
