// A Node HTTP API with a bug: POST-less /api/import?format=v2 reads a field that
// the v2 payload does not have and throws inside the request handler. Nothing
// catches it, so Node prints the stack and the process exits with code 1.
const http = require('http');

const port = Number(process.env.PORT || 18461);
const log = (msg) => console.log(`${new Date().toISOString()} INFO ${msg}`);

function parseImport(format) {
  const payload = format === 'v2' ? { meta: {} } : { rows: [{ id: 1 }] };
  return payload.rows.map((r) => r.id);
}

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/import') {
    const ids = parseImport(url.searchParams.get('format'));
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ imported: ids.length }));
  }
  if (url.pathname.startsWith('/api/')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"ok":true}');
  }
  res.writeHead(404);
  res.end();
}).listen(port, '127.0.0.1', () => log(`inventory listening on 127.0.0.1:${port} (pid ${process.pid})`));
