// cluster.js: app.js under Node's cluster module, as a user of Node would
// run it: the primary forks WORKERS workers (default 2), which share
// PORT through the primary's round-robin (SCHED_RR, Linux's default).
// Prints "ready N workers http://127.0.0.1:PORT" once every worker is
// listening; exits non-zero if a worker dies; SIGTERM stops them all.
'use strict';

const cluster = require('node:cluster');
const path = require('node:path');

const workers = Number(process.env.WORKERS || 2);
if (!Number.isInteger(workers) || workers < 1) {
  console.error(`cluster.js: WORKERS must be a positive integer, not ${process.env.WORKERS}`);
  process.exit(64);
}

cluster.setupPrimary({ exec: path.join(__dirname, 'app.js'), silent: false });
let listening = 0;
let stopping = false;
cluster.on('listening', (worker, address) => {
  if (++listening === workers)
    console.log(`ready ${workers} workers http://127.0.0.1:${address.port}`);
});
cluster.on('exit', (worker, code, signal) => {
  if (stopping) {
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
    return;
  }
  console.error(`cluster.js: worker ${worker.process.pid} died (${signal || code})`);
  process.exit(1);
});
for (let i = 0; i < workers; i++) cluster.fork();

function stop() {
  stopping = true;
  for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
