#!/usr/bin/env python3
"""Prints, in `dmesg -T` form, the kernel records that common/oomblocks.py keeps from
`dmesg --time-format iso` (the OOM blocks of one memory cgroup). Both dmesg calls list
the same ring buffer from its start, so records are paired by position.

  dmesg_t.py ISO_ALL KEPT_ISO T_ALL
"""
import sys

iso_all, kept, t_all = (open(p, errors="replace").read().splitlines() for p in sys.argv[1:4])
keep = set(kept)
for iso, t in zip(iso_all, t_all):
    if iso in keep:
        print(t)
