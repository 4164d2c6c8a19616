// Property-based test of goferfs, on the model in test/fs/fs-model.ts: random operations through
// the VirtualFilesystem on a GoferFilesystem serving one host copy of the seed tree (directfs:
// the gofer server's code in this thread, read-write), and with node:fs on another copy. The
// dentry cache is bounded to a handful of names and FDs, so nearly every operation meets a name
// evicted (revived by name), a negative entry, or a cached one an earlier operation changed.
// After each operation the errnos must be the same; at each `check` and at the end, what goferfs
// shows, the served directory and the Linux copy must be the same trees.
// GOFER_PROPERTY_RUNS=N runs N sequences (default 1000).
//
// Left out on purpose: chmod (no WASI call changes a mode, and the protocol carries none: goferfs
// answers ENOTSUP).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import { GoferFilesystem, type GoferFilesystemOptions } from '../../../src/fs/gofer/gofer-filesystem.js';
import { NOTHING_AHEAD, type FilesystemImpl } from '../../../src/fs/vfs/filesystem.js';
import { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import * as libc from '../../../src/host/libc.js';
import {
  buildTree, fsState, holdsFor, hostState, opArb, outsideArb, runSequence, sameStates, scratchDir, type Op, type PathSpec,
} from '../fs-model.js';
import { startGofer, type GoferRig } from './gofer-rig.js';

const RUNS = Number(process.env.GOFER_PROPERTY_RUNS ?? 1000);
const DIR_FLAGS = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;
/** Far below the seed tree's 17 names, so eviction and revival run all the time. */
const TINY_CACHE = { maxCachedDentries: 3, maxCachedNames: 6, maxNegativePerDir: 2 };

/** goferfs serving the host directory `served`: `view` is what the VFS is built on. */
type Serve = (served: string, options: GoferFilesystemOptions) => { view: FilesystemImpl; release(): void };

/** directfs: the gofer server's code in this thread, on the directory's own FD. */
const directfs: Serve = (served, options) => {
  const gfs = createDirectfs(libc.openat(libc.AT_FDCWD, served, DIR_FLAGS), libc.openat(libc.AT_FDCWD, '/proc', DIR_FLAGS), false, 2n, options);
  return { view: gfs, release: () => gfs.release() };
};

/**
 * A GoferActor (a worker thread, over a ring: the framed protocol) that serves `base`, every run's
 * tree beneath it; the VFS sees the run's directory as its root.
 */
function overRing(rig: GoferRig): Serve {
  return (served, options) => {
    const gfs = new GoferFilesystem(rig.ring, 2n, options);
    let root = gfs.root();
    for (const name of path.relative(rig.dir, served).split('/')) root = gfs.lookup(root, name, NOTHING_AHEAD);
    const view = new Proxy(gfs, {
      get: (target, key) => {
        if (key === 'root') return () => root;
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return { view, release: () => gfs.release() };
  };
}

/**
 * One sequence on two fresh copies of the seed tree in `dir`: one served by goferfs, one plain.
 * `shared`: the mount's cache=shared, its clock ticked per operation as the Sentry ticks it per
 * syscall; `outside` operations then change the served copy behind goferfs, which must see them.
 */
function runIn(dir: string, ops: readonly Op<PathSpec>[], cache: 'exclusive' | 'shared' = 'exclusive', serve = directfs): void {
  const linux = path.join(dir, 'linux'), served = path.join(dir, 'served');
  fs.mkdirSync(linux, { recursive: true });
  fs.mkdirSync(served);
  try {
    buildTree(linux);
    buildTree(served);
    const clock = { now: 0 };
    const gofer = serve(served, { ...TINY_CACHE, cache, clock });
    try {
      runSequence({
        ops, host: linux, vfs: new VirtualFilesystem(gofer.view, false), name: 'goferfs', outside: served,
        beforeEach: () => { clock.now++; },
        check: (when) => {
          sameStates(fsState(gofer.view), hostState(linux), ['goferfs', 'Linux'], when);
          sameStates(hostState(served), hostState(linux), ['served directory', 'Linux'], when);
        },
      });
    } finally {
      gofer.release();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function inScratch(f: (base: string) => void): void {
  const oldUmask = process.umask(0o022);
  const base = scratchDir('gofer-property-');
  try {
    f(base);
  } finally {
    process.umask(oldUmask);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

test('goferfs with a tiny dentry cache behaves like a plain Linux directory, and writes what it shows', () => {
  inScratch((base) => {
    let run = 0;
    const started = Date.now();
    holdsFor(opArb(['chmod']), RUNS, (ops) => runIn(path.join(base, `run-${run++}`), ops));
    console.log(`  goferfs property: ${run} runs (with shrinking) in ${Date.now() - started} ms`);
  });
});

test('…and with cache=shared it sees what changes behind its back, at the next operation', () => {
  inScratch((base) => {
    let run = 0;
    const started = Date.now();
    const arb = fc.oneof({ arbitrary: opArb(['chmod']), weight: 3 }, { arbitrary: outsideArb, weight: 1 });
    holdsFor(arb, Math.ceil(RUNS / 2), (ops) => runIn(path.join(base, `run-${run++}`), ops, 'shared'));
    console.log(`  goferfs property, cache=shared: ${run} runs (with shrinking) in ${Date.now() - started} ms`);
  });
});

test('…and so does goferfs over a GoferActor, through the ring', async () => {
  const oldUmask = process.umask(0o022);
  const base = scratchDir('gofer-property-ring-');
  const rig = startGofer({ dir: base });
  try {
    let run = 0;
    const started = Date.now();
    holdsFor(opArb(['chmod']), Math.ceil(RUNS / 4), (ops) => runIn(path.join(base, `run-${run++}`), ops, 'exclusive', overRing(rig)));
    console.log(`  goferfs property, over a ring: ${run} runs (with shrinking) in ${Date.now() - started} ms`);
  } finally {
    await rig.stop();
    process.umask(oldUmask);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

// Sequences the property found, shrunk; each failed before its fix.

test('link keeps the target\'s FD while it revives the new parent ([link("c/b", "a/a")]: was EBADF)', () => {
  inScratch((base) => runIn(path.join(base, 'run'), [{ op: 'link', from: 'c/b', to: 'a/a' }]));
});

test('rename over a name not in the cache drops the replaced file\'s cached link count (was nlink 2 for 1)', () => {
  inScratch((base) => runIn(path.join(base, 'run'), [
    { op: 'rename', from: 'a/c/d', to: 'c/a/b' }, { op: 'link', from: 'a/b', to: 'a/e/a' }, { op: 'unlink', path: 'a/c/e' },
    { op: 'open', path: 'c/a/b', write: false }, { op: 'unlink', path: 'c/b' }, { op: 'rename', from: 'a/e/a', to: 'c/d' },
    { op: 'open', path: 'b', write: false }, { op: 'open', path: 'a/b', write: false }, { op: 'rename', from: 'b', to: 'c/d' },
  ]));
});

test.run();
