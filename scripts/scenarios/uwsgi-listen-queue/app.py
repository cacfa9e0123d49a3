"""A Flask app served by uWSGI. /reports/export runs a slow query (1.5 s)."""
import time

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/items")
def items():
    return jsonify(items=[1, 2, 3])


@app.route("/reports/export")
def export():
    time.sleep(1.5)
    return jsonify(report="done")


@app.route("/")
def index():
    return "ok\n"
