import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Subject } from 'rxjs';
import * as Comlink from 'comlink';
import type { ActorControl, ActorEvent } from './actor-types.js';

/** A comlink endpoint over a child process's IPC channel (structured clone: spawn it 'advanced'). */
type Listener = Parameters<Comlink.Endpoint['addEventListener']>[1];
interface IpcPeer {
  send?(m: never): boolean;
  on(ev: 'message', fn: (m: unknown) => void): unknown;
  off(ev: 'message', fn: (m: unknown) => void): unknown;
}

function ipcEndpoint(proc: IpcPeer): Comlink.Endpoint {
  const listeners = new Map<Listener, (m: unknown) => void>();
  return {
    postMessage: (m: unknown) => { (proc.send as ((m: unknown) => boolean) | undefined)?.call(proc, m); },
    addEventListener: (_type: string, h: Listener) => {
      const fn = (data: unknown): void => {
        const ev = { data } as MessageEvent;
        if (typeof h === 'function') h(ev); else h.handleEvent(ev);
      };
      listeners.set(h, fn);
      proc.on('message', fn);
    },
    removeEventListener: (_type: string, h: Listener) => {
      const fn = listeners.get(h);
      if (fn) { proc.off('message', fn); listeners.delete(h); }
    },
  };
}

/** Serves `api` to the parent over this process's IPC channel (inside the child). */
export function exposeProcessControl(api: object): void {
  if (!process.send) throw new Error('exposeProcessControl must run in a child process with an IPC channel');
  Comlink.expose(api, ipcEndpoint(process));
}

/**
 * An actor in a child process, seen from its parent: the comlink control proxy over IPC, and its
 * death as an event. The process counterpart of WorkerActor, for actors that need a process of
 * their own (the host actor changes its mount namespace).
 */
export class ProcessActor<C extends ActorControl> {
  readonly child: ChildProcess;
  readonly control: Comlink.Remote<C>;
  readonly exit: Promise<number>;
  /** What the child wrote on stderr, for error messages (bounded). */
  stderr = '';
  private stopping = false;
  private exited = false;

  constructor(readonly name: string, command: string, args: readonly string[], options: SpawnOptions, events: Subject<ActorEvent>) {
    this.child = spawn(command, args, { ...options, serialization: 'advanced' });
    this.child.stderr?.on('data', (d: Buffer) => { if (this.stderr.length < 8192) this.stderr += d.toString(); });
    this.control = Comlink.wrap<C>(ipcEndpoint(this.child));
    this.exit = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exited) return;
        this.exited = true;
        const status = code ?? 128;
        if (this.stopping) events.next({ type: 'stopped', actor: name });
        else events.next({ type: 'died', actor: name, error: this.stderr.trim() || `exited with ${signal ?? `code ${code}`}`, exitCode: status });
        resolve(status);
      };
      this.child.on('exit', done);
      this.child.on('error', (e) => { this.stderr += e.message; done(127, null); });
    });
    this.child.once('spawn', () => events.next({ type: 'started', actor: name }));
  }

  get alive(): boolean { return !this.exited; }

  /** Asks the actor to stop; kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    this.stopping = true;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      await Promise.race([this.control.stop().catch(() => undefined), this.exit]);
      if (!this.exited) this.child.kill('SIGTERM');
      await this.exit;
    } finally {
      clearTimeout(timer);
      this.control[Comlink.releaseProxy]();
      this.child.disconnect?.();
    }
  }
}
