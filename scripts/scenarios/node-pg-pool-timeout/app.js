// An inventory service: Express 5 + node-postgres Pool (max 3 clients, 1 s
// connectionTimeoutMillis), logging JSON with winston (ISO timestamps). /stock
// runs a slow query (1.2 s); when all clients are busy, pool.connect() waits and
// fails with "timeout exceeded when trying to connect"; the app answers 500.
const express = require('express');
const { Pool } = require('pg');
const winston = require('winston');

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
  transports: [new winston.transports.Console()],
});
const pool = new Pool({ host: '127.0.0.1', port: Number(process.env.PG_PORT), user: 'postgres', database: 'postgres',
  max: 3, connectionTimeoutMillis: 1000 });

const app = express();
app.get('/health', (req, res) => res.json({ ok: true }));
app.get('/stock/:sku', async (req, res) => {
  const r = await pool.query('SELECT $1::text AS sku, 7 AS qty, pg_sleep(1.2)', [req.params.sku]);
  res.json({ sku: r.rows[0].sku, qty: r.rows[0].qty });
});
app.get('/items', async (req, res) => {
  const r = await pool.query('SELECT 1 AS n');
  res.json({ n: r.rows[0].n });
});
app.use((err, req, res, next) => {
  logger.error(`${req.method} ${req.originalUrl} failed`, { error: err.message, stack: err.stack });
  res.status(500).json({ error: 'internal' });
});
const port = Number(process.env.PORT);
app.listen(port, '127.0.0.1', () => logger.info(`inventory listening on 127.0.0.1:${port}`));
