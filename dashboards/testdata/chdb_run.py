"""Runs SQL on a current ClickHouse engine embedded by chdb (pip install chdb),
for the dashboards test: the tests' server is ClickHouse 18.16, users run a
current one, and the dashboards' SQL must work on both.

stdin: JSON {"setup": [statements], "queries": [{"name", "sql"}]}
stdout: JSON {"version", "setup_errors": [..], "results": [{"name", "rows", "error"}]}
        rows is the number of result rows.
Exit 2 when chdb is not installed, so the Go test can skip.
"""
import json
import sys

try:
    from chdb import session
except ImportError:
    sys.exit(2)

req = json.load(sys.stdin)
s = session.Session()
out = {"version": s.query("SELECT version()", "TabSeparated").data().strip(), "setup_errors": [], "results": []}
for stmt in req["setup"]:
    try:
        s.query(stmt)
    except Exception as e:
        out["setup_errors"].append(f"{e}\n{stmt}")
for q in req["queries"]:
    r = {"name": q["name"]}
    try:
        res = s.query(q["sql"], "JSONCompact").data()
        r["rows"] = len(json.loads(res)["data"]) if res.strip() else 0
    except Exception as e:
        r["error"] = str(e)
    out["results"].append(r)
json.dump(out, sys.stdout)
