"""A Flask app under gunicorn whose /import loads a whole upload into memory, many
times over: inside a memory cgroup, the kernel OOM-kills the worker."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/items")
def items():
    return jsonify(items=[1, 2, 3])


@app.route("/import")
def do_import():
    chunks = []
    while True:
        chunks.append(bytearray(16 << 20))  # zero-filled: the pages are touched


@app.route("/")
def index():
    return "ok\n"
