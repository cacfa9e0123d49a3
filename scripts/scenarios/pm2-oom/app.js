// A small JSON API run under PM2. GET /api/report builds a report in memory
// and, like a real unbounded query, keeps allocating: inside a memory cgroup the
// kernel's OOM killer ends it. Startup "warms a cache" for a few seconds before
// listening, as real apps do, so the restart leaves a visible gap.
const http = require('http');

const port = Number(process.env.PORT || 18411);
const warmMs = Number(process.env.WARM_MS || 3000);
const held = [];

function handler(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/report') {
    console.log(`report requested: ${url.search} building in memory`);
    const grow = () => {
      for (let i = 0; i < 4; i++) held.push(Buffer.alloc(8 << 20, 1));
      setImmediate(grow);
    };
    grow();
    return; // never answers: the process dies first
  }
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  if (url.pathname.startsWith('/api/')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ items: [1, 2, 3], path: url.pathname }));
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
}

console.log(`starting pid ${process.pid}, warming cache`);
setTimeout(() => {
  http.createServer(handler).listen(port, '127.0.0.1', () => {
    console.log(`listening on 127.0.0.1:${port}`);
  });
}, warmMs);
