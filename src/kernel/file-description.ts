import { FileType, Whence } from '../wasi/abi.js';
import { Errno, fail } from '../wasi/errno.js';
import type { FileHandle, Stat, StatChange } from '../fs/vfs/filesystem.js';
import type { Location } from '../fs/vfs/mount.js';
import type { VirtualFilesystem } from '../fs/vfs/virtual-filesystem.js';

/** What `read` returns when the caller must wait (a blocking fd is held; a NONBLOCK one gets EAGAIN). */
export const WOULD_BLOCK = null;

export interface ReadReadiness {
  ready: boolean;
  nbytes: bigint;
  hangup: boolean;
}

/**
 * An open file as the Sentry sees it: offset, flags and the operations a guest can apply to it.
 * Shared by fd numbers after renumbering. Defaults fail the way Linux does for the wrong kind.
 */
export abstract class FileDescription {
  fdflags = 0;
  abstract readonly filetype: FileType;
  /** Where it lives in the VFS, for fs-backed descriptions. */
  readonly location: Location | undefined = undefined;

  /**
   * Reads into `dst` (a view of the reply window: the bytes land where the guest's reply goes,
   * nothing is allocated or copied on the way); the count, or WOULD_BLOCK.
   */
  read(_dst: Uint8Array): number | typeof WOULD_BLOCK { return fail(Errno.BADF); }
  pread(_dst: Uint8Array, _offset: number): number { return fail(Errno.SPIPE); }
  /** `data` is a view of the ring window, valid only during the call: copy what you keep. */
  write(_data: Uint8Array): number { return fail(Errno.BADF); }
  pwrite(_data: Uint8Array, _offset: number): number { return fail(Errno.SPIPE); }
  seek(_offset: bigint, _whence: Whence): bigint { return fail(Errno.SPIPE); }
  tell(): bigint { return fail(Errno.SPIPE); }
  abstract stat(): Stat;
  setSize(_size: number): void { fail(Errno.INVAL); }
  setTimes(_change: StatChange): void { fail(Errno.BADF); }
  sync(_dataOnly: boolean): void { /* nothing buffered */ }
  allocate(_offset: number, _length: number): void { fail(Errno.BADF); }
  /** Readiness for poll_oneoff's fd_read. */
  pollRead(): ReadReadiness { return { ready: true, nbytes: 0n, hangup: false }; }
  close(): void { /* nothing held */ }
}

/** A regular file opened through a filesystem. */
export class RegularFileDescription extends FileDescription {
  readonly filetype = FileType.REGULAR_FILE;
  private offset = 0;

  constructor(readonly vfs: VirtualFilesystem, override readonly location: Location, readonly handle: FileHandle,
    private readonly readable: boolean, private readonly writable: boolean) {
    super();
  }

  override read(dst: Uint8Array): number {
    if (!this.readable) fail(Errno.BADF);
    const n = this.handle.read(dst, this.offset);
    this.offset += n;
    return n;
  }

  override pread(dst: Uint8Array, offset: number): number {
    if (!this.readable) fail(Errno.BADF);
    return this.handle.read(dst, offset);
  }

  override write(data: Uint8Array): number {
    if (!this.writable) fail(Errno.BADF);
    // O_APPEND: every write lands at the end, whatever the offset.
    if (this.fdflags & 1) this.offset = this.handle.size();
    const n = this.handle.write(data, this.offset);
    this.offset += n;
    return n;
  }

  override pwrite(data: Uint8Array, offset: number): number {
    if (!this.writable) fail(Errno.BADF);
    // Linux: pwrite on an O_APPEND file appends; WASI runtimes agree.
    const at = this.fdflags & 1 ? this.handle.size() : offset;
    return this.handle.write(data, at);
  }

  override seek(offset: bigint, whence: Whence): bigint {
    let base: number;
    switch (whence) {
      case Whence.SET: base = 0; break;
      case Whence.CUR: base = this.offset; break;
      case Whence.END: base = this.handle.size(); break;
      default: return fail(Errno.INVAL);
    }
    const next = BigInt(base) + offset;
    if (next < 0n) fail(Errno.INVAL);
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.OVERFLOW);
    this.offset = Number(next);
    return next;
  }

  override tell(): bigint { return BigInt(this.offset); }
  override stat(): Stat { return this.vfs.stat(this.location); }

  override setSize(size: number): void {
    if (!this.writable) fail(Errno.INVAL);
    this.vfs.setStat(this.location, { size });
  }

  override setTimes(change: StatChange): void { this.vfs.setStat(this.location, change); }
  override sync(dataOnly: boolean): void { this.handle.sync(dataOnly); }

  override allocate(offset: number, length: number): void {
    if (!this.writable) fail(Errno.BADF);
    this.handle.allocate(offset, length);
  }

  override pollRead(): ReadReadiness {
    const size = this.handle.size();
    return { ready: true, nbytes: BigInt(Math.max(0, size - this.offset)), hangup: false };
  }

  override close(): void { this.handle.close(); }
}

export interface DirentRecord {
  name: Uint8Array;
  ino: bigint;
  type: FileType;
}

/** A directory. Readdir works on a snapshot taken at cookie 0, so cookies stay stable while it is read. */
export class DirectoryDescription extends FileDescription {
  readonly filetype = FileType.DIRECTORY;
  private snapshot: DirentRecord[] | undefined;
  private closed = false;

  /** Pins the directory in its filesystem's cache while the description lives (FilesystemImpl.pin). */
  constructor(readonly vfs: VirtualFilesystem, override readonly location: Location) {
    super();
    location.mount.fs.pin?.(location.inode);
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.location.mount.fs.unpin?.(this.location.inode);
  }

  override stat(): Stat { return this.vfs.stat(this.location); }
  override setTimes(change: StatChange): void { this.vfs.setStat(this.location, change); }
  override read(): number { return fail(Errno.ISDIR); }
  override write(): number { return fail(Errno.ISDIR); }
  override setSize(): void { fail(Errno.ISDIR); }
  override allocate(): void { fail(Errno.ISDIR); }

  /** Entries from `cookie` on; entry i's cookie (d_next) is i + 1. */
  entries(cookie: bigint): { list: DirentRecord[]; start: number } {
    if (cookie === 0n || this.snapshot === undefined) this.snapshot = this.takeSnapshot();
    const start = cookie > BigInt(this.snapshot.length) ? this.snapshot.length : Number(cookie);
    return { list: this.snapshot, start };
  }

  private takeSnapshot(): DirentRecord[] {
    const { mount, inode } = this.location;
    const fs = mount.fs;
    const parent = inode === mount.root ? inode : fs.parent(inode);
    const out: DirentRecord[] = [
      { name: DOT, ino: inode.ino, type: FileType.DIRECTORY },
      { name: DOTDOT, ino: parent.ino, type: FileType.DIRECTORY },
    ];
    for (const e of fs.readdir(inode)) out.push({ name: Buffer.from(e.name), ino: e.ino, type: e.type });
    return out;
  }
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
