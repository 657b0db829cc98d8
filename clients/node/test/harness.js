// harness.js: real corral instances for the package's tests: a temporary
// directory, port 0, the coordinator's output read for its readiness line
// ("ready: N workers serving http://127.0.0.1:PORT"), HTTP on plain
// keep-alive sockets, and a stop that awaits the coordinator's exit.
// CORRAL_BIN_DIR: the build's bin/ (ctest passes it).
'use strict';

const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BIN = process.env.CORRAL_BIN_DIR || path.join(__dirname, '..', '..', '..', 'build-test', 'bin');
const APP = path.join(__dirname, 'fixtures', 'app.js');
const NODE = process.execPath;

// a worker type running the test app: `name: { count, command }`
function nodeType(name, count, extra = '') {
  return `    ${name}: { count: ${count}, command: [${NODE}, ${APP}]${extra} }\n`;
}

class Instance {
  constructor(yaml) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-node-'));
    this.config = path.join(this.dir, 'corral.yml');
    fs.writeFileSync(this.config, yaml);
    this.output = '';
    this.waiters = [];
    this.exited = null;
  }

  static clustered(types, { server = '', node = '', logging = '' } = {}) {
    return new Instance(
      `server: { host: 127.0.0.1, port: 0${server} }\n` +
      'path: { data: ./data }\n' +
      'pid: { file: ./corral.pid }\n' +
      `node:\n  workers:\n${types}  status: { interval: 100ms }\n  shutdown_timeout: 10s\n${node}` +
      (logging || 'logging: { root: { level: info } }\n'));
  }

  start() {
    this.process = spawn(path.join(BIN, 'corral'), ['-c', this.config], {
      cwd: this.dir, env: { ...process.env, XDG_RUNTIME_DIR: this.dir, NOTIFY_SOCKET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const read = (chunk) => {
      this.output += chunk.toString();
      for (const waiter of [...this.waiters]) waiter();
    };
    this.process.stdout.on('data', read);
    this.process.stderr.on('data', read);
    this.exitPromise = new Promise((resolve) => this.process.on('exit', (code, signal) => {
      this.exited = { code, signal };
      for (const waiter of [...this.waiters]) waiter();
      resolve(this.exited);
    }));
    return this;
  }

  // resolves with the match once `pattern` is in the output (from `from`)
  awaitOutput(pattern, timeoutMs = 20000, from = 0) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.output.slice(from).match(pattern);
        if (match || this.exited) {
          this.waiters.splice(this.waiters.indexOf(check), 1);
          clearTimeout(timer);
          if (match) resolve(match);
          else reject(new Error(`corral exited (${JSON.stringify(this.exited)}) before ${pattern}:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(check), 1);
        reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.output.slice(-4000)}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  async ready(timeoutMs = 30000) {
    const match = await this.awaitOutput(/ready: \d+ workers? serving http:\/\/127\.0\.0\.1:(\d+)/, timeoutMs);
    this.port = Number(match[1]);
    return this;
  }

  count(pattern) {
    return (this.output.match(new RegExp(pattern, 'g')) || []).length;
  }

  signal(name) {
    this.process.kill(name);
  }

  async stop(timeoutMs = 30000) {
    if (!this.exited) this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const exit = await this.exitPromise;
    clearTimeout(timer);
    return exit;
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  file(name) {
    return fs.readFileSync(path.join(this.dir, name), 'utf8');
  }
}

// A keep-alive HTTP/1.1 connection on a plain socket.
class Connection {
  constructor(port) {
    this.port = port;
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    this.waiter = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      this.socket = net.connect(this.port, '127.0.0.1', () => resolve(this));
      this.socket.once('error', reject);
      this.socket.on('data', (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        if (this.waiter) this.waiter();
      });
      this.socket.on('close', () => {
        this.closed = true;
        if (this.waiter) this.waiter();
      });
      this.socket.on('error', () => {});
    });
  }

  // one request; resolves with {status, headers, body, json}, rejects when
  // the connection closed before a whole answer
  request(method, target, timeoutMs = 20000) {
    this.socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method} ${target}: no answer`)), timeoutMs);
      const parse = () => {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end >= 0) {
          const head = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
          const headers = {};
          for (const line of head.slice(1)) {
            const colon = line.indexOf(':');
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
          const length = Number(headers['content-length'] || 0);
          if (this.buffer.length >= end + 4 + length) {
            const body = this.buffer.subarray(end + 4, end + 4 + length).toString();
            this.buffer = this.buffer.subarray(end + 4 + length);
            clearTimeout(timer);
            this.waiter = null;
            let json;
            try { json = JSON.parse(body); } catch { json = undefined; }
            resolve({ status: Number(head[0].split(' ')[1]), headers, body, json,
                      worker: headers['x-corral-worker'] });
            return;
          }
        }
        if (this.closed) {
          clearTimeout(timer);
          this.waiter = null;
          reject(new Error(`${method} ${target}: connection closed`));
        }
      };
      this.waiter = parse;
      parse();
    });
  }

  close() {
    this.socket.destroy();
  }
}

async function request(port, method, target) {
  const connection = await new Connection(port).open();
  try {
    return await connection.request(method, target);
  } finally {
    connection.close();
  }
}

// retries `fn` until it returns a truthy value (events the test cannot
// subscribe to: reports every 100 ms), failing after `timeoutMs`
async function eventually(fn, timeoutMs = 15000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// a request answered by a worker whose name matches `pattern`: opens
// connections at once until one is held by such a worker
async function requestOn(port, pattern, method, target, tries = 16) {
  const connections = [];
  try {
    for (let i = 0; i < tries; i++) connections.push(await new Connection(port).open());
    for (const connection of connections) {
      const reply = await connection.request('GET', '/api/hello');
      if (pattern.test(reply.worker)) return await connection.request(method, target);
    }
  } finally {
    for (const connection of connections) connection.close();
  }
  assert.fail(`no connection held by a worker matching ${pattern}`);
}

module.exports = { Instance, Connection, request, requestOn, eventually, nodeType, BIN, APP, NODE };
