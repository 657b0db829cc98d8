// proto.js: the corral.v1 messages (proto/corral/v1/corral.proto, as
// reflected in corral.proto.json by scripts/gen-proto.js) and the
// Envelope every frame is. 64-bit fields are plain numbers: every count
// and time the protocol carries fits in 2^53.
'use strict';

const protobuf = require('protobufjs/minimal');
const { Root } = require('protobufjs');

protobuf.util.Long = undefined;
protobuf.configure();

const PROTOCOL = 1;
const root = Root.fromJSON(require('./corral.proto.json'));
const Envelope = root.lookupType('corral.v1.Envelope');
const LEVELS = { all: 0, trace: 1, debug: 2, info: 3, warn: 4, error: 5, fatal: 6, off: 7 };
const STATUS_LEVELS = { available: 0, degraded: 1, unavailable: 2, critical: 3 };

// One Envelope from its body: encode('hello', {workerId, ...}).
function encode(body, value) {
  return Envelope.encode(Envelope.fromObject({ protocol: PROTOCOL, [body]: value })).finish();
}

// The Envelope in a frame, or null when the frame is not one.
function decode(frame) {
  try {
    return Envelope.decode(frame);
  } catch {
    return null;
  }
}

module.exports = { PROTOCOL, LEVELS, STATUS_LEVELS, root, Envelope, encode, decode };
