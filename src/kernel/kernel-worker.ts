import type { MessagePort } from 'node:worker_threads';
import { exposeControl } from '../actors/control.js';
import type { KernelConfig, TaskSpec } from './kernel-config.js';
import { OutputPipe } from './output-pipe.js';
import { Sentry, type SentryStats } from './sentry.js';

/** The Sentry's figures, and how many sandboxes this kernel worker has booted (1: a new worker). */
export type KernelStats = SentryStats & { boots: number };

/**
 * The KernelActor: a worker running one sandbox's Sentry at a time. `boot` builds it, `stop` ends
 * it; a worker whose Sentry stopped cleanly may boot the next sandbox's (IdleWorkers), keeping
 * its JIT-compiled code and nothing of the sandbox: every object the guest could reach hangs off
 * the Sentry, which is dropped, and this module keeps no other state. (The memory medium keeps
 * the heap chunks it held, zeroed: file-data-medium.ts.)
 */
let sentry: Sentry | undefined;
let stdio: MessagePort | undefined;
let boots = 0;

class KernelStateError extends Error {
  override readonly name = 'KernelStateError';
}

const current = (): Sentry => {
  if (sentry === undefined) throw new KernelStateError('no sandbox is booted on this kernel');
  return sentry;
};

/** The kernel's control plane (comlink): never on the syscall path. */
export const kernelControl = {
  /** Builds the Sentry; its errors (e.g. MountSetupError) reach the caller by name and message. */
  boot: (config: KernelConfig, port: MessagePort): void => {
    if (sentry !== undefined) throw new KernelStateError('a sandbox is already booted on this kernel');
    sentry = new Sentry(config, new OutputPipe(port));
    stdio = port;
    boots++;
  },
  createTask: (spec: TaskSpec) => current().createTask(spec),
  feedStdin: (id: number, data: Uint8Array) => current().feedStdin(id, data),
  endStdin: (id: number) => current().endStdin(id),
  reapTask: (id: number) => current().reapTask(id),
  stats: (): KernelStats => ({ ...current().stats(), boots }),
  upperChanges: () => current().upperChanges(),
  upperLayer: () => current().upperLayer(),
  /** Ends the sandbox's Sentry; true if it released everything and no handler ever failed. */
  stop: async (): Promise<boolean> => {
    const s = sentry;
    sentry = undefined;
    if (s === undefined) return true;
    try {
      await s.stop();
      return s.faults === 0;
    } finally {
      stdio?.close();
      stdio = undefined;
    }
  },
};
export type KernelControl = typeof kernelControl;

exposeControl(kernelControl);
