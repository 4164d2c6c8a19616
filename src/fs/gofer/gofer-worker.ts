/**
 * The GoferActor's worker entry: serves one host directory over one ring.
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
import { GoferServer, type GoferServerStats } from './gofer-server.js';

export interface GoferWorkerData {
  ring: RingDescriptor;
  /** The mount root: an O_PATH directory FD of this process, now the gofer's. */
  rootFd: number;
  /** An FD on a procfs root, now the gofer's. */
  procFd: number;
  readOnly: boolean;
}

/** The control surface of a GoferActor (comlink). */
export interface GoferControl {
  stats(): GoferServerStats & { requests: number; parks: number };
  stop(): Promise<void>;
}

const data = workerData as GoferWorkerData;
const rootFd = data.rootFd;
const procSelfFd = selfFdDir(data.procFd);

const gofer = new GoferServer(rootFd, { readOnly: data.readOnly, procSelfFd });
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
