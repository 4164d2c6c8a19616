// The operations a sequence is made of: their types, how fast-check generates them, and how a
// generated one becomes the one that runs (paths picked from the tree as it stands).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { OLD_BASE_S, SEED_TREE } from './seed-tree.js';

/** Small name pools, so operations collide often. */
const NAMES = ['a', 'b', 'c', 'd', 'e'] as const;


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
