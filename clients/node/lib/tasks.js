// tasks.js: named tasks on a schedule that run on the main worker only
// (docs/node-service.md, "Tasks"): every worker registers the same ones,
// the one holding the main role runs them, so a task runs once per period
// in the instance. A run still going when the next is due is skipped, so
// a task never runs twice at once in a process; when the role moves the
// old main stops scheduling at once (a run in progress finishes).
'use strict';

const LOGGER = 'tasks';

class Tasks {
  constructor({ isMain, log, broadcast }) {
    this.isMain = isMain;
    this.log = log;
    this.broadcast = broadcast;
    this.tasks = new Map();
  }

  register(name, intervalMs, fn, { plugin = 'tasks' } = {}) {
    if (this.tasks.has(name)) throw new Error(`task ${name}: registered already`);
    if (!(intervalMs > 0)) throw new TypeError(`task ${name}: an interval in ms above 0`);
    const task = { name, intervalMs, fn, plugin, runs: 0, running: false, timer: null };
    this.tasks.set(name, task);
    if (this.isMain()) this.schedule(task);
    return () => {
      clearInterval(task.timer);
      this.tasks.delete(name);
    };
  }

  schedule(task) {
    if (!task.timer) task.timer = setInterval(() => this.run(task), task.intervalMs);
  }

  async run(task) {
    if (task.running || !this.isMain()) return;
    task.running = true;
    const run = ++task.runs;
    let ok = true;
    try {
      await task.fn({ name: task.name, run });
    } catch (error) {
      ok = false;
      this.log(4, LOGGER, `task ${task.name}: run ${run} failed: ${error && error.message}`, undefined, error);
    }
    task.running = false;
    this.log(2, LOGGER, `task ${task.name}: run ${run} ${ok ? 'done' : 'failed'}`);
    this.broadcast(task.plugin, 'task-run', { task: task.name, run, ok });
  }

  setMain(main) {
    for (const task of this.tasks.values()) {
      if (main) this.schedule(task);
      else {
        clearInterval(task.timer);
        task.timer = null;
      }
    }
  }
}

module.exports = { Tasks };
