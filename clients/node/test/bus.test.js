// bus.test.js: broadcasts between Node workers (and beside a C worker):
// persist reaches a worker started after the broadcast (its snapshot) and
// a handler registered later; sendToSelf is honoured both ways; handlers
// are isolated per plugin and type, and one that throws stops no other.
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { Instance, Connection, eventually, nodeType } = require('./harness');

// one keep-alive connection held by each worker, by name
async function connectionsByWorker(port, names) {
  const byWorker = new Map();
  const spare = [];
  for (let tries = 0; tries < 64 && byWorker.size < names.length; tries++) {
    const connection = await new Connection(port).open();
    const reply = await connection.request('GET', '/node');
    if (names.includes(reply.worker) && !byWorker.has(reply.worker)) byWorker.set(reply.worker, connection);
    else spare.push(connection);
  }
  for (const connection of spare) connection.close();
  assert.equal(byWorker.size, names.length, `connections to ${names}`);
  return byWorker;
}

async function heard(connection, plugin, type) {
  return (await connection.request('GET', `/heard?plugin=${plugin}&type=${type}`)).json
    .map((entry) => entry.payload.text);
}

test('broadcast: persist, sendToSelf, late handlers and workers, isolation', async () => {
  const instance = Instance.clustered('    c: { count: 1 }\n' + nodeType('js', 2)).start();
  let connections;
  try {
    await instance.ready();
    connections = await connectionsByWorker(instance.port, ['js-1', 'js-2']);
    const a = connections.get('js-1');
    const b = connections.get('js-2');

    // without sendToSelf: the others only; with it: the sender too
    await a.request('POST', '/broadcast?plugin=alpha&type=persisted&text=one&persist=1');
    await a.request('POST', '/broadcast?plugin=alpha&type=persisted&text=two&self=1');
    await eventually(async () => (await heard(a, 'alpha', 'persisted')).includes('two'), 10000, 'js-1 hears its own "two"');
    assert.deepEqual(await heard(a, 'alpha', 'persisted'), ['two'], 'js-1 skipped its own "one"');
    await eventually(async () => (await heard(b, 'alpha', 'persisted')).length === 2, 10000, 'js-2 hears both');
    assert.deepEqual(await heard(b, 'alpha', 'persisted'), ['one', 'two']);

    // isolated: alpha/say's first handler throws, the second still gets it;
    // beta's handler of the same type never sees alpha's messages
    await a.request('POST', '/broadcast?plugin=alpha&type=say&text=hello&self=1');
    await eventually(async () => (await heard(a, 'alpha', 'say')).includes('hello'), 10000, 'alpha/say after a throwing handler');
    await a.request('POST', '/broadcast?plugin=beta&type=say&text=bonjour&self=1');
    await eventually(async () => (await heard(b, 'beta', 'say')).includes('bonjour'), 10000, 'beta/say');
    assert.deepEqual(await heard(b, 'beta', 'say'), ['bonjour']);
    assert.deepEqual(await heard(b, 'alpha', 'say'), ['hello']);
    await instance.awaitOutput(/handler of alpha\/say failed: a handler that throws/, 10000);

    // a handler registered later starts with the last persisted message of its type
    await a.request('POST', '/broadcast?plugin=alpha&type=late&text=kept&persist=1');
    await eventually(async () => {
      await b.request('POST', '/listen?plugin=alpha&type=late');
      return (await heard(b, 'alpha', 'late')).includes('kept');
    }, 10000, 'a late handler gets the persisted message');

    // a worker started after the broadcast gets it from its snapshot
    const oldPid = (await b.request('GET', '/node')).json.pid;
    const before = instance.count('js-2 \\(pid \\d+\\) is ready|js-2.*ready');
    b.close();
    connections.delete('js-2');
    process.kill(oldPid, 'SIGKILL');
    await eventually(async () => {
      const fresh = await connectionsByWorker(instance.port, ['js-2']).catch(() => null);
      if (!fresh) return false;
      const connection = fresh.get('js-2');
      const node = (await connection.request('GET', '/node')).json;
      const got = node.pid !== oldPid && await heard(connection, 'alpha', 'persisted');
      connection.close();
      return got && got.length === 1 && got[0] === 'one' && got;
    }, 20000, 'the replacement of js-2 hears the persisted "one"');
    assert.ok(instance.count('js-2') > before);
  } finally {
    for (const connection of (connections || new Map()).values()) connection.close();
    await instance.stop();
    instance.cleanup();
  }
});
