// An orders API on Fastify 5 with its built-in pino logger (JSON lines). A
// webhook handler parses the payload in a callback outside the request's
// promise chain: a bad payload throws there, nothing catches it, and Node
// exits (code 1) after printing the stack.
const fastify = require('fastify')({ logger: true });

fastify.get('/api/orders', async () => ({ orders: [1, 2, 3] }));
fastify.get('/health', async () => ({ ok: true }));
fastify.get('/webhook', (req, reply) => {
  setImmediate(() => {
    const payload = JSON.parse(req.query.payload); // throws on a bad payload
    reply.send({ received: payload.id });
  });
});
fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
