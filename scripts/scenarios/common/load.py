#!/usr/bin/env python3
"""Steady, light HTTP load for a scenario: a fixed request rate, each request in
its own thread so a slow response never slows the rate (that is what real users
do: they keep arriving). Standard library only.

  load.py --base http://127.0.0.1:18410 --rate 10 --duration 40 \
          --paths '/=6,/api/items=3,/missing=1' [--timeout 10] [--ua NAME]
"""
import argparse
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--paths", default="/=1")
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--ua", default="culprit-scenario-load/1.0")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-inflight", type=int, default=64)
    a = ap.parse_args()

    paths, weights = [], []
    for part in a.paths.split(","):
        p, _, w = part.rpartition("=")
        paths.append(p)
        weights.append(float(w))
    rnd = random.Random(a.seed)
    counts = Counter()
    lock = threading.Lock()
    sem = threading.Semaphore(a.max_inflight)

    def one(path):
        try:
            req = urllib.request.Request(a.base + path, headers={"User-Agent": a.ua})
            try:
                with urllib.request.urlopen(req, timeout=a.timeout) as r:
                    r.read()
                    code = r.status
            except urllib.error.HTTPError as e:
                e.read()
                code = e.code
            except Exception as e:  # timeouts, resets: the client gave up
                code = type(e).__name__
            with lock:
                counts[code] += 1
        finally:
            sem.release()

    interval = 1.0 / a.rate
    start = time.monotonic()
    n = 0
    threads = []
    while True:
        due = start + n * interval
        now = time.monotonic()
        if due - start >= a.duration:
            break
        if due > now:
            time.sleep(due - now)
        if not sem.acquire(timeout=a.timeout):
            with lock:
                counts["skipped"] += 1
            n += 1
            continue
        t = threading.Thread(target=one, args=(rnd.choices(paths, weights)[0],), daemon=True)
        t.start()
        threads.append(t)
        n += 1
    for t in threads:
        t.join(a.timeout + 1)
    print("load: sent=%d %s" % (n, dict(sorted(counts.items(), key=str))), file=sys.stderr)


if __name__ == "__main__":
    main()
