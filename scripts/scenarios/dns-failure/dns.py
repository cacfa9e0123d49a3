#!/usr/bin/env python3
"""A tiny authoritative-looking DNS server on UDP for one scenario: answers A
queries with 127.0.0.1 (TTL 1), or SERVFAIL while the file --fail-flag exists
(a broken resolver). Standard library only."""
import argparse
import os
import socket
import struct

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--fail-flag", required=True)
a = ap.parse_args()

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", a.port))
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    qid, _flags, qd = struct.unpack(">HHH", q[:6])
    # the question: labels up to the zero byte, then type and class
    end = q.index(b"\x00", 12) + 5
    question = q[12:end]
    qtype = struct.unpack(">H", q[end - 4:end - 2])[0]
    if os.path.exists(a.fail_flag):
        hdr = struct.pack(">HHHHHH", qid, 0x8182, 1, 0, 0, 0)  # SERVFAIL
        s.sendto(hdr + question, peer)
    elif qtype == 1:
        hdr = struct.pack(">HHHHHH", qid, 0x8580, 1, 1, 0, 0)
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 1, 4) + socket.inet_aton("127.0.0.1")
        s.sendto(hdr + question + ans, peer)
    else:
        hdr = struct.pack(">HHHHHH", qid, 0x8580, 1, 0, 0, 0)  # no data
        s.sendto(hdr + question, peer)
