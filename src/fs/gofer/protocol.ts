/**
 * The gofer wire protocol: the one file both ends import. Modelled on LISAFS (gVisor pkg/lisafs,
 * GVISOR-NOTES §1); message ids keep LISAFS's numbers so the two tables read side by side.
 *
 * Transport: one request/response ring (src/actors). The request's message id goes in the ring's
 * CODE slot; the response's CODE slot holds the status: 0, or a WASI errno. A non-zero status
 * carries no payload. Payload fields are little-endian, in the order listed; strings and byte
 * arrays are a u32 length then the bytes; arrays are a u32 count then the items.
 *
 * Rules every server keeps (the client relies on them):
 *  1. Names are single components. Empty, `.`, `..`, or containing `/` or NUL → EINVAL; longer than
 *     NAME_MAX bytes → ENAMETOOLONG. So `..` and symlinks are always resolved by the Sentry, never
 *     by the gofer; the server never follows a symlink, never resolves a host path string.
 *  2. A failed RPC has no side effects: a create that fails after making the file removes it, a
 *     Walk that fails closes every FD it opened. The one exception is SetStat, which reports a
 *     partial failure by mask (like LISAFS), because truncate and utimes are separate host calls.
 *  3. A read-only connection answers EROFS for every mutation (messages marked `mutates`, and
 *     OpenAt for writing or truncating), before touching the host.
 *  4. FD ids (control and open FDs share one space) come from a counter and are never reused, so a
 *     stale id can only be EBADF, never someone else's file. Close of an unknown id is ignored.
 *  5. A malformed request (a length that lies, a field beyond the frame) is EINVAL; an unknown
 *     message id is ENOTSUP; a server bug is EIO. None of them stops the server.
 *
 * Control FD: a handle on one file node (O_PATH on the host), made by Mount, Walk or a create; it
 * can be walked from, stat'ed and mutated but not read. Open FD: made by OpenAt/OpenCreateAt with
 * an access mode; it does I/O and Getdents64 but cannot be walked from.
 */
import { FrameError, type FrameReader, type FrameWriter } from '../../actors/frame.js';
import { Errno } from '../../wasi/errno.js';
import { FileType } from '../../wasi/abi.js';
import { NAME_MAX } from '../vfs/filesystem.js';

// ---- codecs -------------------------------------------------------------------------------------

/** How one value crosses the window. Method syntax on purpose: a Codec<number> is a Codec<unknown>. */
export interface Codec<T> {
  put(w: FrameWriter, v: T): void;
  get(r: FrameReader): T;
}

type Fields = Record<string, Codec<unknown>>;
type Decoded<S extends Fields> = { [K in keyof S]: Infer<S[K]> };
/** The value type a codec carries. */
export type Infer<C> = C extends Codec<infer T> ? T : never;

export const u8: Codec<number> = { put: (w, v) => { w.u8(v); }, get: (r) => r.u8() };
export const u32: Codec<number> = { put: (w, v) => { w.u32(v); }, get: (r) => r.u32() };
export const i32: Codec<number> = { put: (w, v) => { w.i32(v); }, get: (r) => r.i32() };
/** u64 carried as a JS number (ids, offsets, sizes below 2^53; a larger one is a malformed frame). */
export const u64n: Codec<number> = { put: (w, v) => { w.u64n(v); }, get: (r) => r.u64n() };
export const u64: Codec<bigint> = { put: (w, v) => { w.u64(v); }, get: (r) => r.u64() };
export const i64: Codec<bigint> = { put: (w, v) => { w.i64(v); }, get: (r) => r.i64() };
export const str: Codec<string> = { put: (w, v) => { w.string(v); }, get: (r) => r.string() };
/**
 * Bytes decoded as a view into the window, not a copy: valid only until the reply is written, so a
 * handler must consume it (pwrite it) before encoding its response.
 */
export const bytesView: Codec<Uint8Array> = { put: (w, v) => { w.bytes(v); }, get: (r) => r.bytesView() };
/** Bytes decoded as a copy: for a reply the client keeps (an xattr value). */
export const bytes: Codec<Uint8Array> = { put: (w, v) => { w.bytes(v); }, get: (r) => r.bytes() };
export const bool: Codec<boolean> = { put: (w, v) => { w.u8(v ? 1 : 0); }, get: (r) => r.u8() !== 0 };

export function struct<S extends Fields>(fields: S): Codec<Decoded<S>> {
  const keys = Object.keys(fields) as (keyof S & string)[];
  return {
    put(w, v) { for (const k of keys) fields[k]!.put(w, v[k]); },
    get(r) {
      const o = {} as Decoded<S>;
      for (const k of keys) o[k] = fields[k]!.get(r) as Decoded<S>[typeof k];
      return o;
    },
  };
}

