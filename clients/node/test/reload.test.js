// reload.test.js: Node workers through rolling reloads (SIGHUP, each slot
// replaced) and a binary upgrade (SIGUSR2, a new coordinator and new
// workers) under load, in both balancing modes: tools/reload_load.py keeps
// opening new connections and sending on keep-alive ones, every response
// checked: 0 failed requests, 0 resets.
'use strict';

const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { test } = require('node:test');
const { Instance, eventually, APP, NODE } = require('./harness');

const SOURCE = process.env.CORRAL_SOURCE_DIR || path.join(__dirname, '..', '..', '..');
const RELOADS = Number(process.env.RELOADS || 5);

function yaml(balancing, mark) {
  return `server: { host: 127.0.0.1, port: 0, balancing: ${balancing} }\n` +
    'path: { data: ./data }\npid: { file: ./corral.pid }\n' +
    'logging: { root: { level: info } }\n' +
    'node:\n  shutdown_timeout: 5s\n  status: { interval: 100ms }\n' +
    '  reload: { parallel: 1, ready_timeout: 20s }\n' +
    `  workers: { count: 2, command: [${NODE}, ${APP}], env: { RELOAD_MARK: "${mark}" } }\n`;
}

function startLoad(port) {
  const load = spawn('python3', [path.join(SOURCE, 'tools', 'reload_load.py'), String(port), '2', '2'],
                     { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: load.stdout });
  const results = [];
  const next = () => new Promise((resolve) => {
    if (results.length) resolve(results.shift());
    else lines.once('line', resolve);
  });
  return { process: load, next };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const balancing of ['shared', 'reuseport']) {
  test(`${balancing}: ${RELOADS} rolling reloads and an upgrade under load, 0 failed requests`, async () => {
    const instance = new Instance(yaml(balancing, 0)).start();
    let load = null;
    let upgradedPid = 0;
    try {
      await instance.ready();
      load = startLoad(instance.port);
      assert.equal(await load.next(), 'started');
      for (let reload = 1; reload <= RELOADS; reload++) {
        const temporary = `${instance.config}.new`;
        fs.writeFileSync(temporary, yaml(balancing, reload));
        fs.renameSync(temporary, instance.config);
        const from = instance.output.length;
        instance.signal('SIGHUP');
        await instance.awaitOutput(/reload: applied in/, 60000, from);
      }
      // the binary upgrade: a new coordinator, new workers, the old one leaves
      const oldPid = instance.process.pid;
      const from = instance.output.length;
      instance.signal('SIGUSR2');
      await instance.awaitOutput(/ready: 2 workers serving/, 60000, from);
      await instance.exitPromise;
      upgradedPid = Number(fs.readFileSync(path.join(instance.dir, 'corral.pid'), 'utf8').trim());
      assert.notEqual(upgradedPid, oldPid);
      await new Promise((resolve) => setTimeout(resolve, 500));     // load on the new one
      load.process.kill('SIGTERM');
      const result = JSON.parse(await load.next());
      console.log(`[${balancing}] ${RELOADS} reloads + 1 upgrade under load: ${JSON.stringify(result)}`);
      assert.ok(result.ok > 100, `${result.ok} requests`);
      assert.equal(result.failed, 0, JSON.stringify(result.failures));
      assert.equal(result.resets, 0);
      assert.doesNotMatch(instance.output, /worker-\d \(pid \d+\) (crashed|exited with status [1-9])/);
    } finally {
      if (load) load.process.kill('SIGTERM');
      if (upgradedPid && alive(upgradedPid)) {
        process.kill(upgradedPid, 'SIGTERM');
        await eventually(() => !alive(upgradedPid), 20000, 'the upgraded coordinator stops');
      }
      await instance.stop();
      instance.cleanup();
    }
  });
}
