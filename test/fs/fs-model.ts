// A model to hold a filesystem against: the same random operations applied through our
// VirtualFilesystem (on the filesystem under test) and with node:fs on a plain Linux directory,
// compared errno by errno and tree by tree. Shared by the property tests of the overlay
// (test/fs/overlay) and of goferfs (test/fs/gofer). fast-check generates the sequences and shrinks
// a failing one to a minimal sequence; we use it rather than hand-rolling generators and shrinking.
// On failure the report shows the shrunk sequence as generated (`#k`: the k-th path that exists
// then, `gone#k`: one that existed earlier) and as it ran, with concrete paths.
//
// What is compared, and what is left out on purpose (legitimate differences, not bugs):
//  - names, types, contents and sizes of non-directories, symlink targets, permission bits.
//    Directory sizes are not compared: each filesystem reports its own (ext4 allocated bytes,
//    Linux tmpfs a multiple of 20, our tmpfs the number of entries).
//  - link counts of non-directories. Directory link counts are not: a merged directory counts only
//    the subdirectories its upper holds (Linux overlayfs reports 1 for merged directories).
//  - inode numbers only as an equivalence: two names share an inode on one side iff they do on the
//    other. The numbers themselves differ by construction (the overlay hands out its own).
//  - mtimes that were set explicitly: the seed tree's (all fixed old values, so an overlay's copy-up
//    must keep them and must not move a parent's), utimes's, and any that an operation must leave alone. An
//    mtime an operation set to "now" is each side's own clock, so an mtime is compared where
//    either side shows an old one (before CUTOFF). atime and ctime are never compared: every read
//    and readdir moves atime (and the host may mount relatime), ctime follows metadata the two
//    sides keep differently (xattrs, copy-up) and no call sets it.
//  - symlink targets are relative and never contain `..`: WASI's capability rule makes a walk that
//    climbs above the root ENOTCAPABLE where Linux would leave the host copy (and touch paths
//    outside the temp directory). Absolute targets are refused by the VFS for the same reason.
//  - chmod keeps the owner's rwx bits and sets no setuid/setgid/sticky bit: the sandbox checks no
//    permissions (and this test may run as root, which bypasses them), and a setgid directory
//    makes Linux give new subdirectories setgid too, a rule the sandbox has no use for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { NOTHING_AHEAD, type FileHandle, type FilesystemImpl, type Inode } from '../../src/fs/vfs/filesystem.js';
import type { VirtualFilesystem } from '../../src/fs/vfs/virtual-filesystem.js';
import { FileType } from '../../src/wasi/abi.js';
import { Errno, errnoFromLinux } from '../../src/wasi/errno.js';
import { errnoOfCall } from './gofer/errno-of.js';

/** Sequences run 0 to MAX_OPS long (fast-check's size 'max': its default would stop them at 10). */
export const MAX_OPS = 40;

/** Small name pools, so operations collide often. */
const NAMES = ['a', 'b', 'c', 'd', 'e'] as const;

/** Every mtime before this was set explicitly (seed tree, utimes): both sides must agree on it. */
const CUTOFF_NS = 1_200_000_000n * 1_000_000_000n;
/** The seed tree's mtimes, and utimes values: 2001, seconds with binary-exact fractions. */
const OLD_BASE_S = 1_000_000_000;

// ---- the seed tree ----------------------------------------------------------------------------

export interface TreeEntry { path: string; dir?: true; data?: string; link?: string; hard?: string; mode?: number }

/**
 * Where every sequence starts: directories, files, symlinks to files and to directories
 * (relative, downward), hard links (a/c/d = b; c/d = e) and a hard-linked symlink (a/c/e = c/e).
 * Built the same way for the tree under test (an overlay's lower) and for each run's host copy.
 */
