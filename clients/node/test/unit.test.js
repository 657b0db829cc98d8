// unit.test.js: the package's pieces without an instance: the generated
// reflection matches the .proto, levels per logger (nearest dotted
// parent, LogConfig updates), the stream that takes pino's and winston's
// JSON lines, console capture, and the Envelope round trip.
'use strict';

const assert = require('node:assert');
const { test } = require('node:test');
const { generate, OUTPUT } = require('../scripts/gen-proto');
const { LogPusher, Logger, logStream, captureConsole } = require('../lib/logs');
const { encode, decode } = require('../lib/proto');

test('lib/corral.proto.json matches proto/corral/v1/corral.proto', () => {
  assert.equal(require('node:fs').readFileSync(OUTPUT, 'utf8'), generate(),
               'run npm run proto in clients/node');
});

test('an Envelope round trip, 64-bit fields as numbers', () => {
  const envelope = decode(encode('bye', { workerId: 3, lastLogSeq: 2 ** 40, exitCode: 0 }));
  assert.equal(envelope.protocol, 1);
  assert.equal(envelope.body, 'bye');
  assert.equal(envelope.bye.lastLogSeq, 2 ** 40);
  assert.equal(decode(Buffer.from([0xff, 0xff, 0xff])), null);
});

test('levels: root, loggers by nearest dotted parent, LogConfig updates', () => {
  const pusher = new LogPusher({ logLevel: 'info', logging: {
    root: { level: 3, hasLevel: true },
    loggers: [{ name: 'app', level: 5, hasLevel: true }, { name: 'app.db', level: 2, hasLevel: true }],
  } });
  assert.equal(pusher.enabled(3, 'other'), true);
  assert.equal(pusher.enabled(2, 'other'), false);
  assert.equal(pusher.enabled(4, 'app.http'), false);
  assert.equal(pusher.enabled(5, 'app.http'), true);
  assert.equal(pusher.enabled(2, 'app.db.pool'), true);
  pusher.setLevels('info', { root: { level: 6, hasLevel: true }, loggers: [] });
  assert.equal(pusher.enabled(5, 'app.http'), false);
  pusher.record(6, 'x', 'kept');
  pusher.record(5, 'x', 'filtered');
  assert.deepEqual(pusher.pending.map((r) => [r.seq, r.message]), [[1, 'kept']]);
});

test('logStream: pino and winston lines, plain lines; console capture', () => {
  const records = [];
  const sink = (...record) => records.push(record);
  const stream = logStream(sink, 'app');
  stream.write('{"level":50,"time":1,"pid":2,"hostname":"h","name":"db","msg":"down","err":{"message":"e","stack":"E: e"},"k":1}\n{"level":"warn","message":"w"}\n');
  stream.write('plain ');
  stream.end('line\n');
  assert.deepEqual(records[0], [5, 'db', 'down', { k: 1 }, 'E: e']);
  assert.deepEqual(records[1], [4, 'app', 'w', undefined, '']);
  assert.deepEqual(records[2], [3, 'app', 'plain line']);
  const restore = captureConsole(sink, 'console');
  try {
    console.error('n=%d', 5);
  } finally {
    restore();
  }
  assert.deepEqual(records[3], [5, 'console', 'n=5']);
  new Logger(sink, 'a').child('b').warn(new Error('boom'));
  assert.equal(records[4][1], 'a.b');
  assert.equal(records[4][2], 'boom');
  assert.match(String(records[4][4]), /Error: boom/);
});

test('request figures: cumulative response-time buckets, the interval restarts', () => {
  const { RequestFigures } = require('../lib/http');
  const figures = new RequestFigures();
  figures.add(200, 400);
  figures.add(200, 3000);
  figures.add(503, 20e6);
  const sample = figures.sample();
  assert.deepEqual(sample.responseTimeBuckets.slice(0, 4), [1, 1, 1, 2]);
  assert.equal(sample.responseTimeBuckets[13], 2);
  assert.equal(sample.responseTimeCount, 3);
  assert.deepEqual(sample.statusCodes, [{ code: 200, count: 2 }, { code: 503, count: 1 }]);
  assert.equal(sample.intervalMaxUs, 20e6);
  assert.equal(figures.sample().intervalCount, 0);
});
