import type { FileType } from '../../wasi/abi.js';

/**
 * The rest of a path being walked, asked for only when a lookup misses its cache: listing it
 * costs an array, and most lookups hit.
 */
export interface PathAhead {
  /** The components after the one being looked up, up to the first `..` (`.` left out). */
  ahead(): readonly string[];
}

const NO_NAMES: readonly string[] = Object.freeze([]);
/** For a lookup that is not part of a longer walk. */
export const NOTHING_AHEAD: PathAhead = { ahead: () => NO_NAMES };

/**
 * The contract between the VFS and each filesystem (tmpfs, goferfs, later overlay). The VFS owns
 * mounts, path walking, `..` across mounts and symlink budgets; a filesystem owns its tree, its
 * caching and its locking. Every method is synchronous and fails by throwing a SyscallError
 * (`fail(Errno.X)`), never anything else.
 *
 * Names passed in are single components: never empty, never `.` or `..`, never containing `/`
 * (the VFS guarantees it; remote filesystems re-check it at their server).
 */
export interface FilesystemImpl {
  /** Short kind name for stats and errors: 'tmpfs', 'gofer'. */
  readonly kind: string;
  /** Device number reported in stat; unique per filesystem instance within a sandbox. */
  readonly dev: bigint;
  root(): Inode;
  /** The parent of a directory inside this filesystem; the root is its own parent. */
  parent(dir: Inode): Inode;
  /**
   * Finds `name` in `dir` (ENOENT, ENOTDIR). `ahead` gives the components that follow in the path
   * being resolved, so a remote filesystem can walk them all in one round trip and answer the
   * next lookups from its cache. It is a hint: only `name` is looked up here.
   */
  lookup(dir: Inode, name: string, ahead: PathAhead): Inode;
  /**
   * `lookup`, with a name that is not there as undefined rather than ENOENT (other failures still
   * throw). For callers that expect misses — creating a name, the overlay's search of its layers
   * — where a thrown error would cost more than the lookup.
   */
  find(dir: Inode, name: string, ahead: PathAhead): Inode | undefined;
  /**
   * A guest descriptor names the directory `inode` until `unpin`: a cache keeps what using it
   * needs (goferfs: its host FD), as it does for an open file. Optional: a filesystem that
   * evicts nothing has nothing to keep.
   */
  pin?(dir: Inode): void;
  unpin?(dir: Inode): void;
  stat(inode: Inode): Stat;
  /** Changes size (truncate) and/or times; only the fields present change. */
  setStat(inode: Inode, change: StatChange): void;
  readlink(link: Inode): string;
  /** Opens a regular file for I/O. `truncate` empties it first. */
  open(inode: Inode, access: OpenAccess): FileHandle;
  /** Creates a regular file; EEXIST when the name is taken (whatever it is). */
  create(dir: Inode, name: string, mode: number): Inode;
  mkdir(dir: Inode, name: string, mode: number): Inode;
  symlink(dir: Inode, name: string, target: string): Inode;
  /** New name for an existing non-directory (EPERM for a directory). */
  link(dir: Inode, name: string, target: Inode): void;
  /** Removes a non-directory (EISDIR for a directory). */
  unlink(dir: Inode, name: string): void;
  /** Removes an empty directory (ENOTDIR, ENOTEMPTY). */
  rmdir(dir: Inode, name: string): void;
  /**
   * POSIX rename within this filesystem: replaces a file with a file, a directory with an empty
   * directory; EISDIR/ENOTDIR/ENOTEMPTY otherwise. The VFS has already rejected moving a directory
   * beneath itself and cross-filesystem renames.
   */
  rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void;
  /** All entries of a directory except `.` and `..`, in a stable order for this snapshot. */
  readdir(dir: Inode): DirEntry[];
  /**
   * Every extended attribute of a file, name → value, for the overlay's copy-up (the guest has no
   * xattr calls). Optional: a filesystem without it has none. No attributes, or a file kind or a
   * host that keeps none (ENOTSUP), is an empty map.
   */
  listXattrs?(inode: Inode): Map<string, string | Uint8Array>;
  /** Releases everything the filesystem holds (host FDs, memory). */
  release(): void;
}

/** A file as a filesystem sees it. The VFS reads `ino` and `type`; the rest is the filesystem's. */
export interface Inode {
  readonly ino: bigint;
  readonly type: FileType;
}

export interface Stat {
  dev: bigint;
  ino: bigint;
  type: FileType;
  nlink: bigint;
  size: bigint;
  /** Nanoseconds since the epoch. */
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  /** Permission bits (0o7777), where the filesystem keeps them. WASI never shows them; copy-up and export do. */
  mode?: number;
  /** Owner and group, where the filesystem keeps them (host numbers below a gofer; tmpfs: 0:0 for new files). WASI never shows them. */
  uid?: number;
  gid?: number;
}

export interface StatChange {
  size?: number;
  /** Nanoseconds since the epoch, or 'now' (the filesystem's clock). */
  atim?: bigint | 'now';
  mtim?: bigint | 'now';
  /** Permission bits: no WASI call sets them; copy-up and the kernel's own tools do. */
  mode?: number;
  /** Owner and group (chown): likewise only copy-up sets them. */
  uid?: number;
  gid?: number;
}

export interface OpenAccess {
  read: boolean;
  write: boolean;
  truncate: boolean;
}

export interface DirEntry {
  name: string;
  ino: bigint;
  type: FileType;
}

/** An open regular file. Offsets are absolute; the kernel keeps the file position. */
export interface FileHandle {
  /** Reads up to `dst.byteLength` bytes at `offset`; returns the count (0 at end of file). */
  read(dst: Uint8Array, offset: number): number;
  /** Writes all of `src` at `offset` (or fails with nothing written); returns the count. */
  write(src: Uint8Array, offset: number): number;
  /** Current size, for O_APPEND and SEEK_END. */
  size(): number;
  sync(dataOnly: boolean): void;
  /** Ensures [offset, offset+length) is allocated, growing the file if needed (ENOSPC). */
  allocate(offset: number, length: number): void;
  close(): void;
}

/**
 * Counts the Sentry's operations (one per syscall). A filesystem whose backing store others may
 * change at the same time trusts what it learned from it only within one operation.
 */
export interface OperationClock {
  readonly now: number;
}

/** Longest single name a filesystem accepts (NAME_MAX). */
export const NAME_MAX = 255;
