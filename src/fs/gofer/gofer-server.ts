/**
 * The gofer's server: answers protocol.ts messages against a host directory tree it reaches only
 * through descriptors beneath one root FD. It never resolves a host path string. Every name is one
 * validated component opened relative to a directory FD with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW (plain openat + O_NOFOLLOW on kernels
 * without openat2), so neither `..` nor a symlink planted on the host can lead it outside the tree.
 *
 * Reopening a control FD for I/O goes through the kernel's fd table: `openat(procSelfFd, "<n>")`,
 * as gVisor's fsgofer does. A control FD is bound to a node, not to a name: reopening by
 * (parent, name) would need the server to remember names it never validated for the node's current
 * place, and would let anyone on the host who swaps that name between Walk and OpenAt hand us a
 * different file. The magic link yields exactly the inode the Sentry walked to, in one syscall.
 * That is the one place a magic link is followed, deliberately; it is why control FDs of symlinks,
 * FIFOs, sockets and devices are never reopened.
 */
import { ProtocolServer } from './protocol-server.js';
import { FileType } from '../../wasi/abi.js';
import { Errno, SyscallError, fail, unlessNoent } from '../../wasi/errno.js';
import * as libc from '../../host/libc.js';
import {
  M, OPEN_ACCMODE, OPEN_RDONLY, OPEN_TRUNC, RENAME_NOREPLACE, SETSTAT_ATIME,
  SETSTAT_ATIME_NOW, SETSTAT_MTIME, SETSTAT_MTIME_NOW, SETSTAT_SIZE, UNLINK_REMOVEDIR, WalkStatus,
  WIRE_INODE_BYTES, WIRE_STAT_BYTES, XATTR_LIST_MAX, XATTR_SIZE_MAX, checkName, checkXattrName, fileTypeOfMode,
  putPReadResp, type FdId, type ReqOf, type RespOf,
  type WireInode, type WireStat,
} from './protocol.js';

export interface GoferServerOptions {
  /** Answer EROFS to every mutation. */
  readOnly: boolean;
  /** A directory FD on /proc/self/fd, for reopening control FDs (see the file comment). */
  procSelfFd: number;
}

/** A handle on one node; an O_PATH host FD. */
interface ControlFd { readonly hostFd: number; readonly type: FileType }
/** An opened node; a host FD with an access mode. */
interface OpenFd { readonly hostFd: number; readonly type: FileType; readonly readable: boolean; readonly writable: boolean }

export interface GoferServerStats {
  /** Requests received, per message name ('unknown' for ids not in the table). */
  counts: Record<string, number>;
  controlFds: number;
  openFds: number;
}

const RESOLVE = libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS | libc.RESOLVE_NO_MAGICLINKS;
const SYMLINK_MAX = libc.PATH_MAX - 1;
/** The longest linux_dirent64: 19 bytes of header, a 255-byte name and its NUL, 8-aligned. */
const MAX_HOST_DIRENT = 280;
/** Only fallocate modes a guest can ask for: 0 and FALLOC_FL_KEEP_SIZE. */
const FALLOC_MODES = 1;
/** openDirChild: the name no longer holds a directory. */
const SWAPPED = -2;
/**
 * fd-table slots reserved up front: room for goferfs's 1000 cached control FDs (GoferFilesystem)
 * on a few mounts, plus open files, without the table growing while the guest waits.
 */
const FD_TABLE_SLOTS = 4096;

export class GoferServer extends ProtocolServer {
  private readonly controls = new Map<FdId, ControlFd>();
  private readonly opens = new Map<FdId, OpenFd>();
  private readonly procSelfFd: number;
  /** Rule 4: ids come from a counter and are never reused. */
  private nextId = 1;
  private haveOpenat2 = true;

  /** Takes ownership of `rootFd` (a directory, ideally O_PATH) and `options.procSelfFd`. */
  constructor(private readonly rootFd: number, options: GoferServerOptions) {
    super(options.readOnly);
    this.procSelfFd = options.procSelfFd;
    libc.reserveFdTable(rootFd, FD_TABLE_SLOTS);
    this.register();
  }

