/**
 * The host file behind a `self` or `dir=` overlay filestore, made by the host actor (the sandbox
 * process opens no host path by name). `self`: `.actor-sandbox.filestore.<id>` in the root of
 * the rootfs source, so host disk accounting (`du`) charges the container's own directory; the
 * Sentry hides it with a whiteout, and the actor removes it when it exits. `dir=`: an unnamed
 * file in PATH (O_TMPFILE, or created and unlinked at once), gone with its last FD.
 */
import { Errno, SyscallError } from '../wasi/errno.js';
import * as libc from './libc.js';

export type FilestoreRequest =
  | { kind: 'self'; source: string; name: string }
  | { kind: 'dir'; path: string };

export interface FilestoreFile {
  fd: number;
  /** Removes the file's name, if it has one. Idempotent. */
  remove(): void;
}

const O_TMPFILE = 0o20000000 | libc.O_DIRECTORY;
const FILE = libc.O_RDWR | libc.O_CREAT | libc.O_EXCL | libc.O_NOFOLLOW | libc.O_CLOEXEC;

/** The self filestore's name for a sandbox id (letters, digits and `-` only). */
export function selfFilestoreName(id: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new RangeError(`bad filestore id ${JSON.stringify(id)}`);
  return `.actor-sandbox.filestore.${id}`;
}

export function createFilestoreFile(req: FilestoreRequest): FilestoreFile {
  if (req.kind === 'self') {
    const dir = libc.openat(libc.AT_FDCWD, req.source, libc.O_RDONLY | libc.O_DIRECTORY | libc.O_CLOEXEC);
    const fd = libc.openat(dir, req.name, FILE, 0o600);
    let removed = false;
    return {
      fd,
      remove() {
        if (removed) return;
        removed = true;
        try { libc.unlinkat(dir, req.name, 0); } finally { libc.close(dir); }
      },
    };
  }
  try {
    return { fd: libc.openat(libc.AT_FDCWD, req.path, O_TMPFILE | libc.O_RDWR | libc.O_CLOEXEC, 0o600), remove() {} };
  } catch (e) {
    // Filesystems without O_TMPFILE: a fresh name, unlinked before anyone else can use it.
    if (!(e instanceof SyscallError) || (e.errno !== Errno.NOTSUP && e.errno !== Errno.ISDIR)) throw e;
  }
  const dir = libc.openat(libc.AT_FDCWD, req.path, libc.O_RDONLY | libc.O_DIRECTORY | libc.O_CLOEXEC);
  try {
    const name = `.actor-sandbox.filestore.${process.pid}.${Date.now()}`;
    const fd = libc.openat(dir, name, FILE, 0o600);
    libc.unlinkat(dir, name, 0);
    return { fd, remove() {} };
  } finally {
    libc.close(dir);
  }
}
