import { copyBytes } from '../../actors/byte-copy.js';
import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { DirEntry, FileHandle, FilesystemImpl, Inode, OpenAccess, Stat, StatChange } from '../vfs/filesystem.js';
import { MemoryMedium, type FileDataMedium } from './file-data-medium.js';
import { TmpInode, nowNs } from './tmp-inode.js';

export interface TmpfsLimits {
  /** Bytes of file data (ENOSPC past it). */
  sizeBytes: number;
  /** Inodes of any kind (ENOSPC past it). */
  maxInodes: number;
}

/** Finite by default, unlike gVisor's unbounded overlay upper (gVisor #11504, #2536). */
export const DEFAULT_TMPFS_LIMITS: TmpfsLimits = { sizeBytes: 512 * 1024 * 1024, maxInodes: 1 << 17 };

/** Longest file tmpfs stores: one JS typed array. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/** A filesystem in the Sentry's memory. Costs no RPC and no host syscall. */
export class TmpFilesystem implements FilesystemImpl {
  readonly kind = 'tmpfs';
  private readonly rootInode: TmpInode;
  private nextIno = 1n;
  private inodes = 0;
  private bytes = 0;

  constructor(
    readonly dev: bigint,
    readonly limits: TmpfsLimits = DEFAULT_TMPFS_LIMITS,
    readonly medium: FileDataMedium = new MemoryMedium(),
  ) {
    this.rootInode = this.allocate(FileType.DIRECTORY, 0o755);
    this.rootInode.parent = this.rootInode;
  }

  get usage(): { bytes: number; inodes: number } { return { bytes: this.bytes, inodes: this.inodes }; }

  private allocate(type: FileType, mode: number, target?: string): TmpInode {
    if (this.inodes >= this.limits.maxInodes) fail(Errno.NOSPC);
    this.inodes++;
    return new TmpInode(this.nextIno++, type, mode, target);
  }

  private forget(inode: TmpInode): void {
    if (inode.nlink > 0 || inode.openCount > 0) return;
    this.inodes--;
    this.bytes -= inode.size;
    this.medium.free(inode.data);
    inode.data = new Uint8Array(0);
    inode.size = 0;
  }

  private dir(inode: Inode): TmpInode & { children: Map<string, TmpInode> } {
    const d = inode as TmpInode;
    if (d.children === undefined) fail(Errno.NOTDIR);
    return d as TmpInode & { children: Map<string, TmpInode> };
  }

  root(): Inode { return this.rootInode; }

  parent(dir: Inode): Inode { return (dir as TmpInode).parent ?? dir; }

  lookup(dir: Inode, name: string): Inode {
    return this.dir(dir).children.get(name) ?? fail(Errno.NOENT);
  }

  find(dir: Inode, name: string): Inode | undefined {
    return this.dir(dir).children.get(name);
  }

  stat(inode: Inode): Stat {
    const n = inode as TmpInode;
    const size = n.type === FileType.SYMBOLIC_LINK ? Buffer.byteLength(n.target ?? '')
      : n.type === FileType.DIRECTORY ? n.children!.size : n.size;
    return {
      dev: this.dev, ino: n.ino, type: n.type, nlink: BigInt(n.nlink), size: BigInt(size),
      atim: n.atim, mtim: n.mtim, ctim: n.ctim, mode: n.mode, uid: n.uid, gid: n.gid,
    };
  }

  setStat(inode: Inode, change: StatChange): void {
    const n = inode as TmpInode;
    if (change.size !== undefined) {
      if (n.type !== FileType.REGULAR_FILE) fail(n.type === FileType.DIRECTORY ? Errno.ISDIR : Errno.INVAL);
      this.resize(n, change.size);
      n.touchModified();
    }
    const now = nowNs();
    if (change.atim !== undefined) n.atim = change.atim === 'now' ? now : change.atim;
    if (change.mtim !== undefined) n.mtim = change.mtim === 'now' ? now : change.mtim;
    if (change.mode !== undefined) n.mode = change.mode & 0o7777;
    if (change.uid !== undefined) n.uid = change.uid >>> 0;
    if (change.gid !== undefined) n.gid = change.gid >>> 0;
    n.ctim = now;
  }