/** A u32 count then the items; a count above `max` is a malformed frame (bounds the allocation). */
export function array<T>(item: Codec<T>, max: number): Codec<T[]> {
  return {
    put(w, v) { w.u32(v.length); for (const x of v) item.put(w, x); },
    get(r) {
      const n = r.u32();
      if (n > max || n > r.remaining) badFrame(`array of ${n}`);
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = item.get(r);
      return out;
    },
  };
}

function badFrame(what: string): never {
  throw new FrameError(`malformed frame: ${what}`);
}

// ---- shared shapes ------------------------------------------------------------------------------

/** An FD id: control or open. */
export const fdid = u64n;
export type FdId = number;

/**
 * A file's attributes in the host's widths (statx). `mode` holds the S_IFMT type bits and the
 * permission bits; times are nanoseconds since the epoch. 72 bytes on the wire.
 */
export const wireStat = struct({
  ino: u64, dev: u64, mode: u32, nlink: u32, uid: u32, gid: u32, size: u64, blocks: u64,
  atimeNs: i64, mtimeNs: i64, ctimeNs: i64,
});
export type WireStat = Infer<typeof wireStat>;
export const WIRE_STAT_BYTES = 72;

/** A control FD and the attributes of the node it holds (LISAFS `Inode`). 80 bytes on the wire. */
export const wireInode = struct({ fd: fdid, stat: wireStat });
export interface WireInode { fd: FdId; stat: WireStat }
export const WIRE_INODE_BYTES = 8 + WIRE_STAT_BYTES;

// Linux file-type bits and dirent types: the wire carries the host's values.
const S_IFMT = 0o170000, S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000;
const S_IFBLK = 0o060000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFSOCK = 0o140000;

/** The WASI file type of a wire `mode`. FIFOs have no WASI type: UNKNOWN. */
export function fileTypeOfMode(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG: return FileType.REGULAR_FILE;
    case S_IFDIR: return FileType.DIRECTORY;
    case S_IFLNK: return FileType.SYMBOLIC_LINK;
    case S_IFCHR: return FileType.CHARACTER_DEVICE;
    case S_IFBLK: return FileType.BLOCK_DEVICE;
    case S_IFSOCK: return FileType.SOCKET_STREAM;
    case S_IFIFO: default: return FileType.UNKNOWN;
  }
}

/** The WASI file type of a Linux DT_* dirent type. */
export function fileTypeOfDirent(dt: number): FileType {
  switch (dt) {
    case 8: return FileType.REGULAR_FILE;
    case 4: return FileType.DIRECTORY;
    case 10: return FileType.SYMBOLIC_LINK;
    case 2: return FileType.CHARACTER_DEVICE;
    case 6: return FileType.BLOCK_DEVICE;
    case 12: return FileType.SOCKET_STREAM;
    default: return FileType.UNKNOWN;
  }
}

/** Rule 1: 0 when `name` is one safe component, else the errno the server answers. */
export function checkName(name: string): Errno {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return Errno.INVAL;
  if (Buffer.byteLength(name) > NAME_MAX) return Errno.NAMETOOLONG;
  return Errno.SUCCESS;
}

/** Most components one Walk may carry (LISAFS: u16). The reply must also fit the window. */
export const MAX_WALK_NAMES = 4096;
/** Most FD ids in one Close. */
export const MAX_CLOSE_FDS = 4096;
/** Close batches this many FD ids before sending on its own (LISAFS `fdsToCloseBatchSize`). */
export const CLOSE_BATCH = 100;

/** Walk's outcome (LISAFS WalkStatus, plus NotDirectory). The inodes walked so far come with it. */
export const enum WalkStatus {
  /** Every name was walked. */
  Success = 0,
  /** The last inode returned is a symlink; the names after it were not walked. */
  Symlink = 1,
  /** The name after the last inode returned does not exist (ENOENT, or its directory was deleted). */
  NotExist = 2,
  /** The last inode returned is neither a directory nor a symlink, and names remain. */
  NotDirectory = 3,
}

/** OpenAt/OpenCreateAt flags: the Linux values. Anything else in `flags` is EINVAL. */
export const OPEN_RDONLY = 0, OPEN_WRONLY = 1, OPEN_RDWR = 2, OPEN_ACCMODE = 3, OPEN_TRUNC = 0o1000;

