// protocol.test.js: Node workers join an instance beside C workers (named
// types): Hello with the secret, Welcome, Ready (the instance is ready),
// their reports in /api/status and /api/stats as the C workers serve them,
// their identity, and a graceful stop with Bye (exit 0, "stopped").
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { Instance, request, requestOn, eventually, nodeType } = require('./harness');

test('Node workers beside C workers: ready, reporting, in /api/status and /api/stats', async () => {
  const instance = Instance.clustered('    c: { count: 1 }\n' + nodeType('js', 2)).start();
  try {
    await instance.ready();
    const node = await requestOn(instance.port, /^js-/, 'GET', '/node');
    assert.equal(node.status, 200);
    assert.match(node.json.workerName, /^js-[12]$/);
    assert.equal(node.worker, node.json.workerName);
    const status = await eventually(async () => {
      const reply = await requestOn(instance.port, /^c-/, 'GET', '/api/status');
      const workers = reply.json && reply.json.status && reply.json.workers;
      const js = workers && Object.entries(workers).filter(([name]) => name.startsWith('js-'));
      return js && js.length === 2 && js.every(([, w]) => w.reporting && w.overall.level === 'available') && reply;
    }, 15000, 'the Node workers available in /api/status');
    assert.equal(status.status, 200, status.body);
    const stats = await eventually(async () => {
      const reply = await requestOn(instance.port, /^c-/, 'GET', '/api/stats');
      const workers = (reply.json && reply.json.processes) || [];
      const js = workers.filter((w) => /^js-/.test(w.name));
      return js.length === 2 && js.every((w) => w.memory && w.memory.resident_set_size_bytes > 0) && reply.json;
    }, 15000, 'the Node workers in /api/stats');
    assert.ok(stats);
    const exit = await instance.stop();
    assert.equal(exit.code, 0, instance.output);
    assert.match(instance.output, /js-1 \(pid \d+\) stopped/);
    assert.match(instance.output, /js-2 \(pid \d+\) stopped/);
    assert.doesNotMatch(instance.output, /js-\d \(pid \d+\) (crashed|exited with)/);
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});

test('tools/peers/app.js (the cluster and PM2 benchmark app) runs under corral', async () => {
  const app = require('node:path').join(__dirname, '..', '..', '..', 'tools', 'peers', 'app.js');
  const instance = Instance.clustered(`    count: 2\n    command: [${process.execPath}, ${app}]\n`).start();
  try {
    await instance.ready();
    const seen = new Set();
    for (let i = 0; i < 8; i++) {
      const reply = await request(instance.port, 'GET', '/api/hello');
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json, { message: 'hello' });
      seen.add(reply.worker);
    }
    assert.equal(seen.size, 2, `served by ${[...seen]}`);
    const realistic = await request(instance.port, 'GET', '/api/realistic?wait_ms=1&cpu_us=100');
    assert.equal(realistic.status, 200);
    assert.equal((await instance.stop()).code, 0, instance.output);
    assert.match(instance.output, /worker-1 \(pid \d+\) stopped/);
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});

test('a Node main worker: its migration-complete releases the C workers', async () => {
  const instance = Instance.clustered(nodeType('js', 1) + '    c: { count: 1 }\n').start();
  try {
    await instance.ready();     // the C worker is ready only after migration-complete
    const node = await requestOn(instance.port, /^js-/, 'GET', '/node');
    assert.equal(node.json.main, true);
    const hello = await requestOn(instance.port, /^c-/, 'GET', '/api/hello');
    assert.equal(hello.status, 200, hello.body);
    assert.match(instance.output, /c-1\]\[plugins\.migrations\] migration-complete: \{"migrated":false\}/);
    assert.equal((await instance.stop()).code, 0);
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});

test('the graceful stop: an idle keep-alive connection is closed at once, one in flight is answered with Connection: close', async () => {
  const instance = Instance.clustered(nodeType('js', 1)).start();
  try {
    await instance.ready();
    const { Connection } = require('./harness');
    const idle = await new Connection(instance.port).open();
    const busy = await new Connection(instance.port).open();
    assert.equal((await idle.request('GET', '/api/hello')).status, 200);
    assert.equal((await busy.request('GET', '/api/hello')).status, 200);
    const answer = busy.request('GET', '/wait?ms=1500');
    await new Promise((resolve) => setTimeout(resolve, 300));       // the request is in
    const began = Date.now();
    instance.signal('SIGTERM');
    await new Promise((resolve) => idle.socket.once('close', resolve));
    assert.ok(Date.now() - began < 1000, `the idle connection closed after ${Date.now() - began} ms`);
    const reply = await answer;
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.connection, 'close');
    const exit = await instance.stop();
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - began < 5000, `stopped after ${Date.now() - began} ms (shutdown_timeout 10 s)`);
    idle.close();
    busy.close();
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});

test('server.limits.keepalive_requests: a Node worker closes a connection after that many requests', async () => {
  const instance = Instance.clustered(nodeType('js', 1),
                                      { server: ', limits: { keepalive_requests: 3 }' }).start();
  try {
    await instance.ready();
    const { Connection } = require('./harness');
    const connection = await new Connection(instance.port).open();
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await connection.request('GET', '/api/hello'));
    assert.deepEqual(replies.map((reply) => reply.headers.connection), ['keep-alive', 'keep-alive', 'close']);
    await new Promise((resolve) => (connection.closed ? resolve() : connection.socket.once('close', resolve)));
    assert.equal((await instance.stop()).code, 0);
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});
