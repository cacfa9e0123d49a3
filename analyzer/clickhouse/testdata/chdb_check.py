"""Runs culprit's rendered migrations, then SQL checks, on a current
ClickHouse engine embedded by chdb (pip install chdb).

stdin: JSON {"ddl": [statements], "checks": [{"name", "sql", "want"}]}
       where want is the expected first column of the first row as a string,
       or null to only require that the query runs.
stdout: JSON {"version": ..., "results": [{"name", "got", "error"}]}
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
out = {"version": s.query("SELECT version()", "TabSeparated").data().strip(), "results": []}
for stmt in req["ddl"]:
    try:
        s.query(stmt)
    except Exception as e:  # report which statement a current engine refuses
        out["results"].append({"name": "ddl", "sql": stmt, "error": str(e)})
for c in req["checks"]:
    r = {"name": c["name"]}
    try:
        res = s.query(c["sql"], "TabSeparated").data()
        r["got"] = res.split("\n")[0].split("\t")[0] if res else ""
    except Exception as e:
        r["error"] = str(e)
    out["results"].append(r)
json.dump(out, sys.stdout)
