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
    out, block, killed = [], None, set()
    for line in lines:
        if "invoked oom-killer:" in line:
            block = [line]
            continue
        if block is not None:
            block.append(line)
            m = re.search(r"Killed process (\d+)", line)
            if m:
                if any(("oom_memcg=" + a.cgroup + ",") in l or ("oom_memcg=" + a.cgroup + "\n") in l or ("Memory cgroup stats for " + a.cgroup + ":") in l for l in block):
                    out.extend(block)
                    killed.add(m.group(1))
                block = None
            continue
        m = re.search(r"oom_reaper: reaped process (\d+)", line)
        if m and m.group(1) in killed:
            out.append(line)
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
