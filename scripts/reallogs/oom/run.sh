#!/usr/bin/env bash
# Trigger real kernel OOM kills inside a cgroup v1 memory cgroup and capture
# what the kernel wrote, in the three forms users meet it in:
#   kmsg.log      /dev/kmsg records (prio,seq,usec,flags;message)
#   dmesg.log     `dmesg` raw ([seconds.micros] message, boot-relative)
#   dmesg-iso.log `dmesg --time-format iso`
#   dmesg-r.log, dmesg-x.log, dmesg-T.log  `dmesg -r` (raw priority), `-x` (decoded
#                 facility/level), `-T` (ctime in the local zone, whole seconds)
# plus btime.txt (the /proc/stat boot time that anchors the first two).
#
# Each victim renames itself (prctl PR_SET_NAME, as setproctitle and
# node's process.title do), so the kernel's comm carries spaces, brackets and
# parentheses. Ground truth (pid, comm) is written to truth.txt.
#
# Usage: sudo scripts/reallogs/oom/run.sh [OUTDIR]   (default: parser/testdata/kernel/real)
# Needs root, cgroup v1 memory controller at /sys/fs/cgroup/memory, python3, node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../parser/testdata/kernel/real}
mkdir -p "$out"
cg=/sys/fs/cgroup/memory/culprit-oom-$$
limit=$((64 << 20))

kmsg_last_seq() {
	python3 - <<'PY'
import os
fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
last = -1
while True:
    try:
        rec = os.read(fd, 8192)
    except BlockingIOError:
        break
    except BrokenPipeError:  # record overwritten while reading: skip it
        continue
    last = int(rec.split(b',', 2)[1])
print(last)
PY
}

kmsg_since() {
	python3 - "$1" <<'PY'
import os, sys
after = int(sys.argv[1])
fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
while True:
    try:
        rec = os.read(fd, 8192)
    except BlockingIOError:
        break
    except BrokenPipeError:
        continue
    if int(rec.split(b',', 2)[1]) > after:
        sys.stdout.buffer.write(rec)
PY
}

cleanup() { rmdir "$cg" 2>/dev/null || true; }
trap cleanup EXIT
mkdir "$cg"
echo "$limit" >"$cg/memory.limit_in_bytes"

seq0=$(kmsg_last_seq)
dmesg_n0=$(dmesg | wc -l)
: >"$out/truth.txt"

# Victim 1: python that names itself "py worker (api) [1]" and allocates fast.
bash -c 'echo $$ >'"$cg"'/cgroup.procs; exec python3 -c "
import ctypes, os, sys
ctypes.CDLL(None).prctl(15, b\"py worker (api) [1]\", 0, 0, 0)
sys.stdout.write(\"%d\n\" % os.getpid()); sys.stdout.flush()
hog = []
while True:
    hog.append(bytearray(8 << 20))
"' >"/tmp/culprit-oom-$$.pid" 2>/dev/null || true
echo "python pid=$(cat /tmp/culprit-oom-$$.pid) comm='py worker (api)' (prctl cuts to 15 bytes)" >>"$out/truth.txt"
sleep 1

# Victim 2: node with a script path as its title (what PM2/forever users see).
cat >"/tmp/culprit-oom-$$.js" <<'JS'
process.title = 'node /srv/app.js';
console.log(process.pid);
const hog = [];
for (;;) hog.push(Buffer.alloc(8 << 20, 1));
JS
bash -c 'echo $$ >'"$cg"'/cgroup.procs; exec node "/tmp/culprit-oom-'$$'.js"' >"/tmp/culprit-oom-$$.pid" 2>/dev/null || true
echo "node pid=$(cat /tmp/culprit-oom-$$.pid) title='node /srv/app.js'" >>"$out/truth.txt"
sleep 1
# Victim 3: a title built to trip naive parsers: ") " inside the name.
bash -c 'echo $$ >'"$cg"'/cgroup.procs; exec python3 -c "
import ctypes, os, sys
ctypes.CDLL(None).prctl(15, b\"gw) 1 (x) [y]\", 0, 0, 0)
sys.stdout.write(\"%d\n\" % os.getpid()); sys.stdout.flush()
hog = []
while True:
    hog.append(bytearray(8 << 20))
"' >"/tmp/culprit-oom-$$.pid" 2>/dev/null || true
echo "python pid=$(cat /tmp/culprit-oom-$$.pid) comm='gw) 1 (x) [y]'" >>"$out/truth.txt"
sleep 1
rm -f "/tmp/culprit-oom-$$.js" "/tmp/culprit-oom-$$.pid"

kmsg_since "$seq0" >"$out/kmsg.log"
dmesg | tail -n +"$((dmesg_n0 + 1))" >"$out/dmesg.log"
dmesg --time-format iso | tail -n +"$((dmesg_n0 + 1))" >"$out/dmesg-iso.log"
dmesg -r | tail -n +"$((dmesg_n0 + 1))" >"$out/dmesg-r.log" # <prio>[stamp]
dmesg -x | tail -n +"$((dmesg_n0 + 1))" >"$out/dmesg-x.log" # kern  :err   : [stamp]
dmesg -T | tail -n +"$((dmesg_n0 + 1))" >"$out/dmesg-T.log" # [Wed Nov 25 16:36:03 2026]
grep btime /proc/stat >"$out/btime.txt"
echo "cgroup=${cg#/sys/fs/cgroup/memory} limit=$limit kernel=$(uname -r)" >>"$out/truth.txt"
wc -l "$out"/*.log
