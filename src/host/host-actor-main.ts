/**
 * The HostActor's process (DESIGN §1): builds the container's mount tree in its own mount
 * namespace (container-tree.ts), donates the FDs over the Unix socket it was given as fd 3, then
 * serves its control plane over IPC until its parent goes away. The only privileged piece.
 */
import { readFileSync } from 'node:fs';
import { exposeProcessControl } from '../actors/process-actor.js';
import { buildContainerTree, type ContainerMount, type ContainerTree } from './container-tree.js';
import { createFilestoreFile, type FilestoreFile, type FilestoreRequest } from './filestore-file.js';
import * as libc from './libc.js';
import { HostSyscallError, sendFds } from './namespace-syscalls.js';

/** argv[2]: the mounts, as JSON. */
export interface HostActorConfig {
  mounts: ContainerMount[];
  /** The rootfs overlay's filestore file, made before the mount namespace hides the host. */
  filestore?: FilestoreRequest;
}

/** What the actor reports once, over IPC, before its control plane starts. */
export type HostActorReport =
  | { type: 'ready'; paths: string[]; staging: string; pid: number }
  | { type: 'failed'; message: string; syscall?: string; errno?: string };

/** The HostActor's control plane (comlink over IPC). */
export interface HostControl {
  stats(): { pid: number; mounts: number };
  /** This process's mount table as its namespace shows it (read through the donated /proc). */
  mountinfo(): string;
  stop(): Promise<void>;
}

const DONATION_SOCKET = 3;

function describe(e: unknown): HostActorReport {
  if (e instanceof HostSyscallError) return { type: 'failed', message: e.message, syscall: e.syscall, errno: e.errnoName };
  if (e instanceof Error) return { type: 'failed', message: e.message };
  return { type: 'failed', message: `host call failed: ${JSON.stringify(e)}` };
}

const config = JSON.parse(process.argv[2] ?? '{"mounts":[]}') as HostActorConfig;
let tree: ContainerTree | undefined;
let filestore: FilestoreFile | undefined;
/** Leaves nothing on the host: the self filestore's name goes with us. */
function exit(code: number): never {
  try { filestore?.remove(); } catch { /* already gone */ }
  process.exit(code);
}
try {
  if (config.filestore) filestore = createFilestoreFile(config.filestore);
  tree = buildContainerTree(config.mounts);
  const fds = [...tree.roots, tree.proc, ...(filestore ? [filestore.fd] : [])];
  sendFds(DONATION_SOCKET, Buffer.from(JSON.stringify({ paths: tree.paths })), fds);
  if (filestore) libc.close(filestore.fd);
  process.send?.({ type: 'ready', paths: tree.paths, staging: tree.staging, pid: process.pid } satisfies HostActorReport);
} catch (e) {
  process.send?.(describe(e), () => exit(1));
}

if (tree) {
  const t = tree;
  const control: HostControl = {
    stats: () => ({ pid: process.pid, mounts: t.roots.length }),
    mountinfo: () => {
      const fd = libc.openat(t.proc, 'self/mountinfo', libc.O_RDONLY | libc.O_CLOEXEC);
      try { return readFileSync(fd, 'utf8'); } finally { libc.close(fd); }
    },
    stop: async () => { setImmediate(() => exit(0)); },
  };
  exposeProcessControl(control);
  // Nothing outlives the sandbox: when the parent goes, so do we.
  process.on('disconnect', () => exit(0));
  process.on('SIGTERM', () => exit(0));
}
