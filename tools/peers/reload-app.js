// reload-app.js: the Node peer of tools/bench-reload.sh, run by PM2 in
// cluster mode (`pm2 start reload-app.js -i 2`): GET /api/hello answers
// a small JSON, as corral's demo route does; each worker takes
// STARTUP_MS (300) to become ready before it listens, like corral's
// workers with node.workers.startup_delay.
'use strict';
const http = require('http');

const port = Number(process.env.PORT || 8080);
const startup = Number(process.env.STARTUP_MS || 300);

const server = http.createServer((request, response) => {
  if (request.url === '/api/hello') {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ message: 'hello', pid: process.pid }));
  } else {
    response.writeHead(404);
    response.end();
  }
});

setTimeout(() => server.listen(port, '127.0.0.1'), startup);
// graceful: no new connections, idle keep-alive ones closed, then exit
process.on('SIGINT', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
