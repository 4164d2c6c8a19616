import type { Worker } from 'node:worker_threads';
import { releaseControl, type Remote } from './control.js';

/** A worker between two owners, with the control proxy already bound to it. */
export interface IdleWorker<C> {
  readonly worker: Worker;
  readonly control: Remote<C>;
}

/**
 * Workers of one script that finished serving one owner cleanly and wait for the next. What they
 * keep is what a new worker lacks: loaded modules and the JIT's optimized code. A fresh Sentry
 * spends more CPU compiling its hot paths during its first workload (TurboFan, on background
 * threads that take a core from the spinning ring pair) than serving it (docs/ARCHITECTURE.md).
 *
 * Idle workers are unref'd (they never keep the process alive) and terminated after `idleMs`.
 */
export class IdleWorkers<C> {
  private readonly idle: { w: IdleWorker<C>; timer: NodeJS.Timeout; onExit: () => void }[] = [];

  constructor(private readonly max: number, private readonly idleMs: number) {}

  get size(): number { return this.idle.length; }

  /** The most recently kept worker (the warmest), ref'd again; undefined if none waits. */
  take(): IdleWorker<C> | undefined {
    const e = this.idle.pop();
    if (e === undefined) return undefined;
    clearTimeout(e.timer);
    e.w.worker.off('exit', e.onExit);
    e.w.worker.ref();
    return e.w;
  }

  /** Keeps `w` for the next owner, or terminates it when the pool is full. */
  keep(w: IdleWorker<C>): void {
    if (this.idle.length >= this.max) { discard(w); return; }
    const entry = {
      w,
      timer: setTimeout(() => { this.remove(entry); discard(w); }, this.idleMs).unref(),
      onExit: () => { this.remove(entry); },
    };
    w.worker.once('exit', entry.onExit);
    w.worker.unref();
    this.idle.push(entry);
  }

  /** Terminates every idle worker. */
  async drain(): Promise<void> {
    const all = this.idle.splice(0);
    await Promise.all(all.map((e) => { clearTimeout(e.timer); e.w.worker.off('exit', e.onExit); return discard(e.w); }));
  }

  private remove(entry: (typeof this.idle)[number]): void {
    const i = this.idle.indexOf(entry);
    if (i >= 0) this.idle.splice(i, 1);
  }
}

async function discard<C>(w: IdleWorker<C>): Promise<void> {
  releaseControl(w.control);
  await w.worker.terminate();
}
