// http.js: a node:http Server (and so Express, Fastify, Koa on top of it)
// serving the connections corral gives this worker:
// - balancing `shared`: the coordinator accepts and hands each connection
//   over the worker's channel (CORRAL_HANDOFF_FD, SCM_RIGHTS, taken by
//   the addon in src/handoff.c), to the worker with the fewest open ones;
//   the worker counts what it took and closed in the shared counters page
//   (CORRAL_HANDOFF_COUNTERS_FD) and says READY, then DRAINING at its stop;
// - balancing `reuseport`: its own SO_REUSEPORT socket on fd 3.
// Every response says which worker served it (X-Corral-Worker). The
// request figures of the status reports are counted here, and the
// graceful stop happens here: no new connections, idle ones closed, the
// requests in flight finished with Connection: close, within a deadline.
'use strict';

const net = require('node:net');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const LISTEN_FD = 3;
const HEARTBEAT_MS = 50;            // CORRAL_HANDOFF_HEARTBEAT_MS
const READY = 'R'.charCodeAt(0);
const DRAINING = 'D'.charCodeAt(0);
const BUCKETS_US = [500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
                    1000000, 2500000, 5000000, 10000000];   // metrics/response_buckets.h

let addon = null;
function handoffAddon() {
  if (!addon) addon = require(path.join(__dirname, '..', 'build', 'Release', 'corral_handoff.node'));
  return addon;
}

function envFd(name) {
  const text = process.env[name];
  return text && /^[0-9]+$/.test(text) ? Number(text) : -1;
}

function cumulative(counts) {
  let sum = 0;
  return counts.map((count) => (sum += count));
}

class RequestFigures {
  constructor() {
    this.total = 0;
    this.codes = new Map();
    this.intervalCount = 0;
    this.intervalTotalUs = 0;
    this.intervalMaxUs = 0;
    this.buckets = new Array(BUCKETS_US.length).fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.connections = 0;           // open now
    this.accepted = 0;
  }

  add(status, spentUs) {
    this.total++;
    this.codes.set(status, (this.codes.get(status) || 0) + 1);
    this.intervalCount++;
    this.intervalTotalUs += spentUs;
    if (spentUs > this.intervalMaxUs) this.intervalMaxUs = spentUs;
    this.count++;
    this.sumUs += spentUs;
    let bucket = 0;             // the first bound it is within (cumulated at sample())
    while (bucket < BUCKETS_US.length && spentUs > BUCKETS_US[bucket]) bucket++;
    if (bucket < BUCKETS_US.length) this.buckets[bucket]++;
  }

  // RequestMetrics for a Report; the interval starts again
  sample() {
    const metrics = {
      total: this.total, intervalCount: this.intervalCount,
      intervalTotalUs: Math.round(this.intervalTotalUs), intervalMaxUs: Math.round(this.intervalMaxUs),
      concurrentConnections: this.connections, connectionsAccepted: this.accepted,
      statusCodes: [...this.codes].sort((a, b) => a[0] - b[0]).map(([code, count]) => ({ code, count })),
      responseTimeBuckets: cumulative(this.buckets), responseTimeCount: this.count,
      responseTimeSumUs: Math.round(this.sumUs),
    };
    this.intervalCount = 0;
    this.intervalTotalUs = 0;
    this.intervalMaxUs = 0;
    return metrics;
  }
}

const BEGAN = Symbol('corral.began');
const SERVICE = Symbol('corral.service');

function onFinish() {
  const service = this[SERVICE];
  service.figures.add(this.statusCode, (performance.now() - this[BEGAN]) * 1000);
  const socket = this.req.socket;   // this.socket is detached by now
  const state = socket && service.sockets.get(socket);
  if (!state) return;
  state.inFlight--;
  if (service.stopping && state.inFlight === 0) socket.end();
}

class HttpService {
  constructor({ server, workerName, shutdownTimeoutMs, headerTimeoutMs, onError }) {
    this.server = server;
    this.firstRequestMs = Number(headerTimeoutMs) || 1000;
    this.workerName = workerName;
    this.shutdownTimeoutMs = shutdownTimeoutMs;
    this.onError = onError;
    this.figures = new RequestFigures();
    this.sockets = new Map();       // socket -> { inFlight, served }
    this.stopping = false;
    this.channel = null;
    this.heartbeat = null;
    this.accepting = false;
    server.prependListener('request', (request, response) => this.onRequest(request, response));
    server.on('clientError', () => {});     // Node answers 400 and closes; nothing to add
  }

