import { Worker, type WorkerOptions } from 'node:worker_threads';
import { Subject, type Observable } from 'rxjs';
import { releaseControl, wrapControl, type Remote } from './control.js';

/** Every actor's life, as events on its supervisor's stream. */
export type ActorEvent =
  | { readonly type: 'started'; readonly actor: string }
  | { readonly type: 'stopped'; readonly actor: string }
  | { readonly type: 'died'; readonly actor: string; readonly error: string; readonly exitCode: number };

/** The control surface every actor exposes over comlink. */
export interface ActorControl {
  stats(): unknown;
  stop(): Promise<void>;
}

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
  private readonly actors = new Set<WorkerActor<ActorControl>>();
  readonly events: Observable<ActorEvent> = this.subject.asObservable();

  spawn<C extends ActorControl>(name: string, script: URL, options: WorkerOptions = {}): WorkerActor<C> {
    const actor = new WorkerActor<C>(name, script, options, this.subject);
    this.actors.add(actor as unknown as WorkerActor<ActorControl>);
    void actor.exit.then(() => this.actors.delete(actor as unknown as WorkerActor<ActorControl>));
    return actor;
  }

  get running(): number { return this.actors.size; }

  async stopAll(): Promise<void> {
    await Promise.all([...this.actors].map((a) => a.stop()));
    this.subject.complete();
  }
}
