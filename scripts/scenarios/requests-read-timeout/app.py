# A checkout WSGI app that calls a fraud-scoring service with requests and a
# 2 s timeout, without catching the error: gunicorn logs it and answers 500.
import os

import requests

SCORE = "http://127.0.0.1:%s/score" % os.environ["SCORE_PORT"]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if not path.startswith("/checkout"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    r = requests.get(SCORE, params={"order": "42"}, timeout=2)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [r.content]
