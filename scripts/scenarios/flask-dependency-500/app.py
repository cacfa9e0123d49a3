"""A Flask checkout service under gunicorn that calls an internal payments
service over HTTP for every /checkout. Nothing catches the error when payments
is down: Flask logs "Exception on /checkout [GET]" with the traceback and answers
500, as many real apps do."""
import json
import os
import urllib.request

from flask import Flask, jsonify

app = Flask(__name__)
PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "http://127.0.0.1:18546")


@app.route("/checkout")
def checkout():
    with urllib.request.urlopen(PAYMENTS_URL + "/charge", timeout=2) as r:
        charge = json.load(r)
    return jsonify(order="ok", charge=charge)


@app.route("/cart")
def cart():
    return jsonify(items=[1, 2])


@app.route("/")
def index():
    return "ok\n"