  stats(): GoferServerStats {
    return { counts: { ...this.counts }, controlFds: this.controls.size, openFds: this.opens.size };
  }

  /** Closes every host FD the server holds, the root and /proc/self/fd included. */
  release(): void {
    for (const id of [...this.controls.keys(), ...this.opens.keys()]) this.closeId(id);
    for (const fd of [this.rootFd, this.procSelfFd]) closeQuietly(fd);
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  private register(): void {
    this.on(M.Mount, () => this.mount());
    this.on(M.FStat, ({ fd }) => libc.fstat(this.anyFd(fd)));
    this.on(M.SetStat, (q) => this.setStat(q));
    this.on(M.Walk, (q, window) => this.walk(q, window));
    this.on(M.WalkStat, (q, window) => this.walkStat(q, window));
    this.on(M.OpenAt, (q) => this.openAt(q));
    this.on(M.OpenCreateAt, (q) => this.openCreateAt(q));
    this.on(M.Close, ({ fds }) => { for (const id of fds) this.closeId(id); return {}; });
    this.on(M.FSync, ({ fd, dataOnly }) => {
      const f = this.open(fd);
      if (dataOnly) libc.fdatasync(f.hostFd); else libc.fsync(f.hostFd);
      return {};
    });
    this.on(M.PWrite, ({ fd, offset, data }) => ({ written: libc.pwrite(this.writable(fd).hostFd, data, offset) }));
    // PRead writes its reply in place: the host reads straight into the window.
    this.onRaw(M.PRead, ({ fd, offset, count }, w) => {
      const f = this.open(fd);
      if (!f.readable) fail(f.type === FileType.DIRECTORY ? Errno.ISDIR : Errno.BADF);
      putPReadResp(w, count, (dst) => libc.pread(f.hostFd, dst, offset));
    });
    this.on(M.MkdirAt, ({ dirFd, name, mode }) => this.createChild(dirFd, name, libc.O_DIRECTORY, libc.AT_REMOVEDIR,
      (dir) => libc.mkdirat(dir, name, mode & 0o7777)));
    this.on(M.SymlinkAt, ({ dirFd, name, target }) => {
      if (target === '' || target.includes('\0')) fail(Errno.INVAL);
      if (Buffer.byteLength(target) > SYMLINK_MAX) fail(Errno.NAMETOOLONG);
      return this.createChild(dirFd, name, 0, 0, (dir) => libc.symlinkat(target, dir, name));
    });
    this.on(M.LinkAt, ({ dirFd, name, targetFd }) => {
      const target = this.control(targetFd);
      if (target.type === FileType.DIRECTORY) fail(Errno.PERM);
      // Through the fd table, following only that magic link: the node itself gets the name, even a
      // symlink, and unlike AT_EMPTY_PATH this needs no CAP_DAC_READ_SEARCH.
      return this.createChild(dirFd, name, 0, 0,
        (dir) => libc.linkat(this.procSelfFd, String(target.hostFd), dir, name, libc.AT_SYMLINK_FOLLOW));
    });
    this.on(M.FStatFS, ({ fd }) => libc.fstatfs(this.anyFd(fd)));
    this.on(M.FAllocate, ({ fd, mode, offset, length }) => {
      if ((mode & ~FALLOC_MODES) !== 0) fail(Errno.INVAL);
      libc.fallocate(this.writable(fd).hostFd, mode, offset, length);
      return {};
    });
    this.on(M.ReadLinkAt, ({ fd }) => {
      const c = this.control(fd);
      if (c.type !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
      return { target: libc.readlinkat(c.hostFd, '') };
    });
    this.on(M.UnlinkAt, ({ dirFd, name, flags }) => {
      if ((flags & ~UNLINK_REMOVEDIR) !== 0) fail(Errno.INVAL);
      safeName(name);
      libc.unlinkat(this.dir(dirFd).hostFd, name, flags);
      return {};
    });
    this.on(M.RenameAt, ({ oldDirFd, oldName, newDirFd, newName, flags }) => {
      if ((flags & ~RENAME_NOREPLACE) !== 0) fail(Errno.INVAL);
      safeName(oldName);
      safeName(newName);
      libc.renameat2(this.dir(oldDirFd).hostFd, oldName, this.dir(newDirFd).hostFd, newName, flags);
      return {};
    });
    this.on(M.Getdents64, (q, window) => this.getdents(q, window));
    this.on(M.FListXattr, (q, window) => this.listXattr(q, window));
    this.on(M.FGetXattr, (q, window) => this.getXattr(q, window));
  }

  // ---- handlers ---------------------------------------------------------------------------------

  private mount(): RespOf<'Mount'> {
    const fd = libc.dupCloexec(this.rootFd);
    return { root: this.addControl(fd), readOnly: this.readOnly };
  }

  private walk({ dirFd, names }: ReqOf<'Walk'>, window: number): RespOf<'Walk'> {
    let cur = this.dir(dirFd).hostFd;
    // Before any host call, so a bad request fails with nothing opened: every name, and a reply
    // that must fit the window (one that did not would fail after the FDs were made).
    names.forEach(safeName);
    if (5 + names.length * WIRE_INODE_BYTES > window) fail(Errno.INVAL);
    const inodes: WireInode[] = [];
    let status = WalkStatus.Success;
    try {
      for (let i = 0; i < names.length; i++) {
        const fd = this.openChild(cur, names[i]!, libc.O_PATH, 0, true);
        if (fd < 0) { status = WalkStatus.NotExist; break; }
        const inode = this.addControl(fd);
        inodes.push(inode);
        const type = fileTypeOfMode(inode.stat.mode);
        if (type === FileType.SYMBOLIC_LINK) { status = WalkStatus.Symlink; break; }
        if (type !== FileType.DIRECTORY && i + 1 < names.length) { status = WalkStatus.NotDirectory; break; }
        cur = fd;
      }
    } catch (e) {
      for (const inode of inodes) this.closeId(inode.fd); // rule 2
      throw e;
    }
    return { status, inodes };
  }

  private walkStat({ dirFd, names }: ReqOf<'WalkStat'>, window: number): RespOf<'WalkStat'> {
    const start = this.dir(dirFd).hostFd;
    if (4 + names.length * WIRE_STAT_BYTES > window) fail(Errno.INVAL);
    const stats: WireStat[] = [];
    const rest = names[0] === '' ? names.slice(1) : names;
    rest.forEach(safeName);
    if (rest !== names) stats.push(libc.fstat(start));
    const opened: number[] = [];
    try {
      let cur = start;
      for (let i = 0; i < rest.length; i++) {
        // One component, not followed if it is a symlink: statx cannot leave `cur`. Only a
        // directory the walk goes on through is opened (beneath `cur`, as Walk does).
        const stat = this.statChild(cur, rest[i]!);
        if (stat === undefined) break;
        stats.push(stat);
        if (fileTypeOfMode(stat.mode) !== FileType.DIRECTORY || i + 1 === rest.length) break;
        const fd = this.openDirChild(cur, rest[i]!);
        if (fd === SWAPPED) {
          // Replaced by a non-directory between the two calls: answer with what is there now,
          // where the walk ends, rather than walk on through an FD that is no directory (ENOTDIR).
          const now = this.statChild(cur, rest[i]!);
          if (now === undefined) stats.pop(); else stats[stats.length - 1] = now;
          break;
        }
        if (fd < 0) break; // removed between the two calls: as if it had not been there
        opened.push(fd);
        cur = fd;
      }
    } finally {
      opened.forEach(closeQuietly);
    }
    return { stats };
  }

  private openAt({ fd, flags }: ReqOf<'OpenAt'>): RespOf<'OpenAt'> {
    const acc = flags & OPEN_ACCMODE;
    if ((flags & ~(OPEN_ACCMODE | OPEN_TRUNC)) !== 0 || acc === OPEN_ACCMODE) fail(Errno.INVAL);
    const c = this.control(fd);
    const writes = acc !== OPEN_RDONLY || (flags & OPEN_TRUNC) !== 0;
    if (writes && this.readOnly) fail(Errno.ROFS);
    let extra = 0;
    switch (c.type) {
      case FileType.REGULAR_FILE: break;
      case FileType.DIRECTORY: if (writes) fail(Errno.ISDIR); extra = libc.O_DIRECTORY; break;
      case FileType.SYMBOLIC_LINK: fail(Errno.LOOP);
      // FIFOs, sockets and devices could block the gofer or reach host devices.
      default: fail(Errno.NOTSUP);
    }
    const hostFd = libc.openat(this.procSelfFd, String(c.hostFd), flags | extra | libc.O_CLOEXEC | libc.O_NOCTTY);
    return { openFd: this.addOpen(hostFd, c.type, acc) };
  }

  private openCreateAt({ dirFd, name, mode, flags }: ReqOf<'OpenCreateAt'>): RespOf<'OpenCreateAt'> {
    const acc = flags & OPEN_ACCMODE;
    if ((flags & ~(OPEN_ACCMODE | OPEN_TRUNC)) !== 0 || acc === OPEN_ACCMODE) fail(Errno.INVAL);
    safeName(name);
    const dir = this.dir(dirFd).hostFd;
    const hostFd = this.openChild(dir, name, flags | libc.O_CREAT | libc.O_EXCL, mode & 0o7777, false);
    let ctl = -1;
    try {
      // The control FD comes from the open file itself, so no one can swap the name in between.
      ctl = libc.openat(this.procSelfFd, String(hostFd), libc.O_PATH | libc.O_CLOEXEC);
      const child = this.addControl(ctl);
      return { child, openFd: this.addOpen(hostFd, FileType.REGULAR_FILE, acc) };
    } catch (e) {
      closeQuietly(hostFd);
      if (ctl >= 0) closeQuietly(ctl);
      undo(() => libc.unlinkat(dir, name, 0)); // rule 2
      throw e;
    }
  }

  /** Makes `name` in `dirFd` with `make`, then walks to it; undoes the make if the walk fails. */
  private createChild(dirFd: FdId, name: string, openFlags: number, unlinkFlags: number, make: (dir: number) => void): RespOf<'MkdirAt'> {
    safeName(name);
    const dir = this.dir(dirFd).hostFd;
    make(dir);
    try {
      return { child: this.addControl(this.openChild(dir, name, libc.O_PATH | openFlags, 0, false)) };
    } catch (e) {
      undo(() => libc.unlinkat(dir, name, unlinkFlags)); // rule 2
      throw e;
    }
  }

  private setStat({ fd, mask, size, atimeNs, mtimeNs }: ReqOf<'SetStat'>): RespOf<'SetStat'> {
    const f = this.opens.get(fd) ?? this.control(fd);
    let failureMask = 0, failureErrno = 0;
    const attempt = (bits: number, op: () => void): void => {
      try { op(); } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
        failureMask |= bits;
        failureErrno = e.errno;
      }
    };
    if (mask & SETSTAT_SIZE) attempt(SETSTAT_SIZE, () => this.truncate(f, size));
    const timeBits = mask & (SETSTAT_ATIME | SETSTAT_MTIME | SETSTAT_ATIME_NOW | SETSTAT_MTIME_NOW);
    if (timeBits) {
      const at = mask & SETSTAT_ATIME_NOW ? 'now' : mask & SETSTAT_ATIME ? atimeNs : 'omit';
      const mt = mask & SETSTAT_MTIME_NOW ? 'now' : mask & SETSTAT_MTIME ? mtimeNs : 'omit';
      // AT_EMPTY_PATH sets the times of the FD's own node, O_PATH and symlinks included.
      attempt(timeBits, () => libc.utimensat(f.hostFd, '', at, mt, libc.AT_EMPTY_PATH));
    }
    return { failureMask, failureErrno };
  }

  private truncate(f: ControlFd | OpenFd, size: number): void {
    if (f.type === FileType.DIRECTORY) fail(Errno.ISDIR);
    if (f.type !== FileType.REGULAR_FILE) fail(Errno.INVAL);
    if ('writable' in f && f.writable) { libc.ftruncate(f.hostFd, size); return; }
    const w = libc.openat(this.procSelfFd, String(f.hostFd), libc.O_WRONLY | libc.O_CLOEXEC | libc.O_NOCTTY);
    try { libc.ftruncate(w, size); } finally { closeQuietly(w); }
  }

  /** Host xattr lists and values land here before the reply copies them out. */
  private readonly xattrBuf = new Uint8Array(Math.max(XATTR_LIST_MAX, XATTR_SIZE_MAX));

  private listXattr({ fd, size }: ReqOf<'FListXattr'>, window: number): RespOf<'FListXattr'> {
    if (size > XATTR_LIST_MAX) fail(Errno.INVAL);
    const n = this.withXattrFd(fd, (h) => libc.flistxattr(h, this.xattrBuf.subarray(0, size)));
    if (n > size) fail(Errno.RANGE); // size 0: the host only said how long the list is
    const names = libc.parseXattrList(this.xattrBuf, n);
    let replyBytes = 4;
    for (const name of names) replyBytes += 4 + Buffer.byteLength(name);
    if (replyBytes > window) fail(Errno.RANGE);
    return { names };
  }

  private getXattr({ fd, name, size }: ReqOf<'FGetXattr'>, window: number): RespOf<'FGetXattr'> {
    const bad = checkXattrName(name);
    if (bad !== Errno.SUCCESS) fail(bad);
    if (size > XATTR_SIZE_MAX) fail(Errno.INVAL);
    const max = Math.max(0, Math.min(size, window - 4));
    const n = this.withXattrFd(fd, (h) => libc.fgetxattr(h, name, this.xattrBuf.subarray(0, max)));
    if (n > max) fail(Errno.RANGE); // max 0: the host only said how long the value is
    return { value: this.xattrBuf.slice(0, n) };
  }

  /**
   * Runs `op` on a host FD that f*xattr calls accept for node `id`: an open FD as it is; a control
   * FD (O_PATH, which they refuse with EBADF) reopened read-only through the fd table, as OpenAt
   * does, and closed again. Only regular files and directories: Linux keeps user.* xattrs on
   * nothing else, and other nodes are never reopened (see the file comment). Those are ENOTSUP.
   */
  private withXattrFd<T>(id: FdId, op: (hostFd: number) => T): T {
    const o = this.opens.get(id);
    if (o) return op(o.hostFd);
    const c = this.control(id);
    if (c.type !== FileType.REGULAR_FILE && c.type !== FileType.DIRECTORY) fail(Errno.NOTSUP);
    const extra = c.type === FileType.DIRECTORY ? libc.O_DIRECTORY : 0;
    const h = libc.openat(this.procSelfFd, String(c.hostFd), libc.O_RDONLY | extra | libc.O_CLOEXEC | libc.O_NOCTTY);
    try { return op(h); } finally { closeQuietly(h); }
  }

  private readonly direntBuf = new Uint8Array(64 * 1024);
  private getdents({ fd, count }: ReqOf<'Getdents64'>, window: number): RespOf<'Getdents64'> {
    const f = this.open(fd);
    if (f.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    // A wire entry is at most 1 byte longer than the host's (21+len vs 8-aligned 20+len), so 9/10
    // of the budget in host bytes always fits: every entry the host hands out must be sent, as the
    // directory offset has already moved past it.
    const budget = Math.min(Math.abs(count), window, this.direntBuf.byteLength);
    const hostBytes = Math.floor((budget - 8) * 0.9);
    if (hostBytes < MAX_HOST_DIRENT) fail(Errno.INVAL); // too small for one entry
    if (count < 0) libc.lseek(f.hostFd, 0, libc.SEEK_SET);
    const n = libc.getdents64(f.hostFd, this.direntBuf.subarray(0, hostBytes));
    return { dirents: libc.parseDirents64(this.direntBuf, n) };
  }

  // ---- FD table ---------------------------------------------------------------------------------

  /**
   * Opens one validated component beneath `dir` without following symlinks or magic links. With
   * `missingOk`, ENOENT returns -1 instead of throwing (Walk reports it as a status).
   */
  private openChild(dir: number, name: string, flags: number, mode: number, missingOk: boolean): number {
    const f = flags | libc.O_NOFOLLOW | libc.O_CLOEXEC;
    try {
      if (this.haveOpenat2) {
        try {
          return libc.openat2(dir, name, f, mode, RESOLVE);
        } catch (e) {
          if (!(e instanceof SyscallError && e.errno === Errno.NOSYS)) throw e;
          this.haveOpenat2 = false; // before Linux 5.6: O_NOFOLLOW on a single component is as tight
        }
      }
      return libc.openat(dir, name, f, mode);
    } catch (e) {
      if (missingOk && e instanceof SyscallError && e.errno === Errno.NOENT) return -1;
      throw e;
    }
  }

  /**
   * Opens the directory `name` beneath `dir` (O_PATH), for a walk that has just seen it by statx:
   * -1 if it is gone since, SWAPPED if the name now holds something else (a symlink, a file).
   */
  private openDirChild(dir: number, name: string): number {
    try {
      return this.openChild(dir, name, libc.O_PATH | libc.O_DIRECTORY, 0, true);
    } catch (e) {
      if (e instanceof SyscallError && (e.errno === Errno.NOTDIR || e.errno === Errno.LOOP)) return SWAPPED;
      throw e;
    }
  }

  /** Attributes of one component of `dir`, never following it; undefined if it does not exist. */
  private statChild(dir: number, name: string): WireStat | undefined {
    return unlessNoent(() => libc.statx(dir, name, libc.AT_SYMLINK_NOFOLLOW));
  }

  private addControl(hostFd: number): WireInode {
    let stat: WireStat;
    try { stat = libc.fstat(hostFd); } catch (e) { closeQuietly(hostFd); throw e; }
    const id = this.nextId++;
    this.controls.set(id, { hostFd, type: fileTypeOfMode(stat.mode) });
    return { fd: id, stat };
  }

  private addOpen(hostFd: number, type: FileType, acc: number): FdId {
    const id = this.nextId++;
    this.opens.set(id, { hostFd, type, readable: acc !== libc.O_WRONLY, writable: acc !== libc.O_RDONLY });
    return id;
  }

  private closeId(id: FdId): void {
    const f = this.controls.get(id) ?? this.opens.get(id);
    if (!f) return;
    this.controls.delete(id);
    this.opens.delete(id);
    closeQuietly(f.hostFd);
  }

  private control(id: FdId): ControlFd {
    return this.controls.get(id) ?? fail(Errno.BADF);
  }

  private dir(id: FdId): ControlFd {
    const c = this.control(id);
    if (c.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    return c;
  }

  private open(id: FdId): OpenFd {
    return this.opens.get(id) ?? fail(Errno.BADF);
  }

  private writable(id: FdId): OpenFd {
    const f = this.open(id);
    if (!f.writable) fail(Errno.BADF);
    return f;
  }

  private anyFd(id: FdId): number {
    return (this.controls.get(id) ?? this.opens.get(id) ?? fail(Errno.BADF)).hostFd;
  }
}

/** Rule 1. */
function safeName(name: string): void {
  const e = checkName(name);
  if (e !== Errno.SUCCESS) fail(e);
}

/** A request must be exactly as long as its fields: trailing bytes mean the length lied. */
function closeQuietly(fd: number): void {
  try { libc.close(fd); } catch { /* the FD is gone either way */ }
}

/** Best-effort rollback: the original error is what the client must see. */
function undo(op: () => void): void {
  try { op(); } catch { /* nothing better to do */ }
}
