"""A Flask app served by uWSGI. /reports/export runs a slow query (5 s) that
outlives uWSGI's harakiri, so the master kills the worker."""
import time

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/items")
def items():
    return jsonify(items=[1, 2, 3])


@app.route("/reports/export")
def export():
    time.sleep(5)
    return jsonify(report="done")


@app.route("/")
def index():
    return "ok\n"
