// One operation run on each side: with node:fs on a host directory, and through our VFS.
import fs from 'node:fs';
import path from 'node:path';
import type { FileHandle } from '../../../src/fs/vfs/filesystem.js';
import type { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import { FileType } from '../../../src/wasi/abi.js';
import { Errno, errnoFromLinux } from '../../../src/wasi/errno.js';
import { errnoOfCall } from '../gofer/errno-of.js';
import type { Op } from './operations.js';
import { readHandle } from './tree-state.js';

const ERRNO_NAMES: Record<number, string> = {
  [Errno.SUCCESS]: 'success', [Errno.BUSY]: 'EBUSY', [Errno.EXIST]: 'EEXIST', [Errno.INVAL]: 'EINVAL', [Errno.IO]: 'EIO',
  [Errno.ISDIR]: 'EISDIR', [Errno.LOOP]: 'ELOOP', [Errno.NOENT]: 'ENOENT', [Errno.NOSPC]: 'ENOSPC',
  [Errno.NOTDIR]: 'ENOTDIR', [Errno.NOTEMPTY]: 'ENOTEMPTY', [Errno.PERM]: 'EPERM', [Errno.XDEV]: 'EXDEV',
  [Errno.NOTCAPABLE]: 'ENOTCAPABLE', [Errno.NOTSUP]: 'ENOTSUP', [Errno.ROFS]: 'EROFS',
};
export const errnoName = (e: number): string => ERRNO_NAMES[e] ?? `errno ${e}`;

/** The WASI errno a node:fs call fails with, 0 if it returns. */
function hostErrno(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    if (typeof errno !== 'number') throw e;
    return errnoFromLinux(-errno);
  }
}


export type Primitive = Exclude<Op, { op: 'check' } | { op: 'rmtree' } | { op: 'outside' }>;

/**
 * One side's open files, in the order opened: host FDs, or the sandbox's handles (none for a
 * directory). Both sides open and close alike (or the errnos already differ), so index k is the
 * same file on both. `lastRead` is what the last fdread saw, to compare.
 */
export interface OpenFiles<H> { list: Array<{ h: H; write: boolean; dir: boolean }>; lastRead: string }

/** The open file an fd operation names, or undefined when it does not apply (none open; reading a write-only one…). */
function openFile<H>(files: OpenFiles<H>, op: Extract<Op, { fd: number }>): { h: H; write: boolean; dir: boolean } | undefined {
  if (files.list.length === 0) return undefined;
  const f = files.list[op.fd % files.list.length]!;
  if (op.op === 'fdclose') return f;
  if (f.dir || (op.op === 'fdread') === f.write) return undefined;
  return f;
}

export function onHost(root: string, op: Primitive, files: OpenFiles<number>): number {
  const p = (rel: string): string => path.join(root, rel);
  const c = fs.constants;
  return hostErrno(() => {
    switch (op.op) {
      case 'open': {
        const fd = fs.openSync(p(op.path), op.write ? c.O_WRONLY : c.O_RDONLY);
        files.list.push({ h: fd, write: op.write, dir: fs.fstatSync(fd).isDirectory() });
        return;
      }
      case 'fdread': {
        const f = openFile(files, op);
        if (!f) return;
        const chunks: Buffer[] = [];
        const buf = Buffer.alloc(4096);
        for (let off = 0; ;) {
          const n = fs.readSync(f.h, buf, 0, buf.length, off);
          if (n === 0) break;
          chunks.push(Buffer.from(buf.subarray(0, n)));
          off += n;
        }
        files.lastRead = `${JSON.stringify(Buffer.concat(chunks).toString('latin1'))} size=${fs.fstatSync(f.h).size}`;
        return;
      }
      case 'fdwrite': {
        const f = openFile(files, op);
        if (f) fs.writeSync(f.h, Buffer.from(op.data), 0, op.data.length, op.offset);
        return;
      }
      case 'fdclose': {
        const f = openFile(files, op);
        if (f) { files.list.splice(files.list.indexOf(f), 1); fs.closeSync(f.h); }
        return;
      }
      case 'create':
        fs.closeSync(fs.openSync(p(op.path), c.O_CREAT | c.O_WRONLY | (op.excl ? c.O_EXCL : 0) | (op.trunc ? c.O_TRUNC : 0), 0o644));
        return;
      case 'write': {
        const fd = fs.openSync(p(op.path), c.O_WRONLY);
        try { fs.writeSync(fd, Buffer.from(op.data), 0, op.data.length, op.offset); } finally { fs.closeSync(fd); }
        return;
      }
      case 'truncate': return fs.truncateSync(p(op.path), op.size);
      case 'mkdir': return fs.mkdirSync(p(op.path), 0o755);
      case 'rmdir': return fs.rmdirSync(p(op.path));
      case 'unlink': return fs.unlinkSync(p(op.path));
      case 'rename': return fs.renameSync(p(op.from), p(op.to));
      case 'link': return fs.linkSync(p(op.from), p(op.to)); // link(2): Linux does not follow a final symlink
      case 'symlink': return fs.symlinkSync(op.target, p(op.path));
      case 'chmod': return fs.chmodSync(p(op.path), op.mode);
      case 'utimes': return (op.follow ? fs.utimesSync : fs.lutimesSync)(p(op.path), op.mtime, op.mtime);
    }
  });
}

