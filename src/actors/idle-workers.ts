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
 * Each is kept under a `kind`, what its last owner made it run (for a kernel: which filesystems):
 * code the JIT optimized for one kind deoptimizes on another (a memory-overlay fsstress run took
 * ~200 ms after memory runs only, ~330 ms when they alternated with filestore runs), so a taker
 * gets only its own kind, and a full pool drops its least recently kept worker.
 */
export class IdleWorkers<C> {
  private readonly idle: Entry<C>[] = [];

  constructor(private readonly max: number, private readonly idleMs: number) {}

  get size(): number { return this.idle.length; }

  /** The most recently kept worker of `kind`, ref'd again; undefined if none waits. */
  take(kind = ''): IdleWorker<C> | undefined {
    let i = this.idle.length - 1;
    while (i >= 0 && this.idle[i]!.kind !== kind) i--;
    if (i < 0) return undefined;
    const e = this.idle.splice(i, 1)[0]!;
    clearTimeout(e.timer);
    e.w.worker.off('exit', e.onExit);
    e.w.worker.ref();
    return e.w;
  }

  /** Keeps `w` for the next owner; a full pool terminates its least recently kept worker. */
  keep(w: IdleWorker<C>, kind = ''): void {
    if (this.max <= 0) { void discard(w); return; }
    if (this.idle.length >= this.max) void end(this.idle.shift()!);
    const entry: Entry<C> = {
      w,
      kind,
      timer: setTimeout(() => { this.remove(entry); void discard(w); }, this.idleMs).unref(),
      onExit: () => { this.remove(entry); },
    };
    w.worker.once('exit', entry.onExit);
    w.worker.unref();
    this.idle.push(entry);
  }

  /** Terminates every idle worker. */
  async drain(): Promise<void> {
    const all = this.idle.splice(0);
    await Promise.all(all.map(end));
  }

  private remove(entry: Entry<C>): void {
    const i = this.idle.indexOf(entry);
    if (i >= 0) this.idle.splice(i, 1);
  }
}

interface Entry<C> { w: IdleWorker<C>; kind: string; timer: NodeJS.Timeout; onExit: () => void }

/** Terminates an entry's worker, once its own timer and exit listener are gone. */
function end<C>(e: Entry<C>): Promise<void> {
  clearTimeout(e.timer);
  e.w.worker.off('exit', e.onExit);
  return discard(e.w);
}

async function discard<C>(w: IdleWorker<C>): Promise<void> {
  releaseControl(w.control);
  await w.worker.terminate();
}
