// A stand-in database: answers "PONG" to each "PING" line over TCP.
const net = require('net');
const port = Number(process.env.DB_PORT || 18542);
net.createServer((s) => {
  s.on('data', () => s.write('PONG\n'));
  s.on('error', () => {});
}).listen(port, '127.0.0.1');
