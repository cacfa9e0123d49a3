#!/usr/bin/env bash
# Runs real PM2 (from npm, installed locally) with three apps and captures its
# own log and the apps' out/err logs (ecosystem `time: true`) into
# parser/testdata/pm2/. Ground truth we cause:
#   crasher  throws an uncaught exception 300 ms after start: exits with code 1,
#            PM2 restarts it until "too many unstable restarts";
#   memhog   grows its heap past max_memory_restart (40M): PM2's worker restarts it;
#   api      listens on 127.0.0.1:18301, then `pm2 restart api`, `pm2 stop api`,
#            and finally a SIGKILL from outside (exit via signal).
# Usage: scripts/reallogs/apps/pm2.sh   (needs node + npm; ports 18301)
source "$(dirname "$0")/lib.sh"
apps_init pm2
pkg=/tmp/apps/pm2pkg
mkdir -p "$pkg"
if [ ! -x "$pkg/node_modules/.bin/pm2" ]; then
  (cd "$pkg" && npm init -y >/dev/null && npm install pm2@5 --no-audit --no-fund >/dev/null)
fi
pm2=$pkg/node_modules/.bin/pm2
export PM2_HOME=$work/home
# PM2 checks max_memory_restart every PM2_WORKER_INTERVAL ms (default 30 s).
export PM2_WORKER_INTERVAL=2000
rm -rf "$PM2_HOME"; mkdir -p "$PM2_HOME"
cat > "$work/crasher.js" <<'JS'
console.log('crasher booting');
setTimeout(() => { throw new Error('boom: unhandled failure in crasher'); }, 300);
JS
cat > "$work/memhog.js" <<'JS'
console.log('memhog started');
const keep = [];
setInterval(() => { keep.push(Buffer.alloc(8 << 20, 1)); console.log('memhog holds ' + keep.length * 8 + ' MB'); }, 200);
JS
cat > "$work/api.js" <<'JS'
const http = require('http');
const port = 18301;
http.createServer((req, res) => res.end('ok')).listen(port, '127.0.0.1', () => console.log('listening on port ' + port));
process.on('SIGINT', () => { console.log('SIGINT received, shutting down'); process.exit(0); });
JS
# min_uptime is generous: on a loaded machine Node takes long to start, and a
# crash after min_uptime counts as a stable run (PM2 then restarts forever).
cat > "$work/ecosystem.config.js" <<JS
module.exports = { apps: [
  { name: 'crasher', script: '$work/crasher.js', time: true, min_uptime: 5000, max_restarts: 3, restart_delay: 100 },
  { name: 'memhog', script: '$work/memhog.js', time: true, max_memory_restart: '40M' },
  { name: 'api', script: '$work/api.js', time: true },
]};
JS
trap '"$pm2" kill >/dev/null 2>&1 || true' EXIT
"$pm2" start "$work/ecosystem.config.js" >/dev/null
sleep 9
"$pm2" restart api >/dev/null
sleep 1
"$pm2" stop api >/dev/null
"$pm2" stop memhog >/dev/null
sleep 1
"$pm2" start api >/dev/null
sleep 1.5
pid=$("$pm2" pid api)
kill -9 "$pid"
sleep 1.5
"$pm2" kill >/dev/null
trap - EXIT
cp "$PM2_HOME/pm2.log" "$out/pm2.log"
for f in "$PM2_HOME"/logs/*.log; do cp "$f" "$out/$(basename "$f")"; done
# Not `pm2 --version`: that starts a new daemon.
ver=$(node -e "console.log(require('$pkg/node_modules/pm2/package.json').version)")
echo "pm2 $ver, node $(node --version)" > "$out/VERSION"
ls -l "$out"