  /** Sets the logical size, charging the byte limit; the buffer grows geometrically. */
  resize(n: TmpInode, size: number): void {
    if (size > MAX_FILE_BYTES) fail(Errno.FBIG);
    const delta = size - n.size;
    if (delta > 0 && this.bytes + delta > this.limits.sizeBytes) fail(Errno.NOSPC);
    if (size > n.data.byteLength) {
      const grown = this.medium.allocate(Math.min(MAX_FILE_BYTES, Math.max(size, n.data.byteLength * 2, 64)));
      grown.set(n.data.subarray(0, n.size));
      this.medium.free(n.data);
      n.data = grown;
    } else if (size < n.size) {
      n.data.fill(0, size, n.size);
    }
    n.size = size;
    this.bytes += delta;
  }

  readlink(link: Inode): string {
    const n = link as TmpInode;
    if (n.target === undefined) fail(Errno.INVAL);
    n.atim = nowNs();
    return n.target;
  }

  open(inode: Inode, access: OpenAccess): FileHandle {
    const n = inode as TmpInode;
    if (n.type !== FileType.REGULAR_FILE) fail(Errno.INVAL);
    // O_TRUNC marks the file modified even when it was empty already (POSIX open(), Linux).
    if (access.truncate) { if (n.size > 0) this.resize(n, 0); n.touchModified(); }
    n.openCount++;
    return new TmpFileHandle(this, n);
  }

  /** Called by a handle on close. */
  closed(n: TmpInode): void {
    n.openCount--;
    this.forget(n);
  }

  private insert(dir: Inode, name: string, child: TmpInode): TmpInode {
    const d = this.dir(dir);
    if (d.nlink === 0) fail(Errno.NOENT);
    if (d.children.has(name)) fail(Errno.EXIST);
    d.children.set(name, child);
    d.touchModified();
    return child;
  }

  create(dir: Inode, name: string, mode: number): Inode {
    this.dir(dir);
    return this.insert(dir, name, this.allocate(FileType.REGULAR_FILE, mode));
  }

  mkdir(dir: Inode, name: string, mode: number): Inode {
    const d = this.dir(dir);
    if (d.children.has(name)) fail(Errno.EXIST);
    const child = this.insert(dir, name, this.allocate(FileType.DIRECTORY, mode));
    child.parent = d;
    d.nlink++;
    return child;
  }

  symlink(dir: Inode, name: string, target: string): Inode {
    if (this.dir(dir).children.has(name)) fail(Errno.EXIST);
    return this.insert(dir, name, this.allocate(FileType.SYMBOLIC_LINK, 0o777, target));
  }

  /** A character device with device number `rdev`: the overlay's whiteouts (0:0). Nothing opens one. */
  mknodChar(dir: Inode, name: string, rdev: number): Inode {
    if (this.dir(dir).children.has(name)) fail(Errno.EXIST);
    const n = this.insert(dir, name, this.allocate(FileType.CHARACTER_DEVICE, 0));
    n.rdev = rdev;
    return n;
  }

  /** The device number of a device file, else undefined. */
  rdevOf(inode: Inode): number | undefined {
    const n = inode as TmpInode;
    return n.type === FileType.CHARACTER_DEVICE || n.type === FileType.BLOCK_DEVICE ? n.rdev : undefined;
  }

  getXattr(inode: Inode, name: string): string | Uint8Array | undefined {
    return (inode as TmpInode).xattrs?.get(name);
  }

  /** A copy of every xattr (FilesystemImpl.listXattrs). */
  listXattrs(inode: Inode): Map<string, string | Uint8Array> {
    return new Map((inode as TmpInode).xattrs);
  }

  /** Sets one xattr; a byte value is kept as given (the caller hands over a copy it will not change). */
  setXattr(inode: Inode, name: string, value: string | Uint8Array): void {
    const n = inode as TmpInode;
    (n.xattrs ??= new Map()).set(name, value);
    n.ctim = nowNs();
  }