  // the mode corral chose: the hand-over when its channel is there, else fd 3
  get mode() {
    return envFd('CORRAL_HANDOFF_FD') >= 0 ? 'shared' : 'fd3';
  }

  // begins taking connections (the worker is ready)
  start() {
    if (this.accepting) return Promise.resolve();
    this.accepting = true;
    if (this.mode === 'shared') return this.startHandoff();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ fd: LISTEN_FD }, () => {
        this.server.off('error', reject);
        // the coordinator shuts fd 3 down at the instance's stop: accept() then fails
        this.server.on('error', (error) => this.stopping || this.onError(error));
        this.server.on('connection', (socket) => this.track(socket, false));
        resolve();
      });
    });
  }

  startHandoff() {
    const handoff = handoffAddon();
    this.channel = handoff.open(envFd('CORRAL_HANDOFF_FD'), envFd('CORRAL_HANDOFF_COUNTERS_FD'),
                                (fds) => this.take(fds));
    if (!handoff.say(this.channel, READY)) throw new Error('cannot say READY on the hand-over channel');
    return Promise.resolve();
  }

  // connections handed over: each becomes a net.Socket the server serves
  take(fds) {
    for (const fd of fds) {
      let socket;
      try {
        socket = new net.Socket({ fd, readable: true, writable: true });
      } catch (error) {
        require('node:fs').closeSync(fd);
        handoffAddon().closed(this.channel);
        this.onError(error);
        continue;
      }
      socket.setNoDelay(true);
      this.track(socket, true);
      this.server.emit('connection', socket);
    }
    this.beatWhileBusy();
  }

  track(socket, handed) {
    this.figures.accepted++;
    this.figures.connections++;
    this.sockets.set(socket, { inFlight: 0, served: 0 });
    if (this.stopping) this.endWhenIdle(socket);
    socket.once('close', () => {
      this.figures.connections--;
      this.sockets.delete(socket);
      if (handed) handoffAddon().closed(this.channel);
      if (this.stopping && this.sockets.size === 0 && this.drained) this.drained();
    });
  }

  // the coordinator hands connections only while our heartbeat moves:
  // every HEARTBEAT_MS while we hold some (our loop turns), else at each report
  beatWhileBusy() {
    if (this.heartbeat || !this.channel) return;
    this.heartbeat = setInterval(() => {
      handoffAddon().beat(this.channel);
      if (handoffAddon().held(this.channel) === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = null;
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  alive() {
    if (this.channel) handoffAddon().beat(this.channel);
  }

  // per request, so kept cheap: no closure, no BigInt (the handler of
  // 'finish' is shared; what it needs rides on the response)
  onRequest(request, response) {
    response[BEGAN] = performance.now();
    response[SERVICE] = this;
    const state = this.sockets.get(request.socket);
    if (state) {
      state.inFlight++;
      state.served++;
    }
    response.setHeader('X-Corral-Worker', this.workerName);
    if (this.stopping) response.setHeader('Connection', 'close');
    response.on('finish', onFinish);
  }

  inFlight() {
    let count = 0;
    for (const state of this.sockets.values()) count += state.inFlight;
    return count;
  }

  // at the stop: an idle keep-alive connection is closed now; one that has
  // not sent its first request yet is given until the header timeout (a
  // client writes right after connecting) and then answered with
  // Connection: close; one with a request in flight closes after it
  endWhenIdle(socket) {
    const state = this.sockets.get(socket);
    if (!state || state.inFlight > 0) {
      const response = socket._httpMessage;
      if (response && !response.headersSent) response.shouldKeepAlive = false;
      return;
    }
    if (state.served > 0) {
      socket.end();
      return;
    }
    const timer = setTimeout(() => {
      if (this.sockets.get(socket)?.inFlight === 0) socket.end();
    }, this.firstRequestMs);
    timer.unref();
  }

  // stop taking connections, close the idle ones, let the others finish
  // (Connection: close), force what is left at `deadlineMs`; resolves when
  // every connection is closed
  drain(deadlineMs) {
    this.stopping = true;
    if (this.channel) handoffAddon().say(this.channel, DRAINING);
    // net's close, not http's: http's destroys the idle connections, and a
    // request arriving on one at that instant would be reset
    else if (this.accepting && this.server.listening) net.Server.prototype.close.call(this.server);
    for (const socket of this.sockets.keys()) this.endWhenIdle(socket);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = setTimeout(() => {
        for (const socket of this.sockets.keys()) socket.destroy();
        done();
      }, Math.max(deadlineMs, 1));
      this.drained = done;
      if (this.sockets.size === 0) done();
    });
  }
}

module.exports = { HttpService, RequestFigures };
