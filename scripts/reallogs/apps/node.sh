#!/usr/bin/env bash
# Runs the machine's Node.js to produce real failure output into
# parser/testdata/node/: heap OOM (--max-old-space-size=20), an uncaught
# exception, an uncaughtException handler's output, ECONNREFUSED to a dead
# port (18351), an http request to it (unhandled 'error' event), EADDRINUSE
# (18352 taken), an unhandled promise rejection, a JSON.parse throw with the
# caret block, an Express-style "listening" line, and pino's JSON records. Ports 18350-18353.
source "$(dirname "$0")/lib.sh"
apps_init node
run() { local name=$1; shift; "$@" > "$out/$name.log" 2>&1 || true; }
cat > "$work/oom.js" <<'JS'
const keep = [];
while (true) { keep.push(new Array(100000).fill({ a: Math.random() })); }
JS
run heap-oom node --max-old-space-size=20 "$work/oom.js"
cat > "$work/throw.js" <<'JS'
function handle(req) { return req.user.name; }
console.log('server listening on port 18350');
setTimeout(() => handle({}), 10);
JS
run uncaught node "$work/throw.js"
cat > "$work/handler.js" <<'JS'
process.on('uncaughtException', (err, origin) => {
  console.error(`Caught exception: ${err}\nException origin: ${origin}`);
  console.error(err.stack);
  process.exit(1);
});
setTimeout(() => { null.x; }, 10);
JS
run handler node "$work/handler.js"
cat > "$work/refused.js" <<'JS'
const net = require('net');
const s = net.connect(18351, '127.0.0.1');
s.on('connect', () => console.log('connected'));
JS
run econnrefused node "$work/refused.js"
cat > "$work/http-refused.js" <<'JS'
const http = require('http');
http.get('http://127.0.0.1:18351/api', (res) => res.resume());
JS
run http-econnrefused node "$work/http-refused.js"
cat > "$work/caught.js" <<'JS'
const net = require('net');
function connectDb() {
  const s = net.connect(18351, '127.0.0.1');
  s.on('error', (err) => { console.error('database connection failed:', err); process.exitCode = 2; });
}
connectDb();
JS
run logged-econnrefused node "$work/caught.js"
cat > "$work/listen.js" <<'JS'
const http = require('http');
const port = Number(process.argv[2]);
http.createServer((q, r) => r.end('ok')).listen(port, () => console.log(`Server listening on http://localhost:${port}`));
if (process.argv[3]) setTimeout(() => process.exit(0), Number(process.argv[3]));
JS
node "$work/listen.js" 18352 3000 > "$out/listening.log" 2>&1 &
first=$!
sleep 0.7
run eaddrinuse node "$work/listen.js" 18352
wait $first || true
cat > "$work/reject.js" <<'JS'
async function loadUser(id) { throw new TypeError(`cannot load user ${id}`); }
loadUser(42);
JS
run unhandled-rejection node "$work/reject.js"
cat > "$work/json.js" <<'JS'
JSON.parse('{"a": 1,');
JS
run json-throw node "$work/json.js"
# An app that stamps its own records: the stamp is on the first line only.
cat > "$work/stamped.js" <<'JS'
const net = require('net');
const log = (level, ...args) => console.error(new Date().toISOString(), level, ...args);
log('INFO', 'orders-api starting');
const s = net.connect(18351, '127.0.0.1');
s.on('error', (err) => { log('ERROR', 'GET /api/orders failed:', err); process.exitCode = 2; });
JS
run stamped node "$work/stamped.js"
# A process warning: Node prefixes it with "(node:PID)".
cat > "$work/warn.js" <<'JS'
const { EventEmitter } = require('events');
const e = new EventEmitter();
for (let i = 0; i < 11; i++) e.on('data', () => {});
console.log('pool ready');
JS
run warning node "$work/warn.js"
# Structured logs: pino (npm, installed locally) logging a refused database
# connection with its error object, a listen line and a fatal record.
pino=/tmp/apps/pinopkg
if [ ! -d "$pino/node_modules/pino" ]; then
  mkdir -p "$pino" && (cd "$pino" && npm init -y >/dev/null && npm install pino@9 --no-audit --no-fund >/dev/null)
fi
cat > "$work/pino.js" <<JS
const log = require('$pino/node_modules/pino')({ name: 'api' });
const net = require('net');
const http = require('http');
http.createServer((q, r) => r.end('ok')).listen(18353, '127.0.0.1', function () {
  log.info({ port: 18353 }, 'server listening on 127.0.0.1:18353');
  const s = net.connect(18351, '127.0.0.1');
  s.on('error', (err) => {
    log.error({ err }, 'database connection failed');
    log.fatal({ err }, 'cannot start without the database');
    process.exit(1);
  });
});
JS
run pino node "$work/pino.js"
echo "node $(node --version), pino $(node -e "console.log(require('$pino/node_modules/pino/package.json').version)")" > "$out/VERSION"
