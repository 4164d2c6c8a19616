import { workerData, type MessagePort } from 'node:worker_threads';
import { exposeControl } from '../actors/control.js';
import type { KernelConfig, TaskSpec } from './kernel-config.js';
import { OutputPipe } from './output-pipe.js';
import { Sentry } from './sentry.js';

/** The KernelActor: one worker per sandbox, running its Sentry. */
const { config, stdio } = workerData as { config: KernelConfig; stdio: MessagePort };

function build(): Sentry | Error {
  try { return new Sentry(config, new OutputPipe(stdio)); } catch (e) { return e instanceof Error ? e : new Error(String(e)); }
}
const built = build();
const sentry = (): Sentry => { if (built instanceof Error) throw built; return built; };

/**
 * The kernel's control plane (comlink): never on the syscall path. A Sentry that could not be
 * built answers every call with the reason (comlink carries the error's name and message).
 */
export const kernelControl = {
  createTask: (spec: TaskSpec) => sentry().createTask(spec),
  feedStdin: (id: number, data: Uint8Array) => sentry().feedStdin(id, data),
  endStdin: (id: number) => sentry().endStdin(id),
  reapTask: (id: number) => sentry().reapTask(id),
  stats: () => sentry().stats(),
  upperChanges: () => sentry().upperChanges(),
  upperLayer: () => sentry().upperLayer(),
  stop: async () => { if (!(built instanceof Error)) await built.stop(); stdio.close(); },
};
export type KernelControl = typeof kernelControl;

exposeControl(kernelControl);
