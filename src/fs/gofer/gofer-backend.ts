/**
 * A custom gofer backend: a mount served from user code instead of a host directory (an archive,
 * an in-memory tree, a network store). It runs inside a GoferActor, behind the same protocol and
 * the same rules as a host-directory gofer, so the Sentry cannot tell the difference: `..` and
 * symlinks are still resolved by the Sentry, names are single validated components. Such a mount
 * has no host FD to donate, so it is always gofer-only, while host mounts beside it keep directfs.
 *
 * Backends are read-only: every mutation answers EROFS. Methods are synchronous (the gofer's ring
 * loop calls them in line); a method that throws answers EIO and the gofer goes on serving.
 */
export interface GoferBackend<N = unknown> {
  /** The mount's root directory. */
  root(): N;
  /** The child `name` of directory `dir`, or undefined when there is none (ENOENT). */
  lookup(dir: N, name: string): N | undefined;
  stat(node: N): BackendStat;
  /** The names in directory `dir`, without `.` and `..`. */
  readdir(dir: N): string[];
  /** Up to `length` bytes of file `file` from `offset`; fewer at the end of the file. */
  read(file: N, offset: number, length: number): Uint8Array;
  /** The target of symlink `link`. */
  readlink(link: N): string;
}

export interface BackendStat {
  type: 'file' | 'directory' | 'symlink';
  /** Bytes (files), target length (symlinks); directories may say 0. */
  size: number;
  /** Permission bits; default 0o444 for files, 0o555 for directories, 0o777 for symlinks. */
  mode?: number;
  /** Last modification, ms since the epoch; default the time the backend was loaded. */
  mtimeMs?: number;
}

/**
 * Where the GoferActor finds a backend: a module it imports, the factory it calls there, and the
 * options it passes (structured-cloneable: they cross into the actor's worker).
 */
export interface GoferBackendModule {
  /** An ES module (a file URL or path) whose `factory` export returns the backend. */
  module: string | URL;
  /** Default `createBackend`. It may be async. */
  factory?: string;
  options?: unknown;
}

/** The signature of a backend module's factory. */
export type GoferBackendFactory<N = unknown> = (options: unknown) => GoferBackend<N> | Promise<GoferBackend<N>>;
