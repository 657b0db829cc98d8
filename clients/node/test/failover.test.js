// failover.test.js: kill -9 of Node workers. Only the killed worker's
// in-flight requests fail, the others' finish, new connections are served
// meanwhile, and a replacement becomes ready. When the main worker is the
// one killed, the main role moves to another Node worker, and the task
// registered through the package runs on the main only, never twice at once.
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { Instance, Connection, request, eventually, APP, NODE } = require('./harness');

const WORKERS = 3;

function start() {
  return new Instance(
    'server: { host: 127.0.0.1, port: 0 }\npath: { data: ./data }\npid: { file: ./corral.pid }\n' +
    `node: { workers: { count: ${WORKERS}, command: [${NODE}, ${APP}] }, status: { interval: 100ms }, ` +
    'shutdown_timeout: 10s, restart: { backoff: { initial: 100ms } } }\n' +
    'logging: { root: { level: info }, loggers: [ { name: coordinator, level: debug } ] }\n').start();
}

async function connectionsToAll(port) {
  const byWorker = new Map();
  const spare = [];
  for (let tries = 0; tries < 64 && byWorker.size < WORKERS; tries++) {
    const connection = await new Connection(port).open();
    const reply = await connection.request('GET', '/node');
    if (!byWorker.has(reply.worker)) byWorker.set(reply.worker, { connection, node: reply.json });
    else spare.push(connection);
  }
  for (const connection of spare) connection.close();
  assert.equal(byWorker.size, WORKERS);
  return byWorker;
}

// what every worker says of itself, on fresh connections
async function nodes(port) {
  const seen = new Map();
  for (let tries = 0; tries < 40 && seen.size < WORKERS; tries++) {
    const reply = await request(port, 'GET', '/node');
    seen.set(reply.worker, reply.json);
  }
  return seen;
}

test('kill -9 of a Node worker: only its in-flight requests fail; a replacement is ready', async () => {
  const instance = start();
  let byWorker = new Map();
  try {
    await instance.ready();
    byWorker = await connectionsToAll(instance.port);
    const victim = [...byWorker].find(([, w]) => !w.node.main);
    const [victimName, { node: victimNode }] = victim;
    const inFlight = [...byWorker].map(([name, w]) =>
      w.connection.request('GET', '/wait?ms=1500').then((reply) => ({ name, ok: reply.status === 200 }),
                                                         () => ({ name, ok: false })));
    await new Promise((resolve) => setTimeout(resolve, 300));    // the requests are in
    const readyBefore = instance.count(`${victimName} \\(pid \\d+\\) is ready`);
    process.kill(victimNode.pid, 'SIGKILL');
    // served meanwhile, on new connections
    for (let i = 0; i < 20; i++) assert.equal((await request(instance.port, 'GET', '/api/hello')).status, 200);
    const outcomes = await Promise.all(inFlight);
    for (const { name, ok } of outcomes) assert.equal(ok, name !== victimName, `${name}'s in-flight request`);
    await instance.awaitOutput(new RegExp(`${victimName} \\(pid (?!${victimNode.pid}\\b)\\d+\\) is ready`), 20000,
                               0);
    assert.ok(instance.count(`${victimName} \\(pid \\d+\\) is ready`) > readyBefore);
    const fresh = await eventually(async () => {
      const seen = await nodes(instance.port);
      return seen.size === WORKERS && seen.get(victimName).pid !== victimNode.pid && seen;
    }, 15000, 'the replacement serves');
    assert.equal(fresh.get(victimName).main, false);
  } finally {
    for (const { connection } of byWorker.values()) connection.close();
    await instance.stop();
    instance.cleanup();
  }
});

test('the main role moves when the main Node worker is killed; tasks run on the main only', async () => {
  const instance = start();
  try {
    await instance.ready();
    const before = await eventually(async () => {
      const seen = await nodes(instance.port);
      return seen.size === WORKERS && seen;
    }, 15000, 'every worker answers');
    const mains = [...before].filter(([, node]) => node.main);
    assert.equal(mains.length, 1, 'one main worker');
    const [oldName, oldMain] = mains[0];
    const runs = () => {
      try {
        return instance.file('data/tick.runs').trim().split('\n');
      } catch {
        return [];          // not written yet
      }
    };
    await eventually(() => runs().filter((line) => line.startsWith('end')).length >= 3, 10000, 'the task runs');
    process.kill(oldMain.pid, 'SIGKILL');
    const moved = await instance.awaitOutput(/(\S+) \(pid (\d+)\) is the main worker now/, 20000,
                                             instance.output.length);
    const newPid = Number(moved[2]);
    assert.notEqual(moved[1], oldName, 'the role went to another worker');
    assert.notEqual(newPid, oldMain.pid);
    await eventually(async () => {
      const seen = await nodes(instance.port);
      return seen.get(moved[1])?.main === true && [...seen.values()].filter((n) => n.main).length === 1;
    }, 15000, 'the new main says so, and it alone');
    await eventually(() => runs().filter((line) => line === `end ${newPid} ${line.split(' ')[2]}`).length >= 3,
                     10000, 'the task runs on the new main');
    // never two at once: each begin is followed by its own end, except the
    // run the kill interrupted; only the main runs it (the old one before
    // the kill, the new one after)
    const lines = runs();
    let switched = false;
    for (let i = 0; i < lines.length; i++) {
      const [what, pid] = lines[i].split(' ');
      if (Number(pid) === newPid) switched = true;
      assert.equal(Number(pid), switched ? newPid : oldMain.pid, `line ${i + 1}: ${lines[i]}`);
      if (what === 'begin') {
        const next = lines[i + 1];
        if (next === undefined) break;
        const [nextWhat, nextPid] = next.split(' ');
        assert.ok((nextWhat === 'end' && nextPid === pid)
                  || (Number(pid) === oldMain.pid && Number(nextPid) === newPid),
                  `line ${i + 1}: ${lines[i]} then ${next}`);
      }
    }
    assert.equal((await instance.stop()).code, 0, instance.output.slice(-3000));
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});
