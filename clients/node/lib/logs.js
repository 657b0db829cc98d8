// logs.js: log records to the coordinator (docs/worker-protocol.md,
// section 4): LogBatch frames on a PUSH socket, each record numbered per
// worker from 1 without gaps, filtered by the levels of the WorkerConfig
// (and of LogConfig updates), flushed every 10 ms without ever blocking
// the loop (a bounded queue; what it cannot hold is dropped and counted).
// Also the ways in: loggers by name, console, and a stream for pino and
// winston (JSON lines with a level and a message).
'use strict';

const util = require('node:util');
const { Writable } = require('node:stream');
const { LEVELS, encode } = require('./proto');
const { Outbox } = require('./outbox');

const FLUSH_MS = 10;
const BATCH_MAX = 1000;             // records per frame (the coordinator takes 4096)
const QUEUE_MAX = 100000;           // records waiting, then dropped and counted
const OUTBOX_MAX = 64;              // frames waiting for zeromq
const LEVEL_NAMES = ['all', 'trace', 'debug', 'info', 'warn', 'error', 'fatal', 'off'];
// pino's numbers and winston's names, to corral's levels
const PINO_LEVELS = { 10: 1, 20: 2, 30: 3, 40: 4, 50: 5, 60: 6 };
const NAMED_LEVELS = { ...LEVELS, silly: 1, verbose: 2, http: 3, warning: 4, critical: 6,
                       emerg: 6, alert: 6, crit: 6, err: 5, notice: 3 };

class LogPusher {
  constructor({ zmq, endpoint, workerId, secret, logLevel, logging }) {
    this.workerId = workerId;
    this.secret = secret;
    this.seq = 0;                   // the last given to a record
    this.sentSeq = 0;               // the last handed to zeromq
    this.dropped = 0;
    this.pending = [];
    this.timer = null;
    this.setLevels(logLevel, logging);
    if (endpoint) {
      this.socket = new zmq.Push({ sendHighWaterMark: 100000, linger: 5000 });
      this.socket.connect(endpoint);
      this.outbox = new Outbox(this.socket, OUTBOX_MAX);
    }
  }

  // WorkerConfig.log_level and .logging, or a LogConfig
  setLevels(rootName, logging) {
    this.root = LEVELS[rootName] ?? LEVELS.info;
    if (logging && logging.root && logging.root.hasLevel) this.root = logging.root.level;
    this.loggerLevels = new Map();
    for (const logger of (logging && logging.loggers) || [])
      if (logger.hasLevel) this.loggerLevels.set(logger.name, logger.level);
    this.resolved = new Map();
  }

  // a logger's level: its own, else its nearest dotted parent's, else root
  levelOf(name) {
    let level = this.resolved.get(name);
    if (level !== undefined) return level;
    level = this.root;
    for (let prefix = name; prefix; prefix = prefix.slice(0, Math.max(prefix.lastIndexOf('.'), 0))) {
      if (this.loggerLevels.has(prefix)) {
        level = this.loggerLevels.get(prefix);
        break;
      }
    }
    this.resolved.set(name, level);
    return level;
  }

  enabled(level, logger) {
    return level >= this.levelOf(logger) && level < LEVELS.off;
  }

  record(level, logger, message, meta, error) {
    if (!this.enabled(level, logger)) return;
    const seq = ++this.seq;
    if (this.pending.length >= QUEUE_MAX) {
      this.dropped++;
      return;
    }
    this.pending.push({
      timestampMs: Date.now(), level, logger, message: String(message),
      meta: meta === undefined || meta === null ? '' : (typeof meta === 'string' ? meta : safeJson(meta)),
      error: error ? String(error && error.stack ? error.stack : error) : '',
      pid: process.pid, seq,
    });
    if (!this.timer && this.outbox) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  // one frame per BATCH_MAX records; what zeromq cannot take now is dropped
  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.outbox) return;
    while (this.pending.length > 0) {
      const records = this.pending.splice(0, BATCH_MAX);
      const frame = encode('logBatch', { workerId: this.workerId, records,
                                         dropped: this.dropped, secret: this.secret });
      if (this.outbox.push(frame)) this.sentSeq = records[records.length - 1].seq;
      else this.dropped += records.length;
    }
  }

  // at exit: everything queued handed to zeromq (the linger sends it)
  async close() {
    this.flush();
    if (!this.outbox) return;
    await this.outbox.idle();
    this.socket.close();
  }
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return '';
  }
}

// A named logger: logger.info(message, meta) and the like; an Error as
// the message or in meta.err becomes the record's error.
class Logger {
  constructor(sink, name) {
    this.sink = sink;
    this.name = name;
    for (let level = 1; level <= 6; level++) {
      this[LEVEL_NAMES[level]] = (message, meta) => this.log(level, message, meta);
    }
  }

  log(level, message, meta) {
    let error = '';
    if (message instanceof Error) {
      error = message;
      message = message.message;
    } else if (meta && meta.err instanceof Error) {
      error = meta.err;
      meta = { ...meta };
      delete meta.err;
    }
    this.sink(level, this.name, message, meta, error);
  }

  child(suffix) {
    return new Logger(this.sink, `${this.name}.${suffix}`);
  }
}

// console.log and friends into records of logger `name`; returns a
// function that puts the console back
function captureConsole(sink, name) {
  const saved = {};
  const methods = { log: 3, info: 3, debug: 2, trace: 1, warn: 4, error: 5 };
  for (const [method, level] of Object.entries(methods)) {
    saved[method] = console[method];
    console[method] = (...args) => sink(level, name, util.format(...args));
  }
  return () => Object.assign(console, saved);
}

// A writable stream of lines: a JSON object with a level (pino's numbers,
// winston's names) and msg or message becomes a record of its level, its
// other fields the record's meta; any other line a record at info.
function logStream(sink, defaultLogger) {
  let rest = '';
  const writeLine = (line) => {
    if (!line.trim()) return;
    let object = null;
    if (line[0] === '{') {
      try {
        object = JSON.parse(line);
      } catch {
        object = null;
      }
    }
    if (!object || typeof object !== 'object') {
      sink(LEVELS.info, defaultLogger, line);
      return;
    }
    const { level, msg, message, name, logger, time, timestamp, pid, hostname, err, stack,
            ...meta } = object;
    const mapped = typeof level === 'number' ? (PINO_LEVELS[level] ?? LEVELS.info)
      : (NAMED_LEVELS[String(level).toLowerCase()] ?? LEVELS.info);
    const error = err ? (err.stack || err.message || safeJson(err)) : (stack || '');
    sink(mapped, String(logger || name || defaultLogger), msg ?? message ?? '',
         Object.keys(meta).length ? meta : undefined, error);
  };
  return new Writable({
    decodeStrings: false,
    write(chunk, encoding, done) {
      const text = rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const lines = text.split('\n');
      rest = lines.pop();
      for (const line of lines) writeLine(line);
      done();
    },
    final(done) {
      if (rest) writeLine(rest);
      rest = '';
      done();
    },
  });
}

module.exports = { LogPusher, Logger, captureConsole, logStream, LEVEL_NAMES };
