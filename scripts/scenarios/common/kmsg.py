#!/usr/bin/env python3
"""Reads the kernel's /dev/kmsg records (prio,seq,usec_since_boot,flags;message,
plus " KEY=value" continuation lines) and keeps only the OOM blocks of one
memory cgroup written after --since-usec, exactly as /dev/kmsg gives them. Prints
the wall-clock boot time (the zero of usec) with --boot-time so that a reader can
place the records in time.

  kmsg.py --now-usec            # prints the current monotonic time in usec
  kmsg.py --since-usec N --cgroup /name >kmsg.log
  kmsg.py --boot-time           # RFC 3339 UTC, microseconds
"""
import argparse
import datetime as dt
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import oomblocks  # noqa: E402 (common/, next to this script)


def records():
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                r = os.read(fd, 16384)
            except BlockingIOError:
                return
            except BrokenPipeError:  # overwritten records: skip ahead
                continue
            yield r.decode("utf-8", "replace")
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--now-usec", action="store_true")
    ap.add_argument("--boot-time", action="store_true")
    ap.add_argument("--since-usec", type=int)
    ap.add_argument("--cgroup")
    a = ap.parse_args()
    if a.now_usec:
        print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)
        return
    if a.boot_time:
        # printk stamps records with local_clock(), which runs with CLOCK_MONOTONIC
        # on a machine that never suspends: boot = now - monotonic.
        boot = time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)
        print(dt.datetime.fromtimestamp(boot, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        return
    def since(rec):
        f = rec.partition(";")[0].split(",")
        return len(f) >= 3 and int(f[2]) >= a.since_usec

    def message(rec):
        return rec.partition(";")[2].split("\n", 1)[0]

    out = oomblocks.select([r for r in records() if since(r)], a.cgroup, message)
    sys.stdout.write("".join(r if r.endswith("\n") else r + "\n" for r in out))


if __name__ == "__main__":
    main()
