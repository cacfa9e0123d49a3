#!/usr/bin/env python3
"""Copies a scenario's captured logs into testdata and writes its truth.json and README.md.

The cause of each incident is what the scenario caused (given on the command line);
the window and the counts are computed here from the access log nginx really wrote.
Every 5xx of the access log must belong to exactly one declared incident, so a stray
5xx (a scenario that failed in a way we did not intend) fails the run instead of
silently producing a wrong truth.

  truth.py --work DIR --out DIR --log-format FMT --copy access.log --copy pm2.log=pm2.log \
      --incident 'upstream=127.0.0.1:18411;cause=oom_kill;match=ua=127.0.0.1:18411' \
      --description TEXT --readme FILE [--notes TEXT] [--tz UTC] [--boot-time RFC3339]

A matcher is field=value (exact match of ua, host, path; the path is the request's path
without query) or field~regex.
"""
import argparse
import datetime as dt
import gzip
import json
import os
import re
import shutil
import sys

LINE = re.compile(
    r'^(?P<addr>\S+) - (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)" '
    r'rt=(?P<rt>\S+) ua="(?P<ua>[^"]*)" us="(?P<us>[^"]*)" uct="(?P<uct>[^"]*)" '
    r'uht="(?P<uht>[^"]*)" urt="(?P<urt>[^"]*)" cid=(?P<cid>\d+) rid=(?P<rid>\S+)$'
)


def parse_time(s):
    return dt.datetime.strptime(s, "%d/%b/%Y:%H:%M:%S %z")


