// A Node API under PM2 with a small V8 heap (--max-old-space-size). GET
// /api/export builds a huge array of objects: V8 runs out of heap, prints
// "FATAL ERROR: ... JavaScript heap out of memory" and aborts. No kernel involved.
const http = require('http');

const port = Number(process.env.PORT || 18581);
const warmMs = Number(process.env.WARM_MS || 2000);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/export') {
    console.log(`export requested ${url.search}`);
    const rows = [];
    for (let i = 0; ; i++) rows.push({ id: i, name: `customer-${i}`, tags: ['a', 'b', 'c'] });
  }
  if (url.pathname.startsWith('/api/')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"customers":[]}');
  }
  res.writeHead(404);
  res.end();
});

console.log(`starting pid ${process.pid}`);
setTimeout(() => {
  server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
}, warmMs);
