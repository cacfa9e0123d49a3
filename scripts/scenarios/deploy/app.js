// A Node HTTP service with a graceful shutdown, as deployed by a script:
// SIGTERM -> stop accepting, finish in-flight requests, exit 0.
const http = require('http');

const port = Number(process.env.PORT || 18451);
const version = process.env.APP_VERSION || 'dev';
const log = (level, msg) => console.log(`${new Date().toISOString()} ${level} [orders-api] ${msg}`);

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path.startsWith('/orders') || path === '/') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ version, orders: [] }));
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
});

process.on('SIGTERM', () => {
  log('INFO', 'received SIGTERM, shutting down');
  server.close(() => {
    log('INFO', 'server closed, bye');
    process.exit(0);
  });
});

log('INFO', `starting orders-api ${version} pid ${process.pid}`);
server.listen(port, '127.0.0.1', () => log('INFO', `listening on 127.0.0.1:${port}`));
