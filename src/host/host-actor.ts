import { rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Supervisor } from '../actors/actor.js';
import type { ProcessActor } from '../actors/process-actor.js';
import type { ContainerMount } from './container-tree.js';
import type { FilestoreRequest } from './filestore-file.js';
import type { HostActorReport, HostControl } from './host-actor-main.js';
import { closeFd, recvFds, socketpair } from './namespace-syscalls.js';

/** How the host actor got the right to build mounts: as root, or inside a user namespace. */
export type HostActorMode = 'root' | 'rootless';

/** The host actor could not build the container tree. `privilege`: neither root nor rootless works here. */
export class HostActorError extends Error {
  override readonly name = 'HostActorError';
  constructor(readonly reason: 'privilege' | 'failed', message: string) { super(message); }
}

/** A running host actor and what it donated. The FDs are this process's; whoever uses them closes them. */
export interface HostActorHandle {
  readonly actor: ProcessActor<HostControl>;
  readonly mode: HostActorMode;
  /** One O_PATH directory FD per mount, in the order given. */
  readonly roots: number[];
  /** An O_PATH FD on /proc, for `self/fd` reopening. */
  readonly proc: number;
  /** The overlay filestore file (read-write), when one was asked for. */
  readonly filestore: number | undefined;
  /** Stops the actor and closes the donation socket. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./host-actor-main.js', import.meta.url));
const PRIVILEGE_HINT =
  'building the sandbox\'s mount namespace needs CAP_SYS_ADMIN (run as root) or unprivileged user ' +
  'namespaces (sysctl -w kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0, and ' +
  'util-linux\'s unshare on PATH)';

/**
 * Starts the sandbox's host actor and takes the FDs it donates. As root it unshares its mount
 * namespace itself; otherwise (or if root lacks CAP_SYS_ADMIN) it is started inside a new user
 * namespace by util-linux's `unshare`, because Node is multi-threaded and unshare(CLONE_NEWUSER)
 * demands a single-threaded caller. Never falls back to anything weaker: if neither works, it
 * fails with HostActorError('privilege') naming what is missing.
 */
export async function startHostActor(
  supervisor: Supervisor, mounts: readonly ContainerMount[], filestore?: FilestoreRequest,
): Promise<HostActorHandle> {
  const modes: HostActorMode[] = process.getuid?.() === 0 ? ['root', 'rootless'] : ['rootless'];
  const refusals: string[] = [];
  for (const mode of modes) {
    const r = await attempt(supervisor, mounts, filestore, mode);
    if ('handle' in r) return r.handle;
    if (!r.privilege) throw new HostActorError('failed', `host actor (${mode}): ${r.message}`);
    refusals.push(`${mode}: ${r.message}`);
  }
  throw new HostActorError('privilege', `${PRIVILEGE_HINT}; tried ${refusals.join('; ')}`);
}

type Attempt = { handle: HostActorHandle } | { privilege: boolean; message: string };

async function attempt(
  supervisor: Supervisor, mounts: readonly ContainerMount[], filestore: FilestoreRequest | undefined, mode: HostActorMode,
): Promise<Attempt> {
  const [mine, theirs] = socketpair();
  const args = [MAIN, JSON.stringify({ mounts, filestore })];
  const [cmd, argv] = mode === 'root'
    ? [process.execPath, args]
    : ['unshare', ['--user', '--map-root-user', '--', process.execPath, ...args]];
  const actor = supervisor.spawnProcess<HostControl>('host', cmd, argv, { stdio: ['ignore', 'ignore', 'pipe', theirs, 'ipc'] });
  closeFd(theirs);
  const report = await new Promise<HostActorReport>((resolve) => {
    actor.child.once('message', (m) => resolve(m as HostActorReport));
    void actor.exit.then((code) => resolve({ type: 'failed', message: actor.stderr.trim() || `exited with code ${code}` }));
  });
  if (report.type !== 'ready') {
    await actor.stop();
    closeFd(mine);
    const privilege = report.errno === 'EPERM' || (mode === 'rootless' && report.syscall === undefined);
    return { privilege, message: report.message };
  }
  let fds: number[];
  const expected = mounts.length + 1 + (filestore ? 1 : 0);
  try {
    fds = recvFds(mine, 4096, expected).fds;
    if (fds.length !== expected) {
      for (const fd of fds) closeFd(fd);
      throw new Error(`host actor donated ${fds.length} FDs, expected ${expected}`);
    }
  } catch (e) {
    await actor.stop();
    closeFd(mine);
    return { privilege: false, message: (e as Error).message };
  }
  void actor.exit.then(() => { try { rmdirSync(report.staging); } catch { /* already gone */ } });
  let stopped = false;
  return {
    handle: {
      actor, mode, roots: fds.slice(0, mounts.length), proc: fds[mounts.length]!,
      filestore: filestore ? fds[mounts.length + 1] : undefined,
      async stop() {
        if (stopped) return;
        stopped = true;
        await actor.stop();
        closeFd(mine);
      },
    },
  };
}
