// A catalog service on Node's own http module that calls an inventory service
// with the built-in fetch (undici). A failed call is logged with console.error
// (Node prints the error with its [cause]) and answered 502. Each log line is
// prefixed with an ISO timestamp, as many small services do by hand.
const http = require('http');

const inv = `http://127.0.0.1:${process.env.INV_PORT}`;
const log = (...a) => console.error(new Date().toISOString(), ...a);

http.createServer(async (req, res) => {
  if (req.url === '/health') { res.end('ok\n'); return; }
  if (!req.url.startsWith('/catalog')) { res.statusCode = 404; res.end('not found\n'); return; }
  try {
    const r = await fetch(`${inv}/stock?sku=42`);
    const body = await r.text();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sku: 42, stock: body.trim() }) + '\n');
  } catch (err) {
    log('GET', req.url, 'inventory call failed:', err);
    res.statusCode = 502;
    res.end('inventory unavailable\n');
  }
}).listen(Number(process.env.PORT), '127.0.0.1', () => log(`catalog listening on 127.0.0.1:${process.env.PORT}`));
