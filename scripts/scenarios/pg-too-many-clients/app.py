# A plain WSGI app (no framework) that opens one PostgreSQL connection per request
# with psycopg2, as many small services do. Nothing catches errors: gunicorn logs
# "Error handling request" with the traceback and answers 500.
import os

import psycopg2

DSN = os.environ["DATABASE_URL"]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    if path != "/report":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    conn = psycopg2.connect(DSN)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), pg_sleep(0.4) FROM generate_series(1, 1000)")
            n = cur.fetchone()[0]
    finally:
        conn.close()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("rows %d\n" % n).encode()]