/** UnlinkAt flag (Linux AT_REMOVEDIR): remove a directory. */
export const UNLINK_REMOVEDIR = 0x200;
/** RenameAt flag (Linux RENAME_NOREPLACE). */
export const RENAME_NOREPLACE = 1;

/**
 * Xattr bounds (Linux's XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX). A request's `size` above
 * its bound is EINVAL; a reply that would not fit `size` or the window is ERANGE, as from the host.
 */
export const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_LIST_MAX = 65536;
/** Most names one FListXattr reply carries: each takes at least 2 bytes of XATTR_LIST_MAX. */
export const MAX_XATTR_NAMES = XATTR_LIST_MAX / 2;

/** 0 when `name` can be an xattr name, else the errno (empty or NUL: EINVAL; too long: ERANGE, as Linux). */
export function checkXattrName(name: string): Errno {
  if (name === '' || name.includes('\0')) return Errno.INVAL;
  if (Buffer.byteLength(name) > XATTR_NAME_MAX) return Errno.RANGE;
  return Errno.SUCCESS;
}

/** SetStat mask bits. A time with its *_NOW bit set takes the host's clock; its value is ignored. */
export const SETSTAT_SIZE = 1, SETSTAT_ATIME = 2, SETSTAT_MTIME = 4, SETSTAT_ATIME_NOW = 8, SETSTAT_MTIME_NOW = 16;

// ---- messages -----------------------------------------------------------------------------------

export interface Message<Req, Resp> {
  readonly id: number;
  readonly name: string;
  /** Rule 3: EROFS on a read-only connection. */
  readonly mutates: boolean;
  readonly req: Codec<Req>;
  readonly resp: Codec<Resp>;
}

function message<Req, Resp>(id: number, name: string, mutates: boolean, req: Codec<Req>, resp: Codec<Resp>): Message<Req, Resp> {
  return { id, name, mutates, req, resp };
}

const empty = struct({});
const childResp = struct({ child: wireInode });

/**
 * The message table. Ids are LISAFS's; 2 (Channel), 14 (MknodAt), 20 (Flush), 21, 26 (FSetXattr),
 * 28 (FRemoveXattr) and 29+ are unused.
 */