export const SEED_TREE: readonly TreeEntry[] = [
  { path: 'a', dir: true, mode: 0o755 },
  { path: 'a/b', data: 'a/b lower', mode: 0o644 },
  { path: 'a/c', dir: true, mode: 0o750 },
  { path: 'a/c/d', data: 'shared one', mode: 0o640 },
  { path: 'a/c/e', link: 'd' },
  { path: 'a/d', link: 'c/d' },
  { path: 'a/e', dir: true, mode: 0o700 },
  { path: 'b', hard: 'a/c/d' },
  { path: 'c', dir: true, mode: 0o755 },
  { path: 'c/a', dir: true, mode: 0o711 },
  { path: 'c/a/b', data: 'deep', mode: 0o600 },
  { path: 'c/b', data: '', mode: 0o644 },
  { path: 'c/c', link: 'a' },
  { path: 'c/d', data: 'shared two', mode: 0o604 },
  { path: 'c/e', hard: 'a/c/e' },
  { path: 'd', link: 'a' },
  { path: 'e', hard: 'c/d' },
];

export function buildTree(root: string): void {
  for (const e of SEED_TREE) {
    const p = path.join(root, e.path);
    if (e.dir) fs.mkdirSync(p, e.mode);
    else if (e.link !== undefined) fs.symlinkSync(e.link, p);
    else if (e.hard !== undefined) fs.linkSync(path.join(root, e.hard), p);
    else fs.writeFileSync(p, e.data ?? '', { mode: e.mode });
    if (e.mode !== undefined) fs.chmodSync(p, e.mode);
  }
  fs.chmodSync(root, 0o755);
  // Children before parents, so making a child does not move its directory's mtime afterwards.
  SEED_TREE.forEach((e, i) => { if (!e.dir) fs.lutimesSync(path.join(root, e.path), OLD_BASE_S - 1000 + i, OLD_BASE_S - 1000 + i); });
  SEED_TREE.forEach((e, i) => { if (e.dir) fs.utimesSync(path.join(root, e.path), OLD_BASE_S - 2000 + i, OLD_BASE_S - 2000 + i); });
  fs.utimesSync(root, OLD_BASE_S - 3000, OLD_BASE_S - 3000);
}

