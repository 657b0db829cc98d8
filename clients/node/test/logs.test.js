// logs.test.js: records from Node workers land in the central log with
// the worker's name, level and logger, in order, none lost at a graceful
// stop (the worker flushes and its Bye names its last record); console
// and a pino-shaped JSON stream go in too.
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { Instance, Connection, nodeType } = require('./harness');

const COUNT = 5000;

test('logs: every record once, in order, with the worker name, even at the stop', async () => {
  const instance = Instance.clustered(nodeType('js', 2), {
    logging: 'logging:\n' +
             '  appenders:\n' +
             '    file: { type: file, fileName: ./out.log, layout: { type: pattern, pattern: "%level|%worker|%logger|%message" } }\n' +
             '    console: { type: console }\n' +
             '  root: { appenders: [file], level: info }\n' +
             '  loggers: [ { name: coordinator, appenders: [file, console] } ]\n',
  }).start();
  try {
    await instance.ready();
    const connections = [];
    const byWorker = new Map();
    for (let i = 0; i < 8 && byWorker.size < 2; i++) {
      const connection = await new Connection(instance.port).open();
      connections.push(connection);
      const reply = await connection.request('GET', '/node');
      if (!byWorker.has(reply.worker)) byWorker.set(reply.worker, connection);
    }
    const one = byWorker.get('js-1');
    await one.request('POST', '/console?text=hi');
    await one.request('POST', '/jsonlog?text=from%20pino');
    // many records from both, then the stop at once: nothing may be lost
    await Promise.all([...byWorker].map(([name, connection]) =>
      connection.request('POST', `/log?count=${COUNT}&prefix=${name}`)));
    for (const connection of connections) connection.close();
    assert.equal((await instance.stop()).code, 0, instance.output);
    const lines = instance.file('out.log').split('\n').map((line) => line.replace(/^(\w+) *\|/, '$1|'));
    for (const name of ['js-1', 'js-2']) {
      const mine = lines.filter((line) => line.startsWith(`INFO|${name}|test.app|${name} `));
      assert.equal(mine.length, COUNT, `${name}: ${mine.length} of ${COUNT} records`);
      mine.forEach((line, i) => assert.equal(line, `INFO|${name}|test.app|${name} ${i + 1}`));
    }
    assert.ok(lines.some((line) => /^WARN\|js-1\|console\|console says hi$/.test(line)), 'console.warn');
    assert.ok(lines.some((line) => /^WARN\|js-1\|pinoapp\|from pino/.test(line)), 'the pino line');
    assert.match(instance.output, /logs: received \d+, dropped 0,/);
    assert.doesNotMatch(instance.output, /js-\d: \d+ received, [1-9]/);
  } finally {
    await instance.stop();
    instance.cleanup();
  }
});
