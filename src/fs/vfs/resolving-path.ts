import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { Inode, PathAhead } from './filesystem.js';
import type { Location, Mount } from './mount.js';

/** Linux's MAXSYMLINKS: more hops than this in one resolution is ELOOP. */
export const SYMLINK_BUDGET = 40;
/** Longest path the VFS accepts (PATH_MAX). */
export const PATH_MAX = 4096;

/**
 * The state of one path walk: the components still to walk (a stack, so a symlink's target is
 * pushed in front of the rest), the directories walked so far (so `..` pops back through mounts
 * without asking any filesystem), and the symlink budget. The places walked are kept as two
 * parallel stacks, not Location objects: a walk is on every path syscall's hot path, and a step
 * then allocates nothing.
 *
 * Confinement: the walk starts at a directory and may never climb above it — `..` there, an
 * absolute path, or an absolute symlink when the start is not the sandbox root are all
 * ENOTCAPABLE. That is WASI's capability rule, and it is what keeps a guest beneath its preopens.
 */
export class ResolvingPath implements PathAhead {
  // Stacks with explicit tops, never shrunk: setting an array's length to 0 gives its backing
  // store back, and every walk would allocate it again.
  /** Remaining components, last to walk first: pending[0 .. pendingTop). */
  private readonly pending: string[] = [];
  private pendingTop = 0;
  /** Directories from the start of the walk to the current one: mounts[0 .. depth), inodes alike. */
  private readonly mounts: (Mount | undefined)[] = [];
  private readonly inodes: (Inode | undefined)[] = [];
  private depth = 0;
  symlinks = 0;
  /** The path named a directory explicitly: a trailing `/` (or ended in `.`/`..`). */
  mustBeDir = false;

  /** A walker for paths beneath `root`; `begin` starts each walk (one object serves many). */
  constructor(readonly root: Location) {}

  /** Starts walking `path` from `start`; the walker must be fresh or `end`ed. */
  begin(start: Location, path: string): this {
    if (path.length === 0) fail(Errno.NOENT);
    if (path.length > PATH_MAX) fail(Errno.NAMETOOLONG);
    if (path.includes('\0')) fail(Errno.ILSEQ);
    if (path.charCodeAt(0) === 47 /* / */) fail(Errno.NOTCAPABLE);
    this.enter(start.mount, start.inode);
    this.pushReversed(path);
    this.mustBeDir = path.charCodeAt(path.length - 1) === 47;
    return this;
  }

  /** Drops the walk's state, so a reused walker holds no inode alive. */
  end(): void {
    this.truncate(0);
    this.pendingTop = 0;
    this.symlinks = 0;
  }

  /** Where the walk is now, as a new Location (for its end; steps use currentMount/currentInode). */
  get current(): Location { return { mount: this.currentMount, inode: this.currentInode }; }
  get currentMount(): Mount { return this.mounts[this.depth - 1]!; }
  get currentInode(): Inode { return this.inodes[this.depth - 1]!; }
  get done(): boolean { return this.pendingTop === 0; }

  next(): string { return this.pending[--this.pendingTop]!; }

  /** Components after the next one, up to the first `..`: a remote filesystem walks them in one trip. */
  ahead(): string[] {
    const out: string[] = [];
    for (let i = this.pendingTop - 1; i >= 0; i--) {
      const c = this.pending[i]!;
      if (c === '..') break;
      if (c !== '.') out.push(c);
    }
    return out;
  }

  enter(mount: Mount, inode: Inode): void {
    this.mounts[this.depth] = mount;
    this.inodes[this.depth] = inode;
    this.depth++;
  }

  /** `..`: back to the directory we came from; above the start of the walk is an escape. */
  up(): void {
    if (this.depth === 1) fail(Errno.NOTCAPABLE);
    this.truncate(this.depth - 1);
  }

  /** Continues the walk through a symlink's target. */
  followSymlink(target: string): void {
    if (++this.symlinks > SYMLINK_BUDGET) fail(Errno.LOOP);
    if (target.length === 0) fail(Errno.NOENT);
    if (target.charCodeAt(0) === 47) {
      // An absolute target restarts at the sandbox root, which only a walk confined to the root may reach.
      if (this.mounts[0] !== this.root.mount || this.inodes[0] !== this.root.inode) fail(Errno.NOTCAPABLE);
      this.truncate(1);
    }
    // A target ending in '/' makes the rest a directory walk; it keeps a final '.'.
    this.pushReversed(target);
  }

  /** Fails with ENOTDIR unless the current location is a directory. */
  requireDir(): void {
    if (this.currentInode.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
  }

  /** Pops directories down to `depth`, clearing their slots. */
  private truncate(depth: number): void {
    while (this.depth > depth) {
      this.depth--;
      this.mounts[this.depth] = undefined;
      this.inodes[this.depth] = undefined;
    }
  }

  /**
   * Pushes the components of `path`, last first; `.` and empty ones are dropped except a trailing
   * marker (a trailing '/' or '.' still requires the previous component to be a directory).
   */
  private pushReversed(path: string): void {
    const base = this.pendingTop;
    let end = path.length;
    for (let i = path.length - 1; i >= -1; i--) {
      if (i >= 0 && path.charCodeAt(i) !== 47) continue;
      const len = end - i - 1;
      if (len === 0 || (len === 1 && path.charCodeAt(i + 1) === 46 /* . */)) {
        if (this.pendingTop === base && i >= 0) this.pending[this.pendingTop++] = '.';
      } else {
        this.pending[this.pendingTop++] = path.slice(i + 1, end);
      }
      end = i;
    }
    if (this.pendingTop === base) this.pending[this.pendingTop++] = '.';
  }
}