def rfc3339(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def matcher(spec):
    m = re.match(r"^(\w+)([=~])(.*)$", spec)
    if not m:
        sys.exit("truth: bad matcher %r" % spec)
    field, op, val = m.groups()

    def get(rec):
        if field == "status":
            return rec["status"]
        if field == "path":
            parts = rec["request"].split(" ")
            return parts[1].split("?")[0] if len(parts) > 1 else ""
        return rec[field]

    if op == "=":
        return lambda rec: get(rec) == val
    rx = re.compile(val)
    return lambda rec: rx.search(get(rec)) is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log-format", required=True)
    ap.add_argument("--copy", action="append", default=[])
    ap.add_argument("--incident", action="append", default=[])
    ap.add_argument("--description", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--notes", default="")
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--boot-time")
    ap.add_argument("--tolerance", type=int, default=2)
    ap.add_argument("--expect", action="append", default=[],
                    help="FILE:REGEX that must match a line of a copied file (the failure really happened as intended)")
    ap.add_argument("--forbid", action="append", default=[],
                    help="FILE:REGEX that must match no line (a failure we did not intend)")
    a = ap.parse_args()

    for c in ["nginx.conf"] + a.copy:
        src, _, dst = c.partition("=")
        dst = dst or os.path.basename(src)
        shutil.copyfile(os.path.join(a.work, src), os.path.join(a.out, dst))

    for spec, want in [(e, True) for e in a.expect] + [(e, False) for e in a.forbid]:
        fn, _, rx = spec.partition(":")
        path = os.path.join(a.out, fn)
        f = gzip.open(path, "rt", encoding="utf-8", errors="replace") if fn.endswith(".gz") else open(path, encoding="utf-8", errors="replace")
        with f:
            found = any(re.search(rx, line) for line in f)
        if found != want:
            sys.exit("truth: %s: %s %r" % (fn, "no line matches" if want else "a line matches forbidden", rx))

    # access.log and its rotated generations (access.log.1, access.log.2.gz, ...), oldest first
    def generation(fn):
        m = re.match(r"^access\.log(?:\.(\d+))?(?:\.gz)?$", fn)
        return -int(m.group(1) or 0) if m else None
    access_files = sorted((fn for fn in os.listdir(a.out) if generation(fn) is not None), key=generation)
    recs = []
    for fn in access_files:
        path = os.path.join(a.out, fn)
        f = gzip.open(path, "rt", encoding="utf-8", errors="replace") if fn.endswith(".gz") else open(path, encoding="utf-8", errors="replace")
        with f:
            for n, line in enumerate(f, 1):
                m = LINE.match(line.rstrip("\n"))
                if not m:
                    sys.exit("truth: %s:%d does not match the log format: %r" % (fn, n, line))
                rec = m.groupdict()
                rec["t"] = parse_time(rec["time"])
                recs.append(rec)

    incs = []
    for spec in a.incident:
        kv = dict(p.split("=", 1) for p in spec.split(";"))
        incs.append({"spec": kv, "match": matcher(kv["match"]), "recs": []})
    stray = []
    for r in recs:
        if not r["status"].startswith("5"):
            continue
        hits = [i for i in incs if i["match"](r)]
        if len(hits) != 1:
            stray.append(r)
            continue
        hits[0]["recs"].append(r)
    if stray:
        for r in stray[:10]:
            print("truth: 5xx outside any declared incident: %s %s %s ua=%s" % (r["time"], r["status"], r["request"], r["ua"]), file=sys.stderr)
        sys.exit("truth: %d stray 5xx" % len(stray))

    # split=N: one declared failure mode that happened several times, in bursts
    # separated by more than N seconds of quiet (N above the correlator's gap).
    split = []
    for i in incs:
        if "split" not in i["spec"] or not i["recs"]:
            split.append(i)
            continue
        rs = sorted(i["recs"], key=lambda r: r["t"])
        cur = [rs[0]]
        for r in rs[1:]:
            if (r["t"] - cur[-1]["t"]).total_seconds() > float(i["spec"]["split"]):
                split.append(dict(i, recs=cur))
                cur = []
            cur.append(r)
        split.append(dict(i, recs=cur))
        want = int(i["spec"].get("bursts", 0))
        if want and sum(1 for x in split if x["spec"] is i["spec"]) != want:
            sys.exit("truth: %s: %d bursts, want %d" % (i["spec"], sum(1 for x in split if x["spec"] is i["spec"]), want))
    incs = split

    out_incs = []
    for i in incs:
        rs = i["recs"]
        if not rs:
            sys.exit("truth: incident %s has no 5xx in the access log: the failure did not happen" % i["spec"])
        statuses = {}
        for r in rs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        ts = sorted(r["t"] for r in rs)
        gaps = [(b - a_).total_seconds() for a_, b in zip(ts, ts[1:])]
        out_incs.append({
            "upstream": i["spec"]["upstream"],
            **({"server": i["spec"]["server"]} if "server" in i["spec"] else {}),
            "cause": i["spec"]["cause"],
            "start": rfc3339(ts[0]),
            "end": rfc3339(ts[-1]),
            "statuses": dict(sorted(statuses.items())),
            "requests": len(rs),
            "tolerance_seconds": a.tolerance,
            **({"dependency": i["spec"]["dependency"]} if "dependency" in i["spec"] else {}),
            "max_gap_seconds": max(gaps) if gaps else 0,
        })

    with open(os.path.join(a.work, "timeline.jsonl")) as f:
        timeline = [json.loads(l) for l in f if l.strip()]
    truth = {
        "description": a.description,
        "tz": a.tz,
        "log_format": a.log_format,
    }
    if a.boot_time:
        truth["boot_time"] = a.boot_time
    truth["incidents"] = out_incs
    truth["notes"] = a.notes
    truth["timeline"] = timeline
    truth["access_lines"] = len(recs)
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")

    files = sorted(os.listdir(a.out))
    sizes = []
    for fn in files:
        path = os.path.join(a.out, fn)
        with (gzip.open(path, "rb") if fn.endswith(".gz") else open(path, "rb")) as f:
            sizes.append("| %s | %d |" % (fn, f.read().count(b"\n")))
    with open(a.readme) as f:
        body = f.read().strip()
    lines = [body, "", "## This capture", "",
             "Captured %s on %s (kernel %s)." % (rfc3339(dt.datetime.now(dt.timezone.utc)), os.uname().nodename, os.uname().release), "",
             "What the scenario did, in order (UTC, from the script's clock):", ""]
    for e in timeline:
        lines.append("- %s %s" % (e["ts"], e["event"]))
    lines += ["", "Incidents computed from access.log (every 5xx belongs to one):", ""]
    for i in out_incs:
        lines.append("- %s: cause `%s`, %s .. %s, %d requests %s" % (i["upstream"], i["cause"], i["start"], i["end"], i["requests"], json.dumps(i["statuses"])))
    if not out_incs:
        lines.append("- none (no 5xx)")
    status_all = {}
    for r in recs:
        status_all[r["status"]] = status_all.get(r["status"], 0) + 1
    lines += ["", "All statuses in access.log: `%s`" % json.dumps(dict(sorted(status_all.items()))), "",
              "| file | lines |", "|---|---|"] + sizes + [""]
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write("\n".join(lines))
    print("truth: %s: %d access lines, incidents: %s" % (a.out, len(recs), json.dumps([(i["upstream"], i["cause"], i["start"], i["end"], i["requests"], i["statuses"]) for i in out_incs])), file=sys.stderr)


if __name__ == "__main__":
    main()
