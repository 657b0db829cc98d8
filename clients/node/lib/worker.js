// worker.js: one Node process's life as a corral worker
// (docs/worker-protocol.md): read the secret from fd 4, Hello and Welcome
// on desk, the bus and the logs, status reports (the heartbeat) with the
// event loop's delay and the memory, the main role, waiting for
// migration-complete when not main, Ready, and the graceful stop on
// SIGTERM: stop accepting, finish what is in flight within the stop
// deadline, flush the logs, Bye, exit 0.
'use strict';

const fs = require('node:fs');
const v8 = require('node:v8');
const { EventEmitter } = require('node:events');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { PROTOCOL, LEVELS, STATUS_LEVELS, encode, decode } = require('./proto');
const { Outbox } = require('./outbox');
const { LogPusher } = require('./logs');
const { Bus } = require('./bus');
const { Tasks } = require('./tasks');

const EX_CONFIG = 78;
const WELCOME_TIMEOUT_MS = 60000;
const STOP_MARGIN_MS = 500;         // give up a little before the coordinator's deadline
const MIGRATIONS = 'migrations';    // the plugin of migration-complete (docs/node-service.md)
const MIGRATION_COMPLETE = 'migration-complete';
const LOGGER = 'node';

class WorkerError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

function readSecret() {
  const fd = Number(process.env.CORRAL_SECRET_FD ?? -1);
  if (!(fd >= 0)) return Buffer.alloc(0);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Joins the instance: resolves with the WorkerConfig, or rejects with a
// WorkerError that says why (and the exit status).
async function join(zmq, endpoint, workerId, secret) {
  const desk = new zmq.Dealer({ maxMessageSize: 4 * 1024 * 1024, linger: 2000 });
  desk.connect(endpoint);
  await desk.send(['', encode('hello', { workerId, pid: process.pid, secret })]);
  desk.receiveTimeout = WELCOME_TIMEOUT_MS;
  let frames;
  try {
    frames = await desk.receive();
  } catch {
    throw new WorkerError(`no Welcome from the coordinator within ${WELCOME_TIMEOUT_MS} ms`, 1);
  }
  desk.receiveTimeout = -1;
  const reply = decode(frames[frames.length - 1]);
  if (reply && reply.body === 'protocolError')
    throw new WorkerError(`the coordinator refused this worker: ${reply.protocolError.message}`, EX_CONFIG);
  if (!reply || reply.protocol !== PROTOCOL)
    throw new WorkerError(`the coordinator speaks corral protocol version ${reply && reply.protocol}, ` +
                          `this worker speaks version ${PROTOCOL}: use a package built for this corral`,
                          EX_CONFIG);
  if (reply.body !== 'welcome')
    throw new WorkerError('the coordinator answered Hello with something else than a Welcome', 1);
  return { desk, config: reply.welcome.config };
}

class Worker extends EventEmitter {
  constructor() {
    super();
    this.clustered = Boolean(process.env.CORRAL_DESK);
    this.started = Date.now();
    this.services = new Map();      // plugin name -> ServiceStatus
    this.http = null;
    this.ready = false;
    this.stopping = false;
    this.reportSeq = 0;
    this.view = null;
    this.viewWaiters = [];
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.previousDelayMs = 0;
  }

  // Hello, Welcome, the bus, the logs and the reports; the main worker runs
  // `migrate` and broadcasts migration-complete, the others wait for it
  async start({ migrate } = {}) {
    const zmq = require('zeromq');
    const workerId = Number(process.env.CORRAL_WORKER_ID || 1);
    if (process.env.CORRAL_CONFIG_FD && !this.clustered)
      throw new WorkerError('classic mode (node.enabled: false) runs one process without a ' +
                            'coordinator: a Node worker needs the clustered mode', EX_CONFIG);
    if (this.clustered) {
      const secret = readSecret();
      this.secret = secret;
      this.coordinatorPid = process.ppid;
      const joined = await join(zmq, process.env.CORRAL_DESK, workerId, secret);
      this.desk = joined.desk;
      this.config = joined.config;
    } else {
      this.config = { workerId: 1, workerName: `node-${process.pid}`, main: true, logLevel: 'info',
                      shutdownTimeoutMs: 10000, statusIntervalMs: 0, workerCount: 1, generation: 1 };
    }
    this.workerId = this.config.workerId;
    this.main = Boolean(this.config.main);
    this.logs = new LogPusher({ zmq, endpoint: this.config.logsEndpoint, workerId: this.workerId,
                                secret: this.secret, logLevel: this.config.logLevel,
                                logging: this.config.logging });
    this.bus = new Bus({ zmq, config: this.config, workerId: this.workerId,
                         onError: (error, plugin, type) => this.log(LEVELS.error, LOGGER,
                           `handler of ${plugin}/${type} failed: ${error && error.message}`,
                           undefined, error) });
    this.tasks = new Tasks({ isMain: () => this.main, log: (...args) => this.log(...args),
                             broadcast: (...args) => this.bus.broadcast(...args) });
    if (this.clustered) {
      this.deskOutbox = new Outbox(this.desk, 1000);
      this.listenDesk();
      this.watchSignals();
      this.loopDelay.enable();
      this.reporter = setInterval(() => this.report(), Math.max(this.config.statusIntervalMs, 100));
      this.report();
    }
    await this.bus.whenSynced();
    await this.migrationsDone(migrate);
    return this.config;
  }

  async migrationsDone(migrate) {
    if (this.main) {
      const result = migrate ? await migrate() : undefined;
      this.bus.broadcast(MIGRATIONS, MIGRATION_COMPLETE,
                         result === undefined ? { migrated: Boolean(migrate) } : result,
                         { persist: true });
      return;
    }
    this.setStatus(MIGRATIONS, 'unavailable', 'waiting for migration-complete from the main worker');
    await new Promise((resolve) => {
      const off = this.bus.on(MIGRATIONS, MIGRATION_COMPLETE, () => {
        off();
        resolve();
      });
    });
    this.services.delete(MIGRATIONS);
  }

  sendDesk(body, value) {
    return this.deskOutbox ? this.deskOutbox.push(['', encode(body, value)]) : false;
  }

  async listenDesk() {
    try {
      for await (const frames of this.desk) this.onDesk(decode(frames[frames.length - 1]));
    } catch {
      // closed: the process is leaving
    }
  }

  onDesk(envelope) {
    if (!envelope) return;
    if (envelope.body === 'logConfig') {
      this.logs.setLevels(this.config.logLevel, envelope.logConfig);
    } else if (envelope.body === 'clusterView') {
      this.view = envelope.clusterView;
      for (const resolve of this.viewWaiters.splice(0)) resolve(this.view);
    } else if (envelope.body === 'mainRole' && !this.stopping) {
      this.setMain(envelope.mainRole.main);
    }
  }

  setMain(main) {
    if (this.main === main) return;
    this.main = main;
    this.log(LEVELS.info, LOGGER, `${main ? 'took' : 'gave up'} the main role`);
    this.tasks.setMain(main);
    this.emit('main', main);
  }

  // the cluster view (every worker's latest report: /api/status, /api/stats)
  clusterView() {
    if (!this.clustered) return Promise.resolve(null);
    const promise = new Promise((resolve) => this.viewWaiters.push(resolve));
    this.sendDesk('viewRequest', { workerId: this.workerId });
    return promise;
  }

  log(level, logger, message, meta, error) {
    if (this.logs) this.logs.record(level, logger, message, meta, error);
  }

  setStatus(plugin, level, summary) {
    if (!(level in STATUS_LEVELS)) throw new TypeError(`status level: one of ${Object.keys(STATUS_LEVELS)}`);
    this.services.set(plugin, { name: plugin, level: STATUS_LEVELS[level], summary: summary || level });
  }

  // the heartbeat: status and figures, every status interval from this loop
  report() {
    if (this.http) this.http.alive();
    if (process.ppid !== this.coordinatorPid) {
      this.stop('the coordinator is gone');
      return;
    }
    const memory = process.memoryUsage();
    const delayMs = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    // the longest turn in the last two intervals, as the reference worker
    const shownDelayMs = Math.max(delayMs, this.previousDelayMs);
    this.previousDelayMs = delayMs;
    const http = this.config.withoutHttp ? { name: 'http', level: 0, summary: 'no HTTP (http: false)' }
      : this.stopping ? { name: 'http', level: 1, summary: 'stopping: not accepting new connections' }
      : this.http && this.ready ? { name: 'http', level: 0, summary: 'serving' }
      : { name: 'http', level: 2, summary: 'starting' };
    this.sendDesk('report', {
      workerId: this.workerId, seq: ++this.reportSeq, core: [http],
      plugins: [...this.services.values()],
      process: {
        pid: process.pid, heapTotalBytes: memory.heapTotal, heapUsedBytes: memory.heapUsed,
        heapSizeLimit: v8.getHeapStatistics().heap_size_limit,
        residentSetSizeBytes: memory.rss, eventLoopDelayMs: Number.isFinite(shownDelayMs) ? shownDelayMs : 0,
        uptimeMs: Date.now() - this.started,
      },
      requests: this.http ? this.http.figures.sample() : {},
      logs: { received: this.logs.seq, dropped: this.logs.dropped },
      fetchesView: true,
    });
  }

  // Ready: serving, in sync with the bus, migrations done
  markReady() {
    if (this.ready || this.stopping) return;
    this.ready = true;
    this.sendDesk('ready', { workerId: this.workerId });
    this.log(LEVELS.debug, LOGGER, `ready (pid ${process.pid})`);
  }

  watchSignals() {
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    // meant for the coordinator: new levels come as LogConfig on desk
    process.on('SIGHUP', () => {});
    process.on('SIGUSR1', () => {});
  }

  // the graceful stop; exits the process with `exitCode`
  async stop(why, exitCode = 0) {
    if (this.stopping) return;
    this.stopping = true;
    this.tasks.setMain(false);
    const timeoutMs = Number(this.config.shutdownTimeoutMs) || 10000;
    const orphaned = this.clustered && process.ppid !== this.coordinatorPid;
    let drainMs = timeoutMs - Math.min(timeoutMs / 10, STOP_MARGIN_MS);
    if (orphaned) drainMs = Math.min(drainMs, 1000);
    this.log(LEVELS.info, LOGGER, `stopping (${why}): ${this.http ? this.http.inFlight() : 0} requests in flight`);
    this.emit('stopping', why);
    if (this.http) {
      const began = Date.now();
      await this.http.drain(drainMs);
      if (Date.now() - began >= drainMs)
        this.log(LEVELS.warn, LOGGER, 'requests still in flight at the shutdown timeout; closed them');
    }
    clearInterval(this.reporter);
    this.loopDelay.disable();
    this.log(LEVELS.info, LOGGER, 'stopped');
    await this.logs.close();
    if (this.clustered && !orphaned) {
      this.sendDesk('bye', { workerId: this.workerId, lastLogSeq: this.logs.sentSeq, exitCode });
      await this.deskOutbox.idle();
    }
    await this.bus.close();
    if (this.desk) this.desk.close();
    process.exit(exitCode);
  }
}

module.exports = { Worker, WorkerError, EX_CONFIG };
