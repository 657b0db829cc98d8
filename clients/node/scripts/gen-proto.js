#!/usr/bin/env node
// gen-proto.js: lib/corral.proto.json, the reflection of
// proto/corral/v1/corral.proto that the package loads (protobufjs's JSON
// form: no .proto parser at run time, no file outside the package).
//   node scripts/gen-proto.js           write it
//   node scripts/gen-proto.js --check   exit 1 when it does not match the .proto
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const protobuf = require('protobufjs');

const PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'corral', 'v1', 'corral.proto');
const OUTPUT = path.join(__dirname, '..', 'lib', 'corral.proto.json');

function generate() {
  const root = protobuf.loadSync(PROTO);
  return JSON.stringify(root.toJSON({ keepComments: false }), null, 1) + '\n';
}

if (require.main === module) {
  const text = generate();
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
    if (current !== text) {
      console.error(`${OUTPUT} does not match ${PROTO}: run npm run proto`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUTPUT, text);
  }
}
module.exports = { generate, OUTPUT, PROTO };
