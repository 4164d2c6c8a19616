/**
 * Builds a sandbox's mount tree inside the host actor (DESIGN §1, §5): a private mount namespace
 * whose root is a small tmpfs holding one bind mount per mount source, `pivot_root`ed into with
 * the old root detached. What a donated FD can reach by `..` then ends at that tmpfs: nothing of
 * the host is left above it. Runs on the host actor's main thread; every call is synchronous,
 * because unshare(CLONE_NEWNS) moves only the calling thread (libuv's pool stays behind).
 */
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as libc from './libc.js';
import {
  CLONE_NEWNS, MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC,
  MS_REMOUNT, chdir, mount, mountFlagsOf, pivotRoot, umount2, unshare,
} from './namespace-syscalls.js';

export interface ContainerMount {
  /** Absolute host path of the directory to mount. */
  source: string;
  readOnly: boolean;
}

/** What the host actor donates: one directory FD per mount (O_PATH), and one on /proc. */
export interface ContainerTree {
  roots: number[];
  proc: number;
  /** The container path of each mount, for messages and the mountinfo check. */
  paths: string[];
  /**
   * The host directory the container root was mounted on. Empty on the host side; whoever started
   * the actor removes it once the actor has exited (while it runs, it is our namespace's root).
   */
  staging: string;
}

const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;

export function buildContainerTree(mounts: readonly ContainerMount[]): ContainerTree {
  // The staging directory is made before unsharing, so the host side has nothing mounted on it.
  const staging = mkdtempSync(join(tmpdir(), 'asb-root-'));
  try {
    return enter(staging, mounts);
  } catch (e) {
    try { rmdirSync(staging); } catch { /* mounted on in our namespace: left to the parent */ }
    throw e;
  }
}

function enter(staging: string, mounts: readonly ContainerMount[]): ContainerTree {
  unshare(CLONE_NEWNS);
  mount(null, '/', null, MS_REC | MS_PRIVATE);
  mount('asb-root', staging, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=64k,nr_inodes=1024,mode=0755');
  const paths = mounts.map((_, i) => `/m${i}`);
  mounts.forEach((m, i) => {
    const target = join(staging, paths[i]!);
    mkdirSync(target);
    // Read-only: no MS_REC, since MS_RDONLY would not reach the submounts a recursive bind brings.
    mount(m.source, target, null, MS_BIND | (m.readOnly ? 0 : MS_REC));
    // A remount may only add restrictions to what the source mount has locked (rootless): keep them.
    const keep = mountFlagsOf(target);
    mount(null, target, null, MS_BIND | MS_REMOUNT | keep | MS_NOSUID | MS_NODEV | (m.readOnly ? MS_RDONLY : 0));
  });
  // /proc is opened while it is still reachable: the Sentry and the gofers reopen their own
  // FDs through <proc>/self/fd, as gVisor's gofer does.
  const proc = libc.openat(libc.AT_FDCWD, '/proc', DIR);
  chdir(staging);
  pivotRoot('.', '.');
  umount2('.', MNT_DETACH);
  chdir('/');
  const roots = paths.map((p) => libc.openat(libc.AT_FDCWD, p, DIR));
  // The container's own root is made read-only: `..` from a mount root lands on an empty,
  // unwritable directory.
  mount(null, '/', null, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  return { roots, proc, paths, staging };
}
