// A recommendations service on Node's http module: each request asks a
// ranking service with fetch and a 2 s AbortSignal.timeout (the documented
// way to bound a fetch). A failure is logged with console.error after an ISO
// stamp and answered 504 by the service itself.
const http = require('http');

const ranking = `http://127.0.0.1:${process.env.RANK_PORT}/rank`;
const log = (...a) => console.error(new Date().toISOString(), ...a);

http.createServer(async (req, res) => {
  if (!req.url.startsWith('/recommend')) { res.statusCode = 404; res.end('not found\n'); return; }
  try {
    const r = await fetch(ranking, { signal: AbortSignal.timeout(2000) });
    res.setHeader('content-type', 'application/json');
    res.end(await r.text());
  } catch (err) {
    log('ranking call failed:', err);
    res.statusCode = 504;
    res.end('ranking unavailable\n');
  }
}).listen(Number(process.env.PORT), '127.0.0.1', () => log(`recommend listening on 127.0.0.1:${process.env.PORT}`));
