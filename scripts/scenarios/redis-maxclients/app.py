# A rate-limit lookup service: a plain WSGI app that opens a Redis connection
# per request with redis-py (no shared pool: a common mistake) and holds it
# while a slow lookup runs. Errors are not caught: gunicorn logs them and
# answers 500.
import os
import time

import redis

PORT = int(os.environ["REDIS_PORT"])


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if not path.startswith("/quota"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    r = redis.Redis(host="127.0.0.1", port=PORT, single_connection_client=True)
    try:
        n = r.incr("quota:" + path)
        time.sleep(0.5)  # the slow part of the lookup, connection held
    finally:
        r.close()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%d\n" % n).encode()]
