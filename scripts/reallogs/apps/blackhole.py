"""A TCP listener that never accepts, with its backlog already full, so that
further connects to it time out (the kernel drops their SYNs): a real
dependency that hangs. Usage: python3 blackhole.py PORT SECONDS"""
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(0)
fill = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    fill.append(c)
print("ready", flush=True)
time.sleep(secs)
