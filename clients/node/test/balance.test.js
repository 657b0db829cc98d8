// balance.test.js: Node workers take handed-over connections (balancing
// `shared`) as evenly as the C worker (tests/integration/test_balance.c):
// 2 and 3 workers, 2, 4, 16 and 64 keep-alive connections opened at once,
// 10 fresh instances each: every worker holds connections when there are
// enough, and no two differ by more than one. The holder of a connection
// is the X-Corral-Worker of the answers on it.
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { Instance, Connection, APP, NODE } = require('./harness');

const TRIALS = Number(process.env.TRIALS || 10);
const COUNTS = [2, 4, 16, 64];

async function spreadAtOnce(instance, workers, connections, trial) {
  const opened = await Promise.all(Array.from({ length: connections },
                                              () => new Connection(instance.port).open()));
  try {
    const replies = await Promise.all(opened.map((connection) => connection.request('GET', '/api/hello')));
    const held = new Array(workers + 1).fill(0);
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      const worker = Number((reply.worker || '').replace('worker-', ''));
      assert.ok(worker >= 1 && worker <= workers, `held by ${reply.worker}`);
      held[worker]++;
    }
    const counts = held.slice(1);
    const spread = `trial ${trial}: ${connections} connections over ${workers} workers: ${counts.join(' ')}`;
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, spread);
    if (connections >= workers) assert.ok(Math.min(...counts) >= 1, spread);
    return counts;
  } finally {
    for (const connection of opened) connection.close();
  }
}

for (const workers of [2, 3]) {
  test(`${workers} Node workers: keep-alive connections opened at once spread within one`, async () => {
    for (const connections of COUNTS) {
      const seen = [];
      for (let trial = 1; trial <= TRIALS; trial++) {
        const instance = new Instance(
          'server: { host: 127.0.0.1, port: 0, balancing: shared }\n' +
          'path: { data: ./data }\npid: { file: ./corral.pid }\n' +
          `node: { workers: { count: ${workers}, command: [${NODE}, ${APP}] }, ` +
          'status: { interval: 100ms }, shutdown_timeout: 10s }\n' +
          'logging: { root: { level: warn }, loggers: [ { name: coordinator, level: info } ] }\n').start();
        try {
          await instance.ready();
          seen.push((await spreadAtOnce(instance, workers, connections, trial)).join('/'));
          assert.equal((await instance.stop()).code, 0, instance.output);
        } finally {
          await instance.stop();
          instance.cleanup();
        }
      }
      console.log(`${workers} workers, ${connections} connections at once: ${seen.join(', ')}`);
    }
  });
}
