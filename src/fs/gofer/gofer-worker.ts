/**
 * The GoferActor's worker entry: serves one mount over one ring, either a host directory or a
 * custom backend (user code implementing GoferBackend, imported by module URL).
 *
 * workerData: `GoferWorkerData`. The gofer never opens a host path: its mount root and a /proc FD
 * are donated by the host actor (or, in tests, opened by the test). It takes ownership of both;
 * `<proc>/self/fd` is what control FDs are reopened through (gofer-server.ts says why).
 *
 * Statuses for what the handler does not answer itself: a malformed frame is EINVAL (the request,
 * as sent, is invalid: the same answer a bad field gets), a handler bug is EIO (the remote failed;
 * LISAFS's EREMOTEIO, which WASI lacks). Neither stops the loop.
 */
import { workerData } from 'node:worker_threads';
import { exposeControl } from '../../actors/control.js';
import { RingServer } from '../../actors/ring-server.js';
import type { RingDescriptor } from '../../actors/ring-layout.js';
import { Errno, errnoOf } from '../../wasi/errno.js';
import * as libc from '../../host/libc.js';
import { BackendServer } from './backend-server.js';
import type { GoferBackend, GoferBackendFactory } from './gofer-backend.js';
import { GoferServer, type GoferServerStats } from './gofer-server.js';

/** A gofer serves either a host directory, on FDs the host actor donated… */
export interface HostGoferData {
  ring: RingDescriptor;
  /** The mount root: an O_PATH directory FD of this process, now the gofer's. */
  rootFd: number;
  /** An FD on a procfs root, now the gofer's. */
  procFd: number;
  readOnly: boolean;
}

/** …or a custom backend it loads from user code (always read-only). */
export interface BackendGoferData {
  ring: RingDescriptor;
  backend: { module: string; factory: string; options: unknown };
}

export type GoferWorkerData = HostGoferData | BackendGoferData;

/** The control surface of a GoferActor (comlink). */
export interface GoferControl {
  stats(): GoferServerStats & { requests: number; parks: number };
  stop(): Promise<void>;
}

const data = workerData as GoferWorkerData;
const gofer: GoferServer | BackendServer<unknown> = 'backend' in data
  ? new BackendServer(await loadBackend(data.backend))
  : new GoferServer(data.rootFd, { readOnly: data.readOnly, procSelfFd: selfFdDir(data.procFd) });
const server = new RingServer(data.ring.doorbell, data.ring.spin, gofer.handler, {
  malformedStatus: Errno.INVAL,
  failureStatus: Errno.IO,
  onHandlerError: (e) => console.error('gofer: handler failed:', e),
});
server.attach(data.ring);
server.start();

let stopped = false;
const control: GoferControl = {
  stats: () => ({ ...gofer.stats(), requests: server.requests, parks: server.parks }),
  async stop() {
    if (stopped) return;
    stopped = true;
    await server.stop();
    gofer.release();
  },
};
exposeControl(control);

/** Imports a user's backend module and calls its factory; a failure kills the actor with the reason. */
async function loadBackend(spec: BackendGoferData['backend']): Promise<GoferBackend> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const factory = mod[spec.factory];
  if (typeof factory !== 'function') throw new Error(`gofer backend: ${spec.module} has no function export "${spec.factory}"`);
  const backend = await (factory as GoferBackendFactory)(spec.options);
  for (const m of ['root', 'lookup', 'stat', 'readdir', 'read', 'readlink'] as const) {
    if (typeof (backend as unknown as Record<string, unknown>)[m] !== 'function') throw new Error(`gofer backend from ${spec.module}: missing method ${m}()`);
  }
  return backend;
}

/** SyscallError is not an Error; a worker that dies of one must say what it could not open. */
function selfFdDir(proc: number): number {
  try {
    return libc.openSelfFdDir(proc);
  } catch (e) {
    throw new Error(`gofer: cannot open self/fd beneath the donated /proc: WASI errno ${errnoOf(e)}`);
  } finally {
    libc.close(proc);
  }
}
