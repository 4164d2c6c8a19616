import { Worker, type WorkerOptions } from 'node:worker_threads';
import { Subject, type Observable } from 'rxjs';
import type { SpawnOptions } from 'node:child_process';
import { releaseControl, wrapControl, type Remote } from './control.js';
import type { IdleWorker, IdleWorkers } from './idle-workers.js';
import { ProcessActor } from './process-actor.js';

export type { ActorControl, ActorEvent } from './actor-types.js';
import type { ActorControl, ActorEvent } from './actor-types.js';

/**
 * An actor on a worker thread, seen from the thread that started it: its comlink control proxy and
 * whether it is alive. A death that `stop()` did not ask for is reported on the events stream.
 * The worker is new, or one an earlier owner retired into IdleWorkers (it starts where that
 * owner's actor left off: its `stop()` has run, it holds nothing of that owner's).
 */
export class WorkerActor<C extends ActorControl> {
  readonly worker: Worker;
  readonly control: Remote<C>;
  private stopping = false;
  private exited = false;
  private retired = false;
  readonly exit: Promise<number>;
  private readonly onError: (e: unknown) => void;
  private readonly onExit: (code: number) => void;

  constructor(readonly name: string, from: URL | IdleWorker<C>, options: WorkerOptions, private readonly events: Subject<ActorEvent>) {
    const reused = !(from instanceof URL);
    this.worker = reused ? from.worker : new Worker(from, options);
    this.control = reused ? from.control : wrapControl<C>(this.worker);
    let lastError = '';
    this.onError = (e) => { lastError = e instanceof Error ? e.message : String(e); };
    let resolveExit!: (code: number) => void;
    this.exit = new Promise((resolve) => { resolveExit = resolve; });
    this.onExit = (code) => {
      this.exited = true;
      if (this.stopping) events.next({ type: 'stopped', actor: name });
      else events.next({ type: 'died', actor: name, error: lastError || `exited with code ${code}`, exitCode: code });
      resolveExit(code);
    };
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
    if (reused) queueMicrotask(() => events.next({ type: 'started', actor: name }));
    else this.worker.once('online', () => events.next({ type: 'started', actor: name }));
  }

  get alive(): boolean { return !this.exited && !this.retired; }

  /** Asks the actor to stop; terminates it if it has not exited within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited || this.retired) return;
    this.stopping = true;
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    try {
      await Promise.race([this.control.stop().catch(() => undefined), this.exit]);
      await this.worker.terminate();
    } finally {
      clearTimeout(timer);
      releaseControl(this.control);
    }
    await this.exit;
  }

  /**
   * Stops the actor's work and hands its still-running worker to `idle` for a later owner, if
   * `stop` (the actor's own) answers `true` within `graceMs`: it says all it held is released. Any
   * other answer, an error or silence terminates the worker as `stop()` does.
   */
  async retire(idle: IdleWorkers<C>, kind: string, stop: () => Promise<boolean>, graceMs = 2000): Promise<void> {
    if (this.exited || this.retired) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); });
    const clean = await Promise.race([stop().catch(() => false), late, this.exit.then(() => false)]).finally(() => clearTimeout(timer));
    if (!clean || this.exited) { await this.stop(0); return; }
    this.retired = true;
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
    this.events.next({ type: 'stopped', actor: this.name });
    idle.keep({ worker: this.worker, control: this.control }, kind);
  }
}

/** Owns a set of actors and their event stream; stopping it stops them all. */
export class Supervisor {
  private readonly subject = new Subject<ActorEvent>();
  private readonly actors = new Set<{ stop(): Promise<void>; readonly exit: Promise<number> }>();
  readonly events: Observable<ActorEvent> = this.subject.asObservable();

  /**
   * Starts an actor on a worker thread: a new worker on `script`, or an idle one taken from
   * `idle` (one of the same `kind` if any waits: IdleWorkers).
   */
  spawn<C extends ActorControl>(name: string, script: URL, options: WorkerOptions = {}, idle?: { from: IdleWorkers<C>; kind: string }): WorkerActor<C> {
    const actor = new WorkerActor<C>(name, idle?.from.take(idle.kind) ?? script, options, this.subject);
    this.track(actor);
    return actor;
  }

  /** Lets an actor's worker go to `idle` (WorkerActor.retire); it is no longer this supervisor's. */
  async retire<C extends ActorControl>(actor: WorkerActor<C>, idle: { from: IdleWorkers<C>; kind: string }, stop: () => Promise<boolean>): Promise<void> {
    this.actors.delete(actor);
    await actor.retire(idle.from, idle.kind, stop);
  }

  /** Starts an actor in a child process (`command args`, with an IPC channel for its control). */
  spawnProcess<C extends ActorControl>(name: string, command: string, args: readonly string[], options: SpawnOptions): ProcessActor<C> {
    const actor = new ProcessActor<C>(name, command, args, options, this.subject);
    this.track(actor);
    return actor;
  }

  private track(actor: { stop(): Promise<void>; readonly exit: Promise<number> }): void {
    this.actors.add(actor);
    void actor.exit.then(() => this.actors.delete(actor));
  }

  get running(): number { return this.actors.size; }

  async stopAll(): Promise<void> {
    await Promise.all([...this.actors].map((a) => a.stop()));
    this.subject.complete();
  }
}
