// A cart service: Express 5 + ioredis (offline queue on, 3 retries per request
// instead of the default 20, which holds a request for well over 15 s: a common
// production setting), logging JSON with pino-http (pino's epoch-millisecond
// "time"). The error handler hands the error to pino-http (res.err) and answers
// 503, the pattern pino-http documents.
const express = require('express');
const Redis = require('ioredis');
const pino = require('pino');
const pinoHttp = require('pino-http');

const logger = pino();
const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT), maxRetriesPerRequest: 3 });
redis.on('error', (err) => logger.error({ err }, 'redis connection error'));
redis.on('ready', () => logger.info('redis ready'));

const app = express();
app.use(pinoHttp({ logger }));
app.get('/health', (req, res) => res.json({ ok: true }));
app.get('/cart/:id', async (req, res) => {
  const items = await redis.lrange('cart:' + req.params.id, 0, -1);
  res.json({ id: req.params.id, items });
});
app.post('/cart/:id', async (req, res) => {
  await redis.rpush('cart:' + req.params.id, 'sku-' + Date.now());
  res.status(201).json({ ok: true });
});
app.use((err, req, res, next) => {
  res.err = err;
  res.status(503).json({ error: 'cart unavailable' });
});
const port = Number(process.env.PORT);
app.listen(port, '127.0.0.1', () => logger.info(`cart listening on 127.0.0.1:${port}`));
