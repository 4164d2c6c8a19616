import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { Location } from './mount.js';

/** Linux's MAXSYMLINKS: more hops than this in one resolution is ELOOP. */
export const SYMLINK_BUDGET = 40;
/** Longest path the VFS accepts (PATH_MAX). */
export const PATH_MAX = 4096;

/**
 * The state of one path walk: the components still to walk (a stack, so a symlink's target is
 * pushed in front of the rest), the directories walked so far (so `..` pops back through mounts
 * without asking any filesystem), and the symlink budget.
 *
 * Confinement: the walk starts at a directory and may never climb above it — `..` there, an
 * absolute path, or an absolute symlink when the start is not the sandbox root are all
 * ENOTCAPABLE. That is WASI's capability rule, and it is what keeps a guest beneath its preopens.
 */
export class ResolvingPath {
  /** Remaining components, last to walk first. */
  private readonly pending: string[];
  /** Directories from the start of the walk to the current one. */
  readonly stack: Location[];
  symlinks = 0;
  /** The path named a directory explicitly: a trailing `/` (or ended in `.`/`..`). */
  readonly mustBeDir: boolean;

  constructor(start: Location, readonly root: Location, path: string) {
    if (path.length === 0) fail(Errno.NOENT);
    if (path.length > PATH_MAX) fail(Errno.NAMETOOLONG);
    if (path.includes('\0')) fail(Errno.ILSEQ);
    if (path.charCodeAt(0) === 47 /* / */) fail(Errno.NOTCAPABLE);
    this.stack = [start];
    this.pending = splitReversed(path);
    this.mustBeDir = path.charCodeAt(path.length - 1) === 47;
  }

  get current(): Location { return this.stack[this.stack.length - 1]!; }
  get done(): boolean { return this.pending.length === 0; }
  /** How many components remain after the next one (0: the next is the last). */
  get remaining(): number { return this.pending.length; }

  next(): string { return this.pending.pop()!; }
  peekLast(): string | undefined { return this.pending[0]; }

  /** Components after the next one, up to the first `..`: a remote filesystem walks them in one trip. */
  ahead(): string[] {
    const out: string[] = [];
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const c = this.pending[i]!;
      if (c === '..') break;
      if (c !== '.') out.push(c);
    }
    return out;
  }

  enter(loc: Location): void { this.stack.push(loc); }

  /** `..`: back to the directory we came from; above the start of the walk is an escape. */
  up(): void {
    if (this.stack.length === 1) fail(Errno.NOTCAPABLE);
    this.stack.pop();
  }

  /** Continues the walk through a symlink's target. */
  followSymlink(target: string): void {
    if (++this.symlinks > SYMLINK_BUDGET) fail(Errno.LOOP);
    if (target.length === 0) fail(Errno.NOENT);
    if (target.charCodeAt(0) === 47) {
      // An absolute target restarts at the sandbox root, which only a walk confined to the root may reach.
      const start = this.stack[0]!;
      if (start.mount !== this.root.mount || start.inode !== this.root.inode) fail(Errno.NOTCAPABLE);
      this.stack.length = 1;
    }
    const parts = splitReversed(target);
    // A target ending in '/' makes the rest a directory walk; keep it as a final '.'.
    for (const p of parts) this.pending.push(p);
  }

  /** Fails with ENOTDIR unless the current location is a directory. */
  requireDir(): void {
    if (this.current.inode.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
  }
}

/** Splits a path into components, reversed; `.` and empty ones are dropped except a trailing marker. */
function splitReversed(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    if (p === '' || p === '.') {
      // A trailing '/' or '.' still requires the previous component to be a directory.
      if (out.length === 0 && i > 0) out.push('.');
      continue;
    }
    out.push(p);
  }
  if (out.length === 0) out.push('.');
  return out;
}
