// corral: a Node.js application as corral workers (docs/nodejs.md).
//
//   const corral = require('corral');
//   const server = http.createServer(app);      // Express, Fastify, Koa...
//   corral.serve(server);                       // instead of server.listen()
//
// One worker per process; this module is its worker. Outside corral (no
// CORRAL_DESK) the same code runs as one plain process: serve() listens on
// PORT, isMainWorker() is true, broadcasts reach only this process's own
// handlers when sendToSelf is set, logs go to stderr.
'use strict';

const { EventEmitter } = require('node:events');
const { Worker, WorkerError } = require('./worker');
const { HttpService } = require('./http');
const { Logger, captureConsole, logStream, LEVEL_NAMES } = require('./logs');
const { LEVELS } = require('./proto');

const APP = 'app';                  // the plugin of the top-level broadcast() and on()

const worker = new Worker();
const events = new EventEmitter();  // 'main' (isMain), 'stopping' (why)
worker.on('main', (main) => events.emit('main', main));
worker.on('stopping', (why) => events.emit('stopping', why));

let starting = null;
const early = { handlers: [], records: [] };    // before the Welcome

function fatal(error) {
  process.stderr.write(`[corral] ${error.message}\n`);
  process.exit(error instanceof WorkerError ? error.exitCode : 1);
}

// Joins the instance (once): resolves with the WorkerConfig once this
// worker is in sync with the bus and migrations are done. `migrate`: an
// async function the main worker runs first (its result is the payload of
// migration-complete); the other workers wait for it.
function start(options = {}) {
  if (!starting) {
    starting = worker.start(options).then((config) => {
      for (const record of early.records.splice(0)) worker.log(...record);
      for (const entry of early.handlers.splice(0))
        if (!entry.cancelled) entry.off = worker.bus.on(entry.plugin, entry.type, entry.handler);
      if (config.withoutHttp || !worker.clustered && !worker.http) worker.markReady();
      return config;
    }, fatal);
  }
  return starting;
}

// Serves `server` (a node:http Server) with the connections corral gives
// this worker; resolves once the worker has said Ready. Outside corral it
// listens on `port` (default: PORT, else 3000).
async function serve(server, options = {}) {
  if (worker.http) throw new Error('corral.serve: one server per worker');
  const config = await start(options);
  if (!worker.clustered) {
    await new Promise((resolve) => server.listen(options.port ?? Number(process.env.PORT || 3000),
                                                 options.host ?? '127.0.0.1', resolve));
    return server;
  }
  if (config.withoutHttp)
    fatal(new WorkerError('this worker serves HTTP: run it in a worker type with http: true', 78));
  if (process.env.LISTEN_FDS !== '1' || process.env.LISTEN_PID !== String(process.pid))
    fatal(new WorkerError('no listening socket: started by corral (LISTEN_FDS=1, LISTEN_PID)', 1));
  worker.http = new HttpService({
    server, workerName: config.workerName, shutdownTimeoutMs: config.shutdownTimeoutMs,
    headerTimeoutMs: config.limits ? config.limits.headerTimeoutMs : 0,
    onError: (error) => worker.log(LEVELS.error, 'http', `server: ${error.message}`, undefined, error),
  });
  // server.limits.keepalive_requests: a connection closes after that many
  // requests, so that load spreads again (unless the server says otherwise)
  const keepaliveRequests = config.limits ? Number(config.limits.keepaliveRequests) : 0;
  if (keepaliveRequests > 0 && !server.maxRequestsPerSocket)
    server.maxRequestsPerSocket = keepaliveRequests;
  await worker.http.start();
  worker.markReady();
  return server;
}

function record(level, logger, message, meta, error) {
  if (starting && worker.logs) worker.log(level, logger, message, meta, error);
  else if (worker.clustered) early.records.push([level, logger, message, meta, error]);
  else if (level >= LEVELS.info) process.stderr.write(`[${LEVEL_NAMES[level]}][${logger}] ${message}\n`);
}

function on(plugin, type, handler) {
  if (typeof handler !== 'function') throw new TypeError('on(type, handler): handler is a function');
  if (worker.bus) return worker.bus.on(plugin, type, handler);
  const entry = { plugin, type, handler, cancelled: false, off: null };
  early.handlers.push(entry);
  return () => {
    entry.cancelled = true;
    if (entry.off) entry.off();
  };
}

function broadcast(plugin, type, payload, options) {
  if (!worker.bus) throw new Error('corral: broadcast before start() or serve() resolved');
  return worker.bus.broadcast(plugin, type, payload, options);
}

// The RFC's node service for one plugin: its messages are its own.
function plugin(name) {
  if (!name || typeof name !== 'string') throw new TypeError('plugin(name): a name');
  return {
    isEnabled: () => worker.clustered,
    getWorkerId: () => worker.workerId ?? Number(process.env.CORRAL_WORKER_ID || 1),
    isMainWorker: () => isMainWorker(),
    broadcast: (type, payload, options) => broadcast(name, type, payload, options),
    on: (type, handler) => on(name, type, handler),
    addMessageHandler: (type, handler) => on(name, type, handler),
    setStatus: (level, summary) => worker.setStatus(name, level, summary),
    logger: (suffix) => new Logger(record, suffix ? `plugins.${name}.${suffix}` : `plugins.${name}`),
    task: (taskName, intervalMs, fn) => task(taskName, intervalMs, fn, name),
  };
}

function isMainWorker() {
  return worker.clustered ? Boolean(worker.main) : true;
}

// Runs `fn` every `intervalMs` on the main worker only, never twice at once.
function task(name, intervalMs, fn, pluginName = 'tasks') {
  if (!worker.tasks) throw new Error('corral.task: after start() or serve() resolved');
  return worker.tasks.register(name, intervalMs, fn, { plugin: pluginName });
}

module.exports = {
  start,
  serve,
  stop: (why = 'asked by the program') => worker.stop(why),
  broadcast: (type, payload, options) => broadcast(APP, type, payload, options),
  on: (type, handler) => on(APP, type, handler),
  addMessageHandler: (type, handler) => on(APP, type, handler),
  plugin,
  isMainWorker,
  get isMain() { return isMainWorker(); },
  get isEnabled() { return worker.clustered; },
  get workerId() { return worker.workerId ?? Number(process.env.CORRAL_WORKER_ID || 1); },
  get workerName() { return worker.config ? worker.config.workerName : undefined; },
  get config() { return worker.config; },
  events,
  task,
  logger: (name = APP) => new Logger(record, name),
  captureConsole: (name = 'console') => captureConsole(record, name),
  logStream: ({ logger = APP } = {}) => logStream(record, logger),
  setStatus: (level, summary, pluginName = APP) => worker.setStatus(pluginName, level, summary),
  clusterView: () => worker.clusterView(),
};
