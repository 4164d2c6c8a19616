import type { ServerRing } from '../../actors/ring-server.js';
import {
  FDFLAGS_ALL, FileType, LOOKUP_SYMLINK_FOLLOW, OFLAGS_ALL, OFLAG_CREAT, OFLAG_DIRECTORY, OFLAG_EXCL,
  OFLAG_TRUNC, R, RIGHTS_DIRECTORY_BASE, RIGHTS_REGULAR_FILE_BASE,
} from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { Location } from '../../fs/vfs/mount.js';
import type { FrameReader } from '../../actors/frame.js';
import { DirectoryDescription, RegularFileDescription, type FileDescription } from '../file-description.js';
import type { FdEntry } from '../fd-table.js';
import type { Task } from '../task.js';
import { writeFilestat } from './encode.js';
import { timesChange } from './fd.js';

/** Where each path_* call is served. Paths are resolved by the VFS beneath the directory fd. */

/** A path field: valid UTF-8 or EILSEQ (WASI paths are strings). */
function readPath(rd: FrameReader): string {
  return rd.utf8() ?? fail(Errno.ILSEQ);
}

/** The directory an fd names, which must hold `rights`. A non-directory is ENOTDIR. */
function dirOf(t: Task, fd: number, rights: bigint): { entry: FdEntry; at: Location } {
  const entry = t.fds.get(fd);
  const d = entry.description;
  if (!(d instanceof DirectoryDescription)) fail(Errno.NOTDIR);
  if ((entry.rightsBase & rights) !== rights) fail(Errno.NOTCAPABLE);
  return { entry, at: d.location };
}

function checkLookupFlags(flags: number): boolean {
  if ((flags & ~LOOKUP_SYMLINK_FOLLOW) !== 0) fail(Errno.INVAL);
  return (flags & LOOKUP_SYMLINK_FOLLOW) !== 0;
}

export function pathCreateDirectory(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const path = readPath(r.reader);
  const { at } = dirOf(t, fd, R.PATH_CREATE_DIRECTORY);
  t.vfs.mkdir(at, path);
  return 0;
}

export function pathFilestatGet(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const flags = r.reader.u32(); const path = readPath(r.reader);
  const { at } = dirOf(t, fd, R.PATH_FILESTAT_GET);
  const loc = t.vfs.resolve(at, path, checkLookupFlags(flags));
  writeFilestat(r.writer, t.vfs.stat(loc));
  return 0;
}

export function pathFilestatSetTimes(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const flags = r.reader.u32(); const path = readPath(r.reader);
  const atim = r.reader.u64(); const mtim = r.reader.u64(); const fst = r.reader.u32();
  const { at } = dirOf(t, fd, R.PATH_FILESTAT_SET_TIMES);
  const change = timesChange(atim, mtim, fst);
  const loc = t.vfs.resolve(at, path, checkLookupFlags(flags));
  t.vfs.setStat(loc, change);
  return 0;
}

export function pathLink(t: Task, r: ServerRing): number {
  const oldFd = r.reader.u32(); const oldFlags = r.reader.u32(); const oldPath = readPath(r.reader);
  const newFd = r.reader.u32(); const newPath = readPath(r.reader);
  const from = dirOf(t, oldFd, R.PATH_LINK_SOURCE);
  const to = dirOf(t, newFd, R.PATH_LINK_TARGET);
  t.vfs.link(from.at, oldPath, checkLookupFlags(oldFlags), to.at, newPath);
  return 0;
}

/** Rights a regular-file fd gets that let it change the file: opening with any of them opens for writing. */
const WRITE_RIGHTS = R.FD_WRITE | R.FD_DATASYNC | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE;

export function pathOpen(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const dirflags = r.reader.u32(); const path = readPath(r.reader);
  const oflags = r.reader.u32(); const base = r.reader.u64(); const inheriting = r.reader.u64();
  const fdflags = r.reader.u32();
  let needed = R.PATH_OPEN;
  if (oflags & OFLAG_CREAT) needed |= R.PATH_CREATE_FILE;
  if (oflags & OFLAG_TRUNC) needed |= R.PATH_FILESTAT_SET_SIZE;
  const { entry, at } = dirOf(t, fd, needed);
  const follow = checkLookupFlags(dirflags);
  if ((oflags & ~OFLAGS_ALL) !== 0 || (fdflags & ~FDFLAGS_ALL) !== 0) fail(Errno.INVAL);
  if ((oflags & OFLAG_DIRECTORY) && (oflags & OFLAG_TRUNC)) fail(Errno.INVAL);
  // New rights never exceed what the directory may hand down.
  const granted = base & entry.rightsInheriting;
  const write = (granted & WRITE_RIGHTS) !== 0n;
  const loc = t.vfs.open(at, path, {
    followFinal: follow,
    create: (oflags & OFLAG_CREAT) !== 0,
    exclusive: (oflags & OFLAG_EXCL) !== 0,
    directory: (oflags & OFLAG_DIRECTORY) !== 0,
    write,
    truncate: (oflags & OFLAG_TRUNC) !== 0,
  });
  let description: FileDescription;
  let rightsBase: bigint;
  if (loc.inode.type === FileType.DIRECTORY) {
    description = new DirectoryDescription(t.vfs, loc);
    rightsBase = granted & RIGHTS_DIRECTORY_BASE;
  } else if (loc.inode.type === FileType.REGULAR_FILE) {
    const read = (granted & R.FD_READ) !== 0n;
    const handle = loc.mount.fs.open(loc.inode, { read, write, truncate: (oflags & OFLAG_TRUNC) !== 0 });
    description = new RegularFileDescription(t.vfs, loc, handle, read, write);
    rightsBase = granted & RIGHTS_REGULAR_FILE_BASE;
  } else {
    fail(Errno.NOTSUP);
  }
  description.fdflags = fdflags;
  let newFd: number;
  try {
    newFd = t.fds.install({ description, rightsBase, rightsInheriting: inheriting & entry.rightsInheriting, preopenName: undefined });
  } catch (e) {
    description.close();
    throw e;
  }
  r.writer.u32(newFd);
  return 0;
}

export function pathReadlink(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const path = readPath(r.reader); const bufLen = r.reader.u32();
  const { at } = dirOf(t, fd, R.PATH_READLINK);
  const target = Buffer.from(t.vfs.readlink(at, path));
  r.writer.bytes(target.subarray(0, Math.min(bufLen, target.byteLength)));
  return 0;
}

export function pathRemoveDirectory(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const path = readPath(r.reader);
  const { at } = dirOf(t, fd, R.PATH_REMOVE_DIRECTORY);
  t.vfs.rmdir(at, path);
  return 0;
}

export function pathRename(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const oldPath = readPath(r.reader);
  const newFd = r.reader.u32(); const newPath = readPath(r.reader);
  const from = dirOf(t, fd, R.PATH_RENAME_SOURCE);
  const to = dirOf(t, newFd, R.PATH_RENAME_TARGET);
  t.vfs.rename(from.at, oldPath, to.at, newPath);
  return 0;
}

export function pathSymlink(t: Task, r: ServerRing): number {
  const target = readPath(r.reader); const fd = r.reader.u32(); const path = readPath(r.reader);
  const { at } = dirOf(t, fd, R.PATH_SYMLINK);
  t.vfs.symlink(target, at, path);
  return 0;
}

export function pathUnlinkFile(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const path = readPath(r.reader);
  const { at } = dirOf(t, fd, R.PATH_UNLINK_FILE);
  t.vfs.unlink(at, path);
  return 0;
}
