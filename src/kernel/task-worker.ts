import { RingClient, RingClosedError } from '../actors/ring-client.js';
import type { RingDescriptor } from '../actors/ring-layout.js';
import { GuestMemory } from './guest-memory.js';
import { ProcExit, createWasiImports } from './wasi-imports.js';
import { Sys } from './syscalls/protocol.js';

/** What the host posts to a warm worker to run one task. The module is compiled once and reused. */
export interface TaskJob {
  module: WebAssembly.Module;
  ring: RingDescriptor;
  args: string[];
  env: string[];
}

/** How a task ended, as plain data. */
export type TaskOutcome =
  | { kind: 'exit'; code: number; signal?: number; wallMs: number }
  | { kind: 'trap'; message: string; wallMs: number }
  | { kind: 'error'; code: 'ASB_ERR_LINK' | 'ASB_ERR_KERNEL_GONE'; message: string; wallMs: number };

/** The TaskActor body: one WASM instance whose every syscall crosses its ring to the Sentry. */
export default function runTask(job: TaskJob): TaskOutcome {
  const started = performance.now();
  const wallMs = (): number => performance.now() - started;
  const ring = new RingClient(job.ring);
  const memory = new GuestMemory();
  let instance: WebAssembly.Instance;
  try {
    const imports = createWasiImports(ring, memory, job.args, job.env);
    instance = new WebAssembly.Instance(job.module, { wasi_snapshot_preview1: imports });
  } catch (e) {
    return { kind: 'error', code: 'ASB_ERR_LINK', message: `cannot instantiate the module: ${(e as Error).message}`, wallMs: wallMs() };
  }
  const mem = instance.exports['memory'];
  const start = instance.exports['_start'];
  if (!(mem instanceof WebAssembly.Memory) || typeof start !== 'function') {
    return { kind: 'error', code: 'ASB_ERR_LINK', message: 'the module is not a WASI command: it needs exports "memory" and "_start"', wallMs: wallMs() };
  }
  memory.attach(mem);
  try {
    (start as () => void)();
    ring.writer.reset().u32(0);
    ring.call(Sys.PROC_EXIT);
    return { kind: 'exit', code: 0, wallMs: wallMs() };
  } catch (e) {
    if (e instanceof ProcExit) return e.signal === undefined ? { kind: 'exit', code: e.code, wallMs: wallMs() } : { kind: 'exit', code: e.code, signal: e.signal, wallMs: wallMs() };
    if (e instanceof RingClosedError) return { kind: 'error', code: 'ASB_ERR_KERNEL_GONE', message: 'the sandbox kernel stopped while the task ran', wallMs: wallMs() };
    const message = e instanceof Error ? e.message : String(e);
    return { kind: 'trap', message, wallMs: wallMs() };
  }
}
