// bus.js: broadcasts between workers (docs/worker-protocol.md, section 3).
// A SUB on bus-out subscribed to `B`, then to this process's private
// topic (the coordinator answers that one with a Snapshot of the
// persisted store); a PUSH on bus-in. Delivery is in seq order, each
// message once: the snapshot's messages, then live ones above its
// upto_seq; a gap asks for a fresh snapshot. Handlers are per plugin and
// type (a plugin sees only its own messages, RFC 5.2) and isolated: one
// that throws or rejects is logged and the others still run. A handler
// registered later starts with the last persisted message of its type.
'use strict';

const { decode, encode } = require('./proto');
const { Outbox } = require('./outbox');

const OUTBOX_MAX = 10000;

class Bus {
  // onError(error, plugin, type): a handler failed
  constructor({ zmq, config, workerId, onError }) {
    this.workerId = workerId;
    this.onError = onError;
    this.topic = `S/w${String(workerId % 1e7).padStart(7, '0')}` +
                 `g${String(Math.max(config.generation || 1, 1) % 1e7).padStart(7, '0')}`;
    this.handlers = new Map();      // "plugin\x1ftype" -> Set of subscriptions
    this.persisted = new Map();     // "plugin\x1ftype" -> the last persisted message
    this.lastSeq = 0;               // the last delivered
    this.epoch = 0;
    this.synced = false;            // a whole snapshot arrived
    this.live = false;              // taking live messages (false while a snapshot is due)
    this.gaps = 0;
    this.dropped = 0;               // broadcasts bus-in could not take
    this.syncWaiters = [];
    this.clustered = Boolean(config.busOutEndpoint);
    if (!this.clustered) return;
    this.in = new zmq.Push({ sendHighWaterMark: 1000000, linger: 2000 });
    this.in.connect(config.busInEndpoint);
    this.outbox = new Outbox(this.in, OUTBOX_MAX);
    this.out = new zmq.Subscriber({ receiveHighWaterMark: 1000000,
                                    maxMessageSize: 4 * 1024 * 1024, linger: 0 });
    this.out.connect(config.busOutEndpoint);
    this.out.subscribe('B');        // in this order: B is live when the snapshot is sent
    this.out.subscribe(this.topic);
    this.retry = setInterval(() => this.synced || this.askSnapshot(), 1000);
    this.retry.unref();
    this.receive();
  }

  async receive() {
    try {
      for await (const [topic, frame] of this.out) this.take(topic.toString('latin1'), frame);
    } catch {
      // closed: the process is leaving
    }
  }

  askSnapshot() {
    this.live = false;
    this.out.unsubscribe(this.topic);
    this.out.subscribe(this.topic);
  }

  take(topic, frame) {
    const envelope = decode(frame);
    if (!envelope) return;
    if (topic === this.topic && envelope.body === 'snapshot') {
      const snapshot = envelope.snapshot;
      for (const broadcast of snapshot.messages)
        if (broadcast.seq > this.lastSeq || broadcast.epoch !== this.epoch) this.deliver(broadcast);
      if (!snapshot.partial) {
        this.epoch = snapshot.epoch;
        this.lastSeq = snapshot.uptoSeq;
        this.live = true;
        if (!this.synced) {
          this.synced = true;
          clearInterval(this.retry);
          for (const resolve of this.syncWaiters.splice(0)) resolve();
        }
      }
    } else if (topic === 'B' && envelope.body === 'broadcast' && this.live) {
      const broadcast = envelope.broadcast;
      if (broadcast.epoch !== this.epoch || broadcast.seq <= this.lastSeq) return;
      if (broadcast.seq > this.lastSeq + 1) {
        this.gaps++;
        this.askSnapshot();
        return;
      }
      this.lastSeq = broadcast.seq;
      this.deliver(broadcast);
    }
  }

  // resolves once the first snapshot is in: every broadcast from then on reaches us
  whenSynced() {
    if (this.synced || !this.clustered) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  deliver(broadcast) {
    const fromSelf = broadcast.sender === this.topic;
    const message = {
      plugin: broadcast.plugin, type: broadcast.type, seq: broadcast.seq,
      senderWorkerId: broadcast.senderWorkerId, persist: broadcast.persist,
      payload: parsePayload(broadcast.payload), forSelf: !fromSelf || broadcast.sendToSelf,
    };
    const key = `${message.plugin}\x1f${message.type}`;
    if (message.persist) this.persisted.set(key, message);
    if (!message.forSelf) return;
    for (const subscription of this.handlers.get(key) || [])
      if (message.seq >= subscription.minSeq) this.call(subscription, message);
  }

  call(subscription, message) {
    try {
      const result = subscription.handler(message.payload, message);
      if (result && typeof result.catch === 'function')
        result.catch((error) => this.onError(error, message.plugin, message.type));
    } catch (error) {
      this.onError(error, message.plugin, message.type);
    }
  }

  // a handler of `plugin`'s messages of `type`; returns the unsubscribe function
  on(plugin, type, handler) {
    const key = `${plugin}\x1f${type}`;
    if (!this.handlers.has(key)) this.handlers.set(key, new Set());
    const subscription = { handler, minSeq: this.lastSeq + 1 };
    this.handlers.get(key).add(subscription);
    const start = this.persisted.get(key);
    if (start && start.forSelf) {
      // from the loop, before anything newer reaches it (minSeq)
      setImmediate(() => {
        if (this.handlers.get(key)?.has(subscription) && subscription.minSeq > start.seq)
          this.call(subscription, start);
      });
    }
    return () => this.handlers.get(key)?.delete(subscription);
  }

  // false when bus-in could not take it (counted)
  broadcast(plugin, type, payload, { persist = false, sendToSelf = false } = {}) {
    if (!plugin || !type) throw new TypeError('broadcast: a plugin and a type');
    const bytes = Buffer.isBuffer(payload) ? payload
      : Buffer.from(payload === undefined ? '' : JSON.stringify(payload));
    if (!this.clustered) {
      // classic (not under corral): only to this process's own handlers
      if (sendToSelf) {
        const seq = ++this.lastSeq;
        setImmediate(() => this.deliver({ plugin, type, payload: bytes, seq, persist,
                                          sendToSelf, sender: '', senderWorkerId: this.workerId }));
      }
      return true;
    }
    const frame = encode('broadcast', { plugin, type, payload: bytes, persist, sendToSelf,
                                        sender: this.topic, senderWorkerId: this.workerId });
    if (this.outbox.push(frame)) return true;
    this.dropped++;
    return false;
  }

  async close() {
    clearInterval(this.retry);
    if (!this.clustered) return;
    await this.outbox.idle();
    this.in.close();
    this.out.close();
  }
}

// by convention JSON text; anything else is given as a Buffer
function parsePayload(bytes) {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return Buffer.from(bytes);
  }
}

module.exports = { Bus };
