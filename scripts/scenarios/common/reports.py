"""The Flask app of the gunicorn and uWSGI scenarios. /reports/export runs a slow
query (EXPORT_SECONDS, 5 s by default): longer than gunicorn's --timeout or uWSGI's
harakiri, the server kills the worker; shorter but steady, the workers are busy and
the listen queue fills."""
import os
import time

from flask import Flask, jsonify

app = Flask(__name__)
EXPORT_SECONDS = float(os.environ.get("EXPORT_SECONDS", "5"))


@app.route("/api/items")
def items():
    return jsonify(items=[1, 2, 3])


@app.route("/reports/export")
def export():
    time.sleep(EXPORT_SECONDS)
    return jsonify(report="done")


@app.route("/")
def index():
    return "ok\n"
