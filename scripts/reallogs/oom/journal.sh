#!/usr/bin/env bash
# Replay the real kernel OOM lines (testdata/kernel/real/dmesg-iso.log) into
# a private systemd-journald namespace, as journald's kmsg import would store
# them (SYSLOG_IDENTIFIER=kernel), and print them back with journalctl in the
# output formats users paste: short, short-iso, short-precise, json. The
# envelope (stamp, host, tag, JSON fields) is what real journalctl writes;
# the messages are the real kernel lines.
#
# Usage: scripts/reallogs/oom/journal.sh [OUTDIR]  (default parser/testdata/envelope/journal)
# Needs root and systemd's journald/journalctl binaries (Debian 12: systemd
# 252); systemd need not be PID 1. The namespace keeps it away from /dev/log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/parser/testdata/envelope/journal}
ns=culprit$$
mkdir -p "$out"
/usr/lib/systemd/systemd-journald "$ns" >/dev/null 2>&1 &
jd=$!
cleanup() {
	kill "$jd" 2>/dev/null || true
	wait "$jd" 2>/dev/null || true
	rm -rf "/run/systemd/journal.$ns" /run/log/journal/*."$ns" /var/log/journal/*."$ns"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "/run/systemd/journal.$ns/socket" ] && break; sleep 0.1; done

# Native protocol: one datagram of KEY=value lines per entry.
python3 - "/run/systemd/journal.$ns/socket" "$root/parser/testdata/kernel/real/dmesg-iso.log" <<'PY'
import re, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
wanted = re.compile(r'invoked oom-killer|oom-kill:|Killed process|memory: usage')
for line in open(sys.argv[2], encoding='utf-8'):
    msg = line.rstrip('\n').split(' ', 1)[1]
    if not wanted.search(msg):
        continue
    entry = 'MESSAGE=%s\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=3\nSYSLOG_FACILITY=0\n' % msg
    sock.sendto(entry.encode(), sys.argv[1])
PY
sleep 0.5
for fmt in short short-iso short-precise json; do
	journalctl --namespace="$ns" -o "$fmt" --no-pager -q >"$out/kernel.$fmt"
done
wc -l "$out"/kernel.*