  /**
   * A new name for `target`. With `unlinked`, also for a file whose last name is gone while it is
   * still open (Linux's linkat of an O_TMPFILE file): the overlay gives a hard-linked lower file,
   * copied up and then unlinked through one name, a name again through another (OverlayFilesystem).
   */
  link(dir: Inode, name: string, target: Inode, unlinked = false): void {
    const t = target as TmpInode;
    if (t.type === FileType.DIRECTORY) fail(Errno.PERM);
    if (t.nlink === 0 && !(unlinked && t.openCount > 0)) fail(Errno.NOENT);
    this.insert(dir, name, t);
    t.nlink++;
    t.ctim = nowNs();
  }

  unlink(dir: Inode, name: string): void {
    const d = this.dir(dir);
    const child = d.children.get(name);
    if (child === undefined) fail(Errno.NOENT);
    if (child.type === FileType.DIRECTORY) fail(Errno.ISDIR);
    d.children.delete(name);
    d.touchModified();
    child.nlink--;
    child.ctim = nowNs();
    this.forget(child);
  }

  rmdir(dir: Inode, name: string): void {
    const d = this.dir(dir);
    const child = d.children.get(name);
    if (child === undefined) fail(Errno.NOENT);
    if (child.children === undefined) fail(Errno.NOTDIR);
    if (child.children.size > 0) fail(Errno.NOTEMPTY);
    d.children.delete(name);
    d.nlink--;
    d.touchModified();
    child.nlink = 0;
    this.forget(child);
  }

  rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void {
    const from = this.dir(oldDir);
    const to = this.dir(newDir);
    const child = from.children.get(oldName);
    if (child === undefined) fail(Errno.NOENT);
    const victim = to.children.get(newName);
    if (victim === child) return;
    const isDir = child.type === FileType.DIRECTORY;
    if (victim !== undefined) {
      if (victim.type === FileType.DIRECTORY) {
        if (!isDir) fail(Errno.ISDIR);
        if (victim.children!.size > 0) fail(Errno.NOTEMPTY);
      } else if (isDir) fail(Errno.NOTDIR);
    }
    if (victim !== undefined) {
      to.children.delete(newName);
      if (victim.type === FileType.DIRECTORY) { victim.nlink = 0; to.nlink--; } else victim.nlink--;
      victim.ctim = nowNs();
      this.forget(victim);
    }
    from.children.delete(oldName);
    to.children.set(newName, child);
    if (isDir && from !== to) { from.nlink--; to.nlink++; child.parent = to; }
    from.touchModified();
    to.touchModified();
    child.ctim = nowNs();
  }

  readdir(dir: Inode): DirEntry[] {
    const d = this.dir(dir);
    d.atim = nowNs();
    const out: DirEntry[] = [];
    for (const [name, child] of d.children) out.push({ name, ino: child.ino, type: child.type });
    return out;
  }

  release(): void {
    this.rootInode.children!.clear();
    this.medium.release();
  }
}

class TmpFileHandle implements FileHandle {
  private closedAlready = false;
  constructor(private readonly fs: TmpFilesystem, private readonly n: TmpInode) {}

  read(dst: Uint8Array, offset: number): number {
    const n = this.n;
    if (offset >= n.size) return 0;
    const count = Math.min(dst.byteLength, n.size - offset);
    copyBytes(dst, n.data.subarray(offset, offset + count));
    n.atim = nowNs();
    return count;
  }

  write(src: Uint8Array, offset: number): number {
    const n = this.n;
    const end = offset + src.byteLength;
    if (end > n.size) this.fs.resize(n, end);
    copyBytes(n.data, src, offset);
    n.touchModified();
    return src.byteLength;
  }

  size(): number { return this.n.size; }
  sync(): void { /* memory is the medium */ }

  allocate(offset: number, length: number): void {
    const end = offset + length;
    if (end > this.n.size) { this.fs.resize(this.n, end); this.n.touchModified(); }
  }

  close(): void {
    if (this.closedAlready) return;
    this.closedAlready = true;
    this.fs.closed(this.n);
  }
}
