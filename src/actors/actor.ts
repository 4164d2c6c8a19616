import { Worker, type WorkerOptions } from 'node:worker_threads';
import { Subject, type Observable } from 'rxjs';
import type { SpawnOptions } from 'node:child_process';
import { releaseControl, wrapControl, type Remote } from './control.js';
import { ProcessActor } from './process-actor.js';

export type { ActorControl, ActorEvent } from './actor-types.js';
import type { ActorControl, ActorEvent } from './actor-types.js';

/**
 * An actor on a worker thread, seen from the thread that started it: its comlink control proxy and
 * whether it is alive. A death that `stop()` did not ask for is reported on the events stream.
 */
export class WorkerActor<C extends ActorControl> {
  readonly worker: Worker;
  readonly control: Remote<C>;
  private stopping = false;
  private exited = false;
  readonly exit: Promise<number>;

  constructor(readonly name: string, script: URL, options: WorkerOptions, private readonly events: Subject<ActorEvent>) {
    this.worker = new Worker(script, options);
    this.control = wrapControl<C>(this.worker);
    let lastError = '';
    this.worker.on('error', (e) => { lastError = e instanceof Error ? e.message : String(e); });
    this.exit = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        this.exited = true;
        if (this.stopping) events.next({ type: 'stopped', actor: name });
        else events.next({ type: 'died', actor: name, error: lastError || `exited with code ${code}`, exitCode: code });
        resolve(code);
      });
    });
    this.worker.once('online', () => events.next({ type: 'started', actor: name }));
  }

  get alive(): boolean { return !this.exited; }

  /** Asks the actor to stop; terminates it if it has not exited within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited) return;
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
}

/** Owns a set of actors and their event stream; stopping it stops them all. */
export class Supervisor {
  private readonly subject = new Subject<ActorEvent>();
  private readonly actors = new Set<{ stop(): Promise<void>; readonly exit: Promise<number> }>();
  readonly events: Observable<ActorEvent> = this.subject.asObservable();

  spawn<C extends ActorControl>(name: string, script: URL, options: WorkerOptions = {}): WorkerActor<C> {
    const actor = new WorkerActor<C>(name, script, options, this.subject);
    this.track(actor);
    return actor;
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