/** Asserts that `state` reads like a host copy of the seed tree (made in `base` for the comparison, then removed). */
export function assertSeedTree(base: string, state: State, what: string): void {
  const copy = path.join(base, 'seed-copy');
  fs.mkdirSync(copy);
  try {
    buildTree(copy);
    assert.equal(state, hostState(copy), `${what} starts like a host copy of the seed tree`);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

/** The seed tree made through a VFS, as buildTree makes it with node:fs: the same modes and times. */
export function buildTreeThrough(vfs: VirtualFilesystem): void {
  const root = vfs.rootLocation;
  const ns = (s: number): bigint => BigInt(s) * 1_000_000_000n;
  for (const e of SEED_TREE) {
    if (e.dir) vfs.mkdir(root, e.path);
    else if (e.link !== undefined) vfs.symlink(e.link, root, e.path);
    else if (e.hard !== undefined) vfs.link(root, e.hard, false, root, e.path);
    else {
      const loc = vfs.open(root, e.path, { followFinal: false, create: true, exclusive: true, directory: false, write: true, truncate: false });
      const h = loc.mount.fs.open(loc.inode, { read: false, write: true, truncate: false });
      try { h.write(Buffer.from(e.data ?? ''), 0); } finally { h.close(); }
    }
    if (e.mode !== undefined) vfs.setStat(vfs.resolve(root, e.path, false), { mode: e.mode });
  }
  vfs.setStat(root, { mode: 0o755 });
  SEED_TREE.forEach((e, i) => { if (!e.dir) vfs.setStat(vfs.resolve(root, e.path, false), { atim: ns(OLD_BASE_S - 1000 + i), mtim: ns(OLD_BASE_S - 1000 + i) }); });
  SEED_TREE.forEach((e, i) => { if (e.dir) vfs.setStat(vfs.resolve(root, e.path, false), { atim: ns(OLD_BASE_S - 2000 + i), mtim: ns(OLD_BASE_S - 2000 + i) }); });
  vfs.setStat(root, { atim: ns(OLD_BASE_S - 3000), mtim: ns(OLD_BASE_S - 3000) });
}

// ---- operations -------------------------------------------------------------------------------

/**
 * A path as generated: a fixed string; or `#k` (`pick`): the k-th (mod count) path that exists in
 * the tree when the operation runs, optionally with a name below it (`#k/name`); or `gone#k`: the
 * k-th path that existed earlier in the run and exists no more. Picks make the operations meet
 * what earlier ones made (and unmade) far more often than fixed strings would.
 */
export type PathSpec = string | { pick: number; child?: string } | { gone: number };

/** An operation with paths P: PathSpec as generated, string as run. */
export type Op<P = string> =
  | { op: 'create'; path: P; excl: boolean; trunc: boolean }
  | { op: 'write'; path: P; offset: number; data: string }
  | { op: 'truncate'; path: P; size: number }
  | { op: 'mkdir'; path: P }
  | { op: 'rmdir'; path: P }
  | { op: 'unlink'; path: P }
  | { op: 'rename'; from: P; to: P }
  | { op: 'link'; from: P; to: P }
  | { op: 'symlink'; target: string; path: P }
  | { op: 'chmod'; path: P; mode: number }
  | { op: 'utimes'; path: P; follow: boolean; mtime: number }
  /** `rm -r`: runs as the unlinks and rmdirs it takes, each compared; it only gets deep states sooner. */
  | { op: 'rmtree'; path: P }
  /** Open files, kept across the operations that follow: `fd` picks one of them (mod count). */
  | { op: 'open'; path: P; write: boolean }
  | { op: 'fdread'; fd: number }
  | { op: 'fdwrite'; fd: number; offset: number; data: string }
  | { op: 'fdclose'; fd: number }
  | { op: 'check' }
  /**
   * A change behind the filesystem's back: `inner` runs with node:fs on the host copy and on the
   * directory the filesystem under test serves (Sequence.outside), not through it.
   */
  | { op: 'outside'; inner: Op<P> };

export function show(op: Op<PathSpec>): string {
  const q = (s: PathSpec): string => (typeof s === 'string' ? JSON.stringify(s)
    : 'gone' in s ? `gone#${s.gone}` : `#${s.pick}${s.child === undefined ? '' : `/${s.child}`}`);
  switch (op.op) {
    case 'create': return `create(${q(op.path)}${op.excl ? ', EXCL' : ''}${op.trunc ? ', TRUNC' : ''})`;
    case 'write': return `write(${q(op.path)}, @${op.offset}, ${q(op.data)})`;
    case 'truncate': return `truncate(${q(op.path)}, ${op.size})`;
    case 'rename': case 'link': return `${op.op}(${q(op.from)}, ${q(op.to)})`;
    case 'symlink': return `symlink(${q(op.target)}, ${q(op.path)})`;
    case 'chmod': return `chmod(${q(op.path)}, 0o${op.mode.toString(8)})`;
    case 'utimes': return `utimes(${q(op.path)}, ${op.mtime}${op.follow ? '' : ', NOFOLLOW'})`;
    case 'open': return `open(${q(op.path)}, ${op.write ? 'O_WRONLY' : 'O_RDONLY'})`;
    case 'fdread': case 'fdclose': return `${op.op}(fd#${op.fd})`;
    case 'fdwrite': return `fdwrite(fd#${op.fd}, @${op.offset}, ${q(op.data)})`;
    case 'check': return 'check()';
    case 'outside': return `outside(${show(op.inner)})`;
    default: return `${op.op}(${q(op.path)})`;
  }
}

/** fast-check prints a counterexample with this, so a shrunk sequence reads as calls. */
const printable = (op: Op<PathSpec>): Op<PathSpec> => Object.assign({ ...op }, { [fc.toStringMethod]: () => show(op) });

const nameArb = fc.constantFrom(...NAMES);
/** Mostly paths that exist when the operation runs; some fixed or random ones. */
const existingArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { arbitrary: fc.record({ pick: fc.nat(63) }), weight: 6 },
  { arbitrary: fc.record({ pick: fc.nat(63), child: nameArb }), weight: 1 },
  { arbitrary: fc.constantFrom(...SEED_TREE.map((e) => e.path)), weight: 1 },
  { arbitrary: fc.array(nameArb, { minLength: 1, maxLength: 3 }).map((a) => a.join('/')), weight: 1 },
);
/** Mostly paths that do not exist: removed earlier (so lower names come back), or new names in existing directories. */
const freshArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { arbitrary: fc.record({ gone: fc.nat(63) }), weight: 4 },
  { arbitrary: fc.record({ pick: fc.nat(63), child: nameArb }), weight: 3 },
  { arbitrary: fc.record({ pick: fc.nat(63) }), weight: 1 },
  { arbitrary: fc.array(nameArb, { minLength: 1, maxLength: 3 }).map((a) => a.join('/')), weight: 1 },
);
const anyArb = fc.oneof(existingArb, freshArb);
const dataArb = fc.string({ unit: fc.constantFrom('x', 'y', 'z'), minLength: 1, maxLength: 4 });
const targetArb = fc.array(nameArb, { minLength: 1, maxLength: 2 }).map((a) => a.join('/'));
/** Each kind of operation, and how often it comes. */
const OP_ARBS: Record<Exclude<Op['op'], 'outside'>, { arbitrary: fc.Arbitrary<Op<PathSpec>>; weight: number }> = {
  create: { arbitrary: fc.record({ op: fc.constant('create' as const), path: anyArb, excl: fc.boolean(), trunc: fc.boolean() }), weight: 3 },
  write: { arbitrary: fc.record({ op: fc.constant('write' as const), path: existingArb, offset: fc.integer({ min: 0, max: 12 }), data: dataArb }), weight: 3 },
  truncate: { arbitrary: fc.record({ op: fc.constant('truncate' as const), path: existingArb, size: fc.integer({ min: 0, max: 12 }) }), weight: 2 },
  mkdir: { arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: freshArb }), weight: 3 },
  rmdir: { arbitrary: fc.record({ op: fc.constant('rmdir' as const), path: existingArb }), weight: 2 },
  rmtree: { arbitrary: fc.record({ op: fc.constant('rmtree' as const), path: existingArb }), weight: 2 },
  unlink: { arbitrary: fc.record({ op: fc.constant('unlink' as const), path: existingArb }), weight: 3 },
  rename: { arbitrary: fc.record({ op: fc.constant('rename' as const), from: existingArb, to: anyArb }), weight: 6 },
  link: { arbitrary: fc.record({ op: fc.constant('link' as const), from: existingArb, to: freshArb }), weight: 2 },
  symlink: { arbitrary: fc.record({ op: fc.constant('symlink' as const), target: targetArb, path: freshArb }), weight: 2 },
  chmod: { arbitrary: fc.record({ op: fc.constant('chmod' as const), path: existingArb, mode: fc.integer({ min: 0, max: 0o77 }).map((m) => 0o700 | m) }), weight: 2 },
  utimes: {
    arbitrary: fc.record({
      op: fc.constant('utimes' as const), path: existingArb, follow: fc.boolean(),
      mtime: fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom(0, 0.5, 0.25)).map(([s, f]) => OLD_BASE_S + s + f),
    }),
    weight: 2,
  },
  open: { arbitrary: fc.record({ op: fc.constant('open' as const), path: existingArb, write: fc.boolean() }), weight: 3 },
  fdread: { arbitrary: fc.record({ op: fc.constant('fdread' as const), fd: fc.nat(7) }), weight: 3 },
  fdwrite: { arbitrary: fc.record({ op: fc.constant('fdwrite' as const), fd: fc.nat(7), offset: fc.integer({ min: 0, max: 12 }), data: dataArb }), weight: 1 },
  fdclose: { arbitrary: fc.record({ op: fc.constant('fdclose' as const), fd: fc.nat(7) }), weight: 1 },
  check: { arbitrary: fc.constant({ op: 'check' as const }), weight: 2 },
};