export const M = {
  /** → the root's control FD. Call once per connection. */
  Mount: message(1, 'Mount', false, empty, struct({ root: wireInode, readOnly: bool })),
  /** Attributes of a control or open FD. */
  FStat: message(3, 'FStat', false, struct({ fd: fdid }), wireStat),
  /** Truncate and/or set times (SETSTAT_* mask); partial failure → failureMask + failureErrno. */
  SetStat: message(4, 'SetStat', true,
    struct({ fd: fdid, mask: u32, size: u64n, atimeNs: i64, mtimeNs: i64 }),
    struct({ failureMask: u32, failureErrno: u32 })),
  /**
   * Walks `names` from the directory control FD `dirFd`, one component at a time, never following
   * a symlink; a new control FD per component. Stopping early (WalkStatus) is a success; any other
   * error fails the whole RPC and closes what it opened.
   */
  Walk: message(5, 'Walk', false,
    struct({ dirFd: fdid, names: array(str, MAX_WALK_NAMES) }),
    struct({ status: u8, inodes: array(wireInode, MAX_WALK_NAMES) })),
  /**
   * Like Walk but returns only attributes and opens no FD. `names[0] === ''` asks for `dirFd`'s own
   * stat first. Stops after a symlink (included) or before a missing name; the count says where.
   */
  WalkStat: message(6, 'WalkStat', false,
    struct({ dirFd: fdid, names: array(str, MAX_WALK_NAMES) }),
    struct({ stats: array(wireStat, MAX_WALK_NAMES) })),
  /** Opens the node a control FD holds, for I/O (regular files) or Getdents64 (directories, read-only). */
  OpenAt: message(7, 'OpenAt', false, struct({ fd: fdid, flags: u32 }), struct({ openFd: fdid })),
  /** Creates and opens a regular file (O_CREAT|O_EXCL implied): EEXIST if the name is taken. */
  OpenCreateAt: message(8, 'OpenCreateAt', true,
    struct({ dirFd: fdid, name: str, mode: u32, flags: u32 }),
    struct({ child: wireInode, openFd: fdid })),
  /** Closes a batch of control and open FDs. Never fails; unknown ids are ignored. */
  Close: message(9, 'Close', false, struct({ fds: array(fdid, MAX_CLOSE_FDS) }), empty),
  /** fsync/fdatasync of one open FD (unlike LISAFS's batch, the errno matters to the guest). */
  FSync: message(10, 'FSync', false, struct({ fd: fdid, dataOnly: bool }), empty),
  /** Writes `data` at `offset`; → bytes written (may be short). */
  PWrite: message(11, 'PWrite', true, struct({ fd: fdid, offset: u64n, data: bytesView }), struct({ written: u32 })),
  /** Reads up to `count` bytes at `offset` (0 bytes at end of file). The reply is written in place. */
  PRead: message(12, 'PRead', false, struct({ fd: fdid, offset: u64n, count: u32 }), struct({ data: bytesView })),
  MkdirAt: message(13, 'MkdirAt', true, struct({ dirFd: fdid, name: str, mode: u32 }), childResp),
  SymlinkAt: message(15, 'SymlinkAt', true, struct({ dirFd: fdid, name: str, target: str }), childResp),
  /** Gives the non-directory `targetFd` holds a new name; the server never follows a symlink here. */
  LinkAt: message(16, 'LinkAt', true, struct({ dirFd: fdid, name: str, targetFd: fdid }), childResp),
  FStatFS: message(17, 'FStatFS', false, struct({ fd: fdid }),
    struct({ type: u64, bsize: u64, blocks: u64, bfree: u64, bavail: u64, files: u64, ffree: u64, namelen: u64 })),
  FAllocate: message(18, 'FAllocate', true, struct({ fd: fdid, mode: u32, offset: u64n, length: u64n }), empty),
  /** The target of the symlink a control FD holds (no traversal). */
  ReadLinkAt: message(19, 'ReadLinkAt', false, struct({ fd: fdid }), struct({ target: str })),
  /** Removes `name`; UNLINK_REMOVEDIR for a directory. */
  UnlinkAt: message(22, 'UnlinkAt', true, struct({ dirFd: fdid, name: str, flags: u32 }), empty),
  /** renameat2 with `flags` 0 or RENAME_NOREPLACE. */
  RenameAt: message(23, 'RenameAt', true,
    struct({ oldDirFd: fdid, oldName: str, newDirFd: fdid, newName: str, flags: u32 }), empty),
  /**
   * Entries from an open directory FD, continuing where the last call stopped; a negative `count`
   * rewinds first. |count| bounds the reply's size in bytes. No entries = the end. Names are UTF-8.
   */
  Getdents64: message(24, 'Getdents64', false, struct({ fd: fdid, count: i32 }),
    struct({ dirents: array(struct({ ino: u64, off: i64, type: u8, name: str }), 65536) })),
  /**
   * The value of xattr `name` of a control or open FD's node, at most `size` (<= XATTR_SIZE_MAX)
   * bytes. A missing name is NOENT (Linux ENODATA; WASI has no such errno); a value longer than
   * `size`, or than the window, is ERANGE. Only regular files and directories are read (Linux allows
   * user.* on nothing else): any other node is ENOTSUP.
   */
  FGetXattr: message(25, 'FGetXattr', false, struct({ fd: fdid, name: str, size: u32 }), struct({ value: bytes })),
  /**
   * The xattr names of a control or open FD's node; `size` (<= XATTR_LIST_MAX) bounds the host's
   * list (names and their NULs): longer, or a reply longer than the window, is ERANGE. A host
   * filesystem without xattrs answers ENOTSUP, as do nodes other than regular files and directories.
   * Names are UTF-8.
   */
  FListXattr: message(27, 'FListXattr', false, struct({ fd: fdid, size: u32 }), struct({ names: array(str, MAX_XATTR_NAMES) })),
} as const;

export type MessageName = keyof typeof M;
export type ReqOf<N extends MessageName> = Infer<(typeof M)[N]['req']>;
export type RespOf<N extends MessageName> = Infer<(typeof M)[N]['resp']>;

/** id → message name, for stats and errors. */
export const MESSAGE_NAMES: ReadonlyMap<number, MessageName> = new Map(
  (Object.keys(M) as MessageName[]).map((n) => [M[n].id, n]),
);

/**
 * Writes a PRead reply without a copy: `fill` reads straight into the window (at most `max` bytes)
 * and returns the count. Same wire shape as `M.PRead.resp`.
 */
export function putPReadResp(w: FrameWriter, max: number, fill: (dst: Uint8Array) => number): void {
  const lenAt = w.reserve(4);
  const start = w.pos;
  const n = fill(w.window.subarray(start, start + Math.min(max, w.remaining)));
  w.reserve(n);
  const end = w.pos;
  w.pos = lenAt;
  w.u32(n);
  w.pos = end;
}

/** Bytes a Getdents64 entry takes on the wire besides its name. */
export const DIRENT_WIRE_OVERHEAD = 8 + 8 + 1 + 4;
