// An Express API that queries its database for every /api request. When the
// database refuses connections the API answers 502 itself and logs the error
// with its stack, as an Express error handler with a timestamped logger does.
const express = require('express');
const net = require('net');

const port = Number(process.env.PORT || 18441);
const dbPort = Number(process.env.DB_PORT || 18542);
const log = (level, msg) => console.log(`${new Date().toISOString()} ${level} ${msg}`);

function query(sql) {
  return new Promise((resolve, reject) => {
    const s = net.connect(dbPort, '127.0.0.1');
    s.setTimeout(2000, () => s.destroy(new Error('db query timeout')));
    s.once('error', reject);
    s.once('data', (d) => { s.end(); resolve(String(d).trim()); });
    s.write(`PING ${sql}\n`);
  });
}

const app = express();
app.get('/health', (req, res) => res.send('ok'));
app.get('/api/orders{/:id}', async (req, res, next) => {
  try {
    await query('select * from orders');
    res.json({ orders: [] });
  } catch (err) {
    next(err);
  }
});
app.use((req, res) => res.status(404).json({ error: 'not found' }));
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  log('ERROR', `${req.method} ${req.originalUrl} failed: ${err.stack}`);
  res.status(502).json({ error: 'database unavailable' });
});

app.listen(port, '127.0.0.1', () => log('INFO', `orders-api listening on 127.0.0.1:${port}, database 127.0.0.1:${dbPort}`));