/** Random operations; `without` leaves out kinds the filesystem under test has no call for. */
export function opArb(without: readonly Op['op'][] = []): fc.Arbitrary<Op<PathSpec>> {
  return fc.oneof(...Object.entries(OP_ARBS).filter(([op]) => !without.includes(op as Op['op'])).map(([, a]) => a)).map(printable);
}

/** Changes made behind the filesystem's back (Sequence.outside): path operations only. */
export const outsideArb: fc.Arbitrary<Op<PathSpec>> = opArb(['check', 'rmtree', 'open', 'fdread', 'fdwrite', 'fdclose', 'outside'])
  .map((inner) => printable({ op: 'outside', inner }));

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


/** Every path in the tree under `root` (not through symlinks), sorted. */
export function existingPaths(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** The operation as it runs now: every pick replaced by the path it names in the host tree. */
export function concrete(op: Op<PathSpec>, root: string, everSeen: ReadonlySet<string>): Op {
  let paths: string[] | undefined;
  const at = (p: PathSpec): string => {
    if (typeof p === 'string') return p;
    paths ??= existingPaths(root);
    if ('gone' in p) {
      const now = new Set(paths);
      const gone = [...everSeen].filter((x) => !now.has(x)).sort();
      if (gone.length > 0) return gone[p.gone % gone.length]!;
      p = { pick: p.gone };
    }
    const base = paths.length === 0 ? '' : paths[p.pick % paths.length]!;
    return [base, p.child].filter((x) => x).join('/') || NAMES[p.pick % NAMES.length]!;
  };
  switch (op.op) {
    case 'rename': case 'link': return { ...op, from: at(op.from), to: at(op.to) };
    case 'check': case 'fdread': case 'fdwrite': case 'fdclose': return op;
    case 'outside': return { op: 'outside', inner: concrete(op.inner, root, everSeen) };
    default: return { ...op, path: at(op.path) };
  }
}

/** The unlinks and rmdirs `rm -r` makes, children first; an unlink of what is not a directory (or not there). */
export function rmtreePlan(root: string, rel: string): Op[] {
  let st: fs.Stats | undefined;
  try { st = fs.lstatSync(path.join(root, rel)); } catch { /* the unlink says how it fails */ }
  if (!st?.isDirectory()) return [{ op: 'unlink', path: rel }];
  return [...fs.readdirSync(path.join(root, rel)).sort().flatMap((n) => rmtreePlan(root, `${rel}/${n}`)), { op: 'rmdir', path: rel }];
}

type Primitive = Exclude<Op, { op: 'check' } | { op: 'rmtree' } | { op: 'outside' }>;

/**
 * One side's open files, in the order opened: host FDs, or the sandbox's handles (none for a
 * directory). Both sides open and close alike (or the errnos already differ), so index k is the
 * same file on both. `lastRead` is what the last fdread saw, to compare.
 */
interface OpenFiles<H> { list: Array<{ h: H; write: boolean; dir: boolean }>; lastRead: string }

/** The open file an fd operation names, or undefined when it does not apply (none open; reading a write-only one…). */
function openFile<H>(files: OpenFiles<H>, op: Extract<Op, { fd: number }>): { h: H; write: boolean; dir: boolean } | undefined {
  if (files.list.length === 0) return undefined;
  const f = files.list[op.fd % files.list.length]!;
  if (op.op === 'fdclose') return f;
  if (f.dir || (op.op === 'fdread') === f.write) return undefined;
  return f;
}

function onHost(root: string, op: Primitive, files: OpenFiles<number>): number {
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
function inSandbox(vfs: VirtualFilesystem, op: Primitive, files: OpenFiles<FileHandle | null>): number {
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

// ---- observable state -------------------------------------------------------------------------

export const TYPE_NAMES: Partial<Record<FileType, string>> = {
  [FileType.DIRECTORY]: 'dir', [FileType.REGULAR_FILE]: 'file', [FileType.SYMBOLIC_LINK]: 'symlink',
};

/** One line per path: what a program can see of it, less what the header comment leaves out. */
export type State = Record<string, string>;

interface Seen { type: string; size: bigint; nlink: bigint; mode: number; mtim: bigint; ino: string; body: string }

function describe(all: Map<string, Seen>): State {
  const firstOfIno = new Map<string, string>();
  const out: State = {};
  for (const [p, s] of [...all].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const parts = [s.type, `mode=${s.mode.toString(8)}`];
    if (s.type !== 'dir') {
      const first = firstOfIno.get(s.ino);
      if (first === undefined) firstOfIno.set(s.ino, p);
      parts.push(`size=${s.size}`, `nlink=${s.nlink}`, s.body);
      if (first !== undefined) parts.push(`same inode as ${first}`);
    }
    if (s.mtim < CUTOFF_NS) parts.push(`mtime=${s.mtim}`);
    out[p] = parts.join(' ');
  }
  return out;
}

export function hostState(root: string): State {
  const all = new Map<string, Seen>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = fs.lstatSync(p, { bigint: true });
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      const body = type === 'file' ? JSON.stringify(fs.readFileSync(p, 'latin1')) : type === 'symlink' ? `-> ${fs.readlinkSync(p)}` : '';
      all.set(r, { type, size: st.size, nlink: st.nlink, mode: Number(st.mode & 0o7777n), mtim: st.mtimeNs, ino: String(st.ino), body });
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  const st = fs.statSync(root, { bigint: true });
  all.set('.', { type: 'dir', size: 0n, nlink: 0n, mode: Number(st.mode & 0o7777n), mtim: st.mtimeNs, ino: 'root', body: '' });
  return describe(all);
}

function readHandle(h: FileHandle): string {
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(4096);
  for (let off = 0; ;) {
    const n = h.read(buf, off);
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    off += n;
  }
  return Buffer.concat(chunks).toString('latin1');
}

function readAll(fsi: FilesystemImpl, inode: Inode): string {
  const h = fsi.open(inode, { read: true, write: false, truncate: false });
  try { return readHandle(h); } finally { h.close(); }
}

/** What the filesystem under test shows, read through it alone (not through the VFS). */
export function fsState(fsi: FilesystemImpl): State {
  const all = new Map<string, Seen>();
  const walk = (dir: Inode, rel: string): void => {
    for (const e of fsi.readdir(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const inode = fsi.lookup(dir, e.name, NOTHING_AHEAD);
      const st = fsi.stat(inode);
      // Its own consistency: readdir and stat agree on the type and the inode number.
      assert.is(e.type, st.type, `${r}: readdir type vs stat type`);
      assert.is(e.ino, st.ino, `${r}: readdir ino vs stat ino`);
      assert.is(inode.type, st.type, `${r}: dentry type vs stat type`);
      const type = TYPE_NAMES[st.type] ?? `type ${st.type}`;
      const body = type === 'file' ? JSON.stringify(readAll(fsi, inode)) : type === 'symlink' ? `-> ${fsi.readlink(inode)}` : '';
      all.set(r, { type, size: st.size, nlink: st.nlink, mode: st.mode ?? -1, mtim: st.mtim, ino: String(st.ino), body });
      if (st.type === FileType.DIRECTORY) walk(inode, r);
    }
  };
  walk(fsi.root(), '');
  const st = fsi.stat(fsi.root());
  all.set('.', { type: 'dir', size: 0n, nlink: 0n, mode: st.mode ?? -1, mtim: st.mtim, ino: 'root', body: '' });
  return describe(all);
}

/** Throws with one line per path that differs between two states. */
export function sameStates(got: State, want: State, labels: [got: string, want: string], when: string): void {
  const width = Math.max(...labels.map((l) => l.length)) + 1;
  const diff: string[] = [];
  for (const p of [...new Set([...Object.keys(got), ...Object.keys(want)])].sort()) {
    if (got[p] !== want[p]) {
      diff.push(`  ${p}:\n    ${`${labels[0]}:`.padEnd(width)} ${got[p] ?? '(missing)'}\n    ${`${labels[1]}:`.padEnd(width)} ${want[p] ?? '(missing)'}`);
    }
  }
  if (diff.length > 0) throw new Error(`${when}, the trees differ:\n${diff.join('\n')}`);
}

// ---- running a sequence -----------------------------------------------------------------------

function isWritableDir(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A scratch directory for a property's trees, on a memory filesystem where there is one: a run
 * makes and removes a tree on the host, and that is most of a run's time on a disk filesystem.
 */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(isWritableDir('/dev/shm') ? '/dev/shm' : os.tmpdir(), prefix));
}

export interface Sequence {
  ops: readonly Op<PathSpec>[];
  /** The plain Linux directory the operations also run on (node:fs); picks name its paths. */
  host: string;
  /** The VFS over the filesystem under test, which the operations run through. */
  vfs: VirtualFilesystem;
  /** What the filesystem under test is called in a failure ("the overlay"). */
  name: string;
  /** Compares the states; runs before the first operation, at each `check` and at the end. */
  check(when: string): void;
  /** The host directory the filesystem under test serves, which `outside` operations change directly. */
  outside?: string;
  /** Called before each operation (a goferfs with cache=shared ticks its OperationClock, as the Sentry does per syscall). */
  beforeEach?(): void;
}

/**
 * Runs one sequence on both sides: after each operation the errnos (and what an fdread saw) must
 * be the same. Throws what differed first, with the sequence as it ran (concrete paths).
 */
export function runSequence({ ops, host, vfs, name, check, outside, beforeEach }: Sequence): void {
  const ran: Op[] = [];
  const everSeen = new Set(existingPaths(host));
  const hostFiles: OpenFiles<number> = { list: [], lastRead: '' };
  const sandboxFiles: OpenFiles<FileHandle | null> = { list: [], lastRead: '' };
  try {
    check('before any operation');
    ops.forEach((generated, i) => {
      const op = concrete(generated, host, everSeen);
      beforeEach?.();
      if (op.op === 'check') {
        ran.push(op);
        check(`at operation ${i}`);
        return;
      }
      if (op.op === 'outside') {
        const inner = op.inner as Primitive;
        if (outside === undefined) throw new Error('an outside operation, and no Sequence.outside to run it on');
        ran.push(op);
        const there = onHost(outside, inner, { list: [], lastRead: '' }), want = onHost(host, inner, hostFiles);
        if (there !== want) throw new Error(`operation ${i} ${show(op)}: the served directory says ${errnoName(there)}, Linux ${errnoName(want)}`);
        for (const p of existingPaths(host)) everSeen.add(p);
        return;
      }
      for (const step of op.op === 'rmtree' ? rmtreePlan(host, op.path) : [op]) {
        if (step.op === 'check' || step.op === 'rmtree' || step.op === 'outside') continue;
        ran.push(step);
        const want = onHost(host, step, hostFiles);
        const got = inSandbox(vfs, step, sandboxFiles);
        if (got !== want) throw new Error(`operation ${i} ${show(step)}: ${name} says ${errnoName(got)}, Linux ${errnoName(want)}`);
        if (hostFiles.lastRead !== sandboxFiles.lastRead) {
          throw new Error(`operation ${i} ${show(step)}: ${name} reads ${sandboxFiles.lastRead}, Linux ${hostFiles.lastRead}`);
        }
      }
      for (const p of existingPaths(host)) everSeen.add(p);
    });
    check('at the end');
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    e.message += `\n\nthe sequence as run: [${ran.map(show).join(', ')}]`;
    throw e;
  } finally {
    for (const f of hostFiles.list) fs.closeSync(f.h);
    for (const f of sandboxFiles.list) f.h?.close();
  }
}

/** fast-check over `runs` sequences of `arb`; a failure fails the test with the shrunk sequence and what differed. */
export function holdsFor(arb: fc.Arbitrary<Op<PathSpec>>, runs: number, property: (ops: Op<PathSpec>[]) => void): void {
  const details = fc.check(fc.property(fc.array(arb, { maxLength: MAX_OPS, size: 'max' }), property), { numRuns: runs });
  if (details.failed) {
    // fast-check's report names the shrunk sequence; the error under it says what differed.
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.unreachable(`${fc.defaultReportMessage(details)}\n\n${cause}`);
  }
}
