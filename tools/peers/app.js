// app.js: the peers' application for tools/bench-rfc.sh: the same routes as
// corral's demo plugin that the benchmark loads, with the same defaults,
// bounds, waiting and CPU work, so that a run compares clustering and not
// application code:
//   GET /api/hello      a tiny JSON reply
//   GET /api/cpu?work=N  N rounds of xorshift: fixed CPU work per request, for
//                       tools/bench-cores.sh's scaling (N workers against one
//                       process of the same runtime; xorshift32 here, as
//                       64-bit arithmetic is BigInt's in JavaScript, so the
//                       work per round differs from C's)
//   GET /api/realistic?wait_ms=W&jitter_ms=J&cpu_us=C
//                       awaits a "datastore" for W +- J ms (a timer), then
//                       builds and serialises search answers until C us of
//                       CPU time are spent (worker/plugins/demo.c has the
//                       defaults and why)
// Run alone (one process), by cluster.js (Node's cluster module), by PM2
// in cluster mode (ecosystem.config.js) or by corral as a Node worker
// (tools/bench-node.sh: the package in clients/node serves it and owns
// the stop). PORT: the port to listen on outside corral.
'use strict';

const http = require('node:http');

const REALISTIC_WAIT_MS = 20;
const REALISTIC_CPU_US = 500;
const MAX_REALISTIC_WAIT_MS = 1000;
const MAX_REALISTIC_CPU_US = 5000;
const REALISTIC_HITS = 10;
// corral's idle connection timeout, so both keep the load tool's pool alike
const IDLE_CONNECTION_TIMEOUT_MS = 60000;

// a non-negative integer parameter, `fallback` when absent, -1 when
// malformed or above `max` (worker/plugins/query.c)
function queryNumber(params, key, fallback, max) {
  const text = params.get(key);
  if (text === null) return fallback;
  if (!/^[0-9]+$/.test(text)) return -1;
  const value = Number(text);
  return value > max ? -1 : value;
}

const DEFAULT_CPU_WORK = 100000;
const MAX_CPU_WORK = 100000000;

function burnCpu(rounds) {
  let x = 0x9E3779B9 | 0;
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

function respond(response, status, document) {
  const body = JSON.stringify(document);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

function respondError(response, status, message) {
  respond(response, status, { statusCode: status, error: http.STATUS_CODES[status], message });
}

function searchAnswer(waitedMs, round) {
  const hits = [];
  for (let i = 0; i < REALISTIC_HITS; i++) {
    hits.push({
      _id: `doc-${round}-${i}`,
      _score: 1.0 / (i + 1),
      _source: { title: 'A saved object', version: round, tags: ['demo', 'realistic'],
                 managed: i % 2 === 0 },
    });
  }
  return { took: waitedMs, timed_out: false, hits: { total: REALISTIC_HITS, hits } };
}

function cpuMicros() {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

// CPU time, not wall time, like the C route: process.cpuUsage() (Node 20
// has no per-thread figure; V8's helper threads are idle during this loop)
function buildAnswer(waitedMs, cpuUs) {
  const start = cpuMicros();
  let answer;
  let rounds = 0;
  do {
    answer = searchAnswer(waitedMs, rounds++);
    JSON.stringify(answer);
  } while (cpuMicros() - start < cpuUs);
  answer.rounds = rounds;
  return answer;
}

function realistic(params, response) {
  const waitMs = queryNumber(params, 'wait_ms', REALISTIC_WAIT_MS, MAX_REALISTIC_WAIT_MS);
  const jitterMs = queryNumber(params, 'jitter_ms', waitMs < 0 ? 0 : Math.floor(waitMs / 2),
                               MAX_REALISTIC_WAIT_MS);
  const cpuUs = queryNumber(params, 'cpu_us', REALISTIC_CPU_US, MAX_REALISTIC_CPU_US);
  if (waitMs < 0 || jitterMs < 0 || jitterMs > waitMs || cpuUs < 0) {
    respondError(response, 400, 'wait_ms must be an integer from 0 to 1000, ' +
                 'jitter_ms from 0 to wait_ms, cpu_us from 0 to 5000');
    return;
  }
  const waited = waitMs - jitterMs + Math.floor(Math.random() * (2 * jitterMs + 1));
  setTimeout(() => respond(response, 200, buildAnswer(waited, cpuUs)), waited);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://localhost');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    respondError(response, 405, 'method not allowed');
  } else if (url.pathname === '/api/hello') {
    respond(response, 200, { message: 'hello' });
  } else if (url.pathname === '/api/cpu') {
    const work = queryNumber(url.searchParams, 'work', DEFAULT_CPU_WORK, MAX_CPU_WORK);
    if (work < 0) respondError(response, 400, 'work must be an integer from 0 to 100000000');
    else respond(response, 200, { work, result: burnCpu(work).toString(16) });
  } else if (url.pathname === '/api/realistic') {
    realistic(url.searchParams, response);
  } else {
    respondError(response, 404, 'not found');
  }
});
server.keepAliveTimeout = IDLE_CONNECTION_TIMEOUT_MS;

// under corral: the three lines that make it a corral worker
if (process.env.CORRAL_DESK) {
  require('../../clients/node').serve(server);
  return;
}

const port = Number(process.env.PORT || 0);
// STARTUP_MS: an application slow to start (tools/bench-reload.sh), as
// corral's node.workers.startup_delay
setTimeout(() => server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${process.pid} http://127.0.0.1:${server.address().port}`);
}), Number(process.env.STARTUP_MS || 0));
// a graceful stop: no new connections, idle keep-alive ones closed
function stop() {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
