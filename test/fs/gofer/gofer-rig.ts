// Shared set-up for the gofer tests: a real host temp directory served by a real GoferActor worker
// (dist/src/fs/gofer/gofer-worker.js), and a ring the test thread calls synchronously.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Supervisor, type WorkerActor } from '../../../src/actors/actor.js';
import { RingClient } from '../../../src/actors/ring-client.js';
import { createDoorbell, createRing, createSpinBudget, type RingDescriptor } from '../../../src/actors/ring-layout.js';
import type { GoferControl, GoferWorkerData } from '../../../src/fs/gofer/gofer-worker.js';
import * as libc from '../../../src/host/libc.js';
import { M, type Message, type MessageName, type ReqOf, type RespOf } from '../../../src/fs/gofer/protocol.js';
import type { PathAhead } from '../../../src/fs/vfs/filesystem.js';

const workerUrl = new URL('../../../src/fs/gofer/gofer-worker.js', import.meta.url);

export interface GoferRig {
  /** The host directory the gofer serves. */
  readonly dir: string;
  readonly ring: RingDescriptor;
  readonly actor: WorkerActor<GoferControl>;
  stop(): Promise<void>;
}

export function makeHostDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-test-'));
}

export function startGofer(options: { readOnly?: boolean; dir?: string; windowBytes?: number } = {}): GoferRig {
  const dir = options.dir ?? makeHostDir();
  const ring = createRing(createDoorbell(), createSpinBudget(2), options.windowBytes);
  const supervisor = new Supervisor();
  // The test plays the host actor: it opens the root and /proc and hands the FDs over.
  const dirFlags = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;
  const workerData: GoferWorkerData = {
    ring, readOnly: options.readOnly ?? false,
    rootFd: libc.openat(libc.AT_FDCWD, dir, dirFlags), procFd: libc.openat(libc.AT_FDCWD, '/proc', dirFlags),
  };
  const actor = supervisor.spawn<GoferControl>('gofer', workerUrl, { workerData });
  return {
    dir, ring, actor,
    async stop() {
      await supervisor.stopAll();
      if (!options.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type RawResult<N extends MessageName> = { status: number; resp: RespOf<N> | undefined };

/** One request straight to the server, bypassing GoferFilesystem: what a buggy or hostile Sentry could send. */
export function raw<N extends MessageName>(client: RingClient, name: N, req: ReqOf<N>): RawResult<N> {
  const m = M[name] as unknown as Message<ReqOf<N>, RespOf<N>>;
  m.req.put(client.writer.reset(), req);
  const status = client.call(m.id);
  return { status, resp: status === 0 ? m.resp.get(client.reader) : undefined };
}

export const S_IFMT = 0o170000, S_IFLNK = 0o120000, S_IFDIR = 0o040000, S_IFREG = 0o100000;

/** The rest of a path, as the VFS hands it to a lookup. */
export function aheadOf(names: readonly string[]): PathAhead {
  return { ahead: () => names };
}