/** What the WASI calls do: path_open + fd_write / fd_filestat_set_size, path_* for the rest. */
export function inSandbox(vfs: VirtualFilesystem, op: Primitive, files: OpenFiles<FileHandle | null>): number {
  const root = vfs.rootLocation;
  const openReq = { followFinal: true, create: false, exclusive: false, directory: false, write: true, truncate: false };
  return errnoOfCall(() => {
    switch (op.op) {
      case 'open': {
        // path_open: a directory gets a directory description, a regular file a handle.
        const loc = vfs.open(root, op.path, { ...openReq, write: op.write });
        const dir = loc.inode.type === FileType.DIRECTORY;
        const h = dir ? null : loc.mount.fs.open(loc.inode, { read: !op.write, write: op.write, truncate: false });
        files.list.push({ h, write: op.write, dir });
        return;
      }
      case 'fdread': {
        const f = openFile(files, op);
        if (f?.h) files.lastRead = `${JSON.stringify(readHandle(f.h))} size=${f.h.size()}`;
        return;
      }
      case 'fdwrite': {
        const f = openFile(files, op);
        f?.h?.write(Buffer.from(op.data), op.offset);
        return;
      }
      case 'fdclose': {
        const f = openFile(files, op);
        if (f) { files.list.splice(files.list.indexOf(f), 1); f.h?.close(); }
        return;
      }
      case 'create': {
        const loc = vfs.open(root, op.path, { ...openReq, create: true, exclusive: op.excl, truncate: op.trunc });
        loc.mount.fs.open(loc.inode, { read: false, write: true, truncate: op.trunc }).close();
        return;
      }
      case 'write': {
        const loc = vfs.open(root, op.path, openReq);
        const h = loc.mount.fs.open(loc.inode, { read: false, write: true, truncate: false });
        try { h.write(Buffer.from(op.data), op.offset); } finally { h.close(); }
        return;
      }
      case 'truncate': {
        const loc = vfs.open(root, op.path, openReq);
        loc.mount.fs.open(loc.inode, { read: false, write: true, truncate: false }).close();
        vfs.setStat(loc, { size: op.size });
        return;
      }
      case 'mkdir': return vfs.mkdir(root, op.path);
      case 'rmdir': return vfs.rmdir(root, op.path);
      case 'unlink': return vfs.unlink(root, op.path);
      case 'rename': return vfs.rename(root, op.from, root, op.to);
      case 'link': return vfs.link(root, op.from, false, root, op.to);
      case 'symlink': return vfs.symlink(op.target, root, op.path);
      case 'chmod': return vfs.setStat(vfs.resolve(root, op.path, true), { mode: op.mode });
      case 'utimes': {
        const ns = BigInt(op.mtime * 4) * 250_000_000n;
        return vfs.setStat(vfs.resolve(root, op.path, op.follow), { atim: ns, mtim: ns });
      }
    }
  });
}
