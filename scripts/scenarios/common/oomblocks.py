#!/usr/bin/env python3
"""Keeps, from `dmesg --time-format iso` on stdin, only the kernel OOM blocks of one
memory cgroup: from "<comm> invoked oom-killer" to the "Killed process" line, plus the
"oom_reaper: reaped process" line of each pid killed there. Other helpers may OOM-kill
their own processes on the same machine at the same time; their blocks are left out.

  dmesg --time-format iso | oomblocks.py --since EPOCH --cgroup /culprit-scn-oom
"""
import argparse
import datetime as dt
import re
import sys


def select(records, cgroup, message=lambda r: r):
    """The records of the OOM blocks of one memory cgroup, in order: from "invoked
    oom-killer" to its "Killed process" record, kept when the block names the cgroup
    (oom_memcg= or the memcg stats), plus the "oom_reaper: reaped process" record of
    each pid killed there. message(record) is the text to match (for /dev/kmsg, the
    record's first line)."""
    names = ("oom_memcg=" + cgroup + ",", "oom_memcg=" + cgroup + "\n", "Memory cgroup stats for " + cgroup + ":")
    out, block, killed = [], None, set()
    for rec in records:
        msg = message(rec)
        if "invoked oom-killer:" in msg:
            block = [rec]
            continue
        if block is not None:
            block.append(rec)
            m = re.search(r"Killed process (\d+)", msg)
            if m:
                text = "".join(block)
                if any(n in text for n in names):
                    out.extend(block)
                    killed.add(m.group(1))
                block = None
            continue
        m = re.search(r"oom_reaper: reaped process (\d+)", msg)
        if m and m.group(1) in killed:
            out.append(rec)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--since", type=float, required=True)
    ap.add_argument("--cgroup", required=True)
    a = ap.parse_args()
    lines = []
    for line in sys.stdin:
        ts = line.split(" ", 1)[0]
        try:
            t = dt.datetime.strptime(ts.replace(",", "."), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        except ValueError:
            continue
        if t >= a.since - 1:
            lines.append(line)
    sys.stdout.write("".join(select(lines, a.cgroup)))


if __name__ == "__main__":
    main()
