// outbox.js: frames waiting for a zeromq socket. zeromq 6 takes one send
// at a time (a second send while one is pending throws), so each socket
// gets an outbox that sends in order and never blocks the caller: past
// `limit` frames waiting, push() refuses and the caller counts the loss.
'use strict';

class Outbox {
  constructor(socket, limit) {
    this.socket = socket;
    this.limit = limit;
    this.queue = [];
    this.sending = false;
    this.failed = 0;
    this.idleWaiters = [];
  }

  // true when queued; false when full (nothing sent)
  push(frames) {
    if (this.queue.length >= this.limit) return false;
    this.queue.push(frames);
    if (!this.sending) this.pump();
    return true;
  }

  async pump() {
    this.sending = true;
    while (this.queue.length > 0) {
      const frames = this.queue.shift();
      try {
        await this.socket.send(frames);
      } catch {
        this.failed++;          // closed under us: the process is leaving
      }
    }
    this.sending = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  // resolves once everything queued is in zeromq's hands
  idle() {
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

module.exports = { Outbox };
