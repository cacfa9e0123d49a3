#!/usr/bin/env python3
"""Misbehaving upstreams for scripts/reallogs/nginx/run.sh.

Each listener fails in one specific, real way so that nginx writes the
error-log line for that failure class. Everything listens on 127.0.0.1 (or a
unix socket under the run directory) and runs until killed.

Usage: backends.py RUNDIR
"""
import os
import socket
import struct
import sys
import threading
import time

RUN = sys.argv[1]

HTTP_PORT = 18150      # dispatches on the request path, see handle_http
NEVER_READ_PORT = 18156  # accepts, never reads: proxy_send_timeout fires
ACCEPT_CLOSE_PORT = 18157  # reads part of a body, then closes: EPIPE for nginx
ACCEPT_RESET_PORT = 18158  # accepts, then resets the connection
FULL_BACKLOG_PORT = 18159  # listen(0), never accepts: later SYNs are dropped
DNS_PORT = 18160       # UDP resolver: NXDOMAIN, SERVFAIL or silence by name


def read_request(c):
    """Reads up to the end of the request head (or 64 KiB)."""
    data = b""
    c.settimeout(10)
    while b"\r\n\r\n" not in data and len(data) < 65536:
        try:
            chunk = c.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        if data[:1] == b"\x16":
            break  # a TLS ClientHello: this plain-HTTP server answers it as HTTP
    return data


def rst_close(c):
    # SO_LINGER with a zero timeout turns close() into a TCP RST.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def handle_http(c):
    req = read_request(c)
    if req[:1] == b"\x16":
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        c.close()
        return
    first = req.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = first.split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    try:
        if "/sleep" in path:
            time.sleep(4)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        elif "/close" in path:
            c.close()  # FIN before any byte of the response
            return
        elif "/midclose" in path:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
            time.sleep(0.1)
            c.close()
            return
        elif "/reset" in path:
            rst_close(c)
            return
        elif "/midreset" in path:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100)
            time.sleep(0.1)
            rst_close(c)
            return
        elif "/garbage" in path:
            c.sendall(b"garbage, not http\r\n\r\n")
        elif "/badheader" in path:
            c.sendall(b"HTTP/1.1 200 OK\r\nX\x01Bad: yes\r\nContent-Length: 0\r\n\r\n")
        elif "/badchunk" in path:
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n")
            time.sleep(0.2)
        elif "/bigheader" in path:
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 8000 + b"\r\nContent-Length: 0\r\n\r\n")
        elif "/big" in path:
            body = b"y" * (8 << 20)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        else:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    except OSError:
        pass
    try:
        c.close()
    except OSError:
        pass


def never_read(c):
    time.sleep(30)
    c.close()


def accept_close(c):
    """Reads part of a large request body, then closes with nothing unread
    (a FIN, not a RST). nginx, still writing, is now in CLOSE_WAIT; the RST
    our kernel sends for its next segment makes its writev() fail with
    EPIPE, as when an app gives up on an upload half way."""
    got = 0
    c.settimeout(5)
    try:
        while got < (1 << 20):
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
        c.setblocking(False)
        while True:
            if not c.recv(1 << 20):
                break
    except OSError:
        pass
    c.close()


def accept_reset(c):
    time.sleep(0.05)
    rst_close(c)


def serve(sock, handler):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def tcp(port, backlog=128):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    return s


def dns():
    """Answers every query by name: *.nx.test NXDOMAIN, *.fail.test SERVFAIL,
    *.slow.test never; anything else REFUSED."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", DNS_PORT))
    while True:
        q, addr = s.recvfrom(512)
        if len(q) < 12:
            continue
        name, i = [], 12
        while i < len(q) and q[i] != 0:
            n = q[i]
            name.append(q[i + 1:i + 1 + n].decode("latin-1"))
            i += n + 1
        host = ".".join(name).lower()
        qend = i + 5  # zero label, qtype, qclass
        if host.endswith(".slow.test"):
            continue
        rcode = 3 if host.endswith(".nx.test") else 2 if host.endswith(".fail.test") else 5
        flags = 0x8180 | rcode  # response, recursion desired + available
        resp = q[:2] + struct.pack(">HHHHH", flags, 1, 0, 0, 0) + q[12:qend]
        s.sendto(resp, addr)


def main():
    threading.Thread(target=serve, args=(tcp(HTTP_PORT), handle_http), daemon=True).start()
    threading.Thread(target=serve, args=(tcp(NEVER_READ_PORT), never_read), daemon=True).start()
    threading.Thread(target=serve, args=(tcp(ACCEPT_CLOSE_PORT), accept_close), daemon=True).start()
    threading.Thread(target=serve, args=(tcp(ACCEPT_RESET_PORT), accept_reset), daemon=True).start()
    full = tcp(FULL_BACKLOG_PORT, 0)  # never accepted: the queue fills after one connection
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = os.path.join(RUN, "full.sock")
    if os.path.exists(path):
        os.unlink(path)
    u.bind(path)
    os.chmod(path, 0o777)
    u.listen(0)  # never accepted: the next connect() gets EAGAIN
    threading.Thread(target=dns, daemon=True).start()
    print("backends ready", flush=True)
    while True:
        time.sleep(3600)
    del full, u


if __name__ == "__main__":
    main()
