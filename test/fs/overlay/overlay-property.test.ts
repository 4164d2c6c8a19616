// Property-based tests of the rootfs overlay (issue 5, point 5), on the model in test/fs/fs-model.ts
// (what is compared and what is left out on purpose is written there).
// OVERLAY_PROPERTY_RUNS=N runs N sequences (default 3000).
//
// Every sequence runs twice:
//  (a) through the VirtualFilesystem (it implements the checks a filesystem does not: renaming a
//      directory into its own subtree, symlink following, O_CREAT through a dangling link) with an
//      OverlayFilesystem as its root: a fresh tmpfs upper per run over a read-only directfs lower,
//      a small host tree (dirs, files, symlinks, hard links) built once and shared by every run;
//  (b) with node:fs (fs.*Sync) on a fresh plain host copy of the same tree, Node's errors mapped to
//      WASI errnos.
// After every operation the errno (or success) must be the same. At every `check` operation and at
// the end, the observable trees must be the same, and a fresh overlay over the same two layers must
// show the same names (so a missing whiteout or opaque mark cannot hide behind the dentry cache).
// After every run the lower directory is byte- and mtime-identical to before (fingerprint()).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import { OverlayFilesystem } from '../../../src/fs/overlay/overlay-filesystem.js';
import { FileStore, filestoreReserve } from '../../../src/fs/tmpfs/file-store.js';
import { TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import type { FilesystemImpl, Inode } from '../../../src/fs/vfs/filesystem.js';
import { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import * as libc from '../../../src/host/libc.js';
import { FileType } from '../../../src/wasi/abi.js';
import { fingerprint } from '../../wasi/helpers.js';
import {
  TYPE_NAMES, assertSeedTree, buildTree, fsState, holdsFor, hostState, opArb, runSequence, sameStates, scratchDir, type State,
} from '../fs-model.js';
import { startGofer } from '../gofer/gofer-rig.js';

const RUNS = Number(process.env.OVERLAY_PROPERTY_RUNS ?? 3000);
const DIR_FLAGS = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;

// ---- the overlay's own check -----------------------------------------------------------------

/** Names, types and symlink targets: the shape of a tree. */
function layout(ov: OverlayFilesystem): State {
  const out: State = {};
  const walk = (dir: Inode, rel: string): void => {
    for (const e of ov.readdir(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const inode = ov.lookup(dir, e.name);
      out[r] = `${TYPE_NAMES[inode.type] ?? inode.type}${inode.type === FileType.SYMBOLIC_LINK ? ` -> ${ov.readlink(inode)}` : ''}`;
      if (inode.type === FileType.DIRECTORY) walk(inode, r);
    }
  };
  walk(ov.root(), '');
  return out;
}

/**
 * The layers alone say what the overlay's dentry cache says: a fresh overlay over the same upper
 * and lower (what an evicted dentry, or an exported upper, is read back from) sees the same names
 * and types. Without this, a missing whiteout or opaque mark hides behind the cache. Only the shape
 * is compared: which lower names of a hard-linked file were linked up lives in memory only.
 */
function sameLayout(live: OverlayFilesystem, lower: FilesystemImpl, when: string): void {
  // A new overlay gives the upper root the lower root's attributes (it expects a fresh upper): put the live ones back.
  const root = live.upper.root();
  const { mode, uid, gid, atim, mtim } = live.upper.stat(root);
  const fresh = new OverlayFilesystem(4n, live.upper, [lower]);
  live.upper.setStat(root, { mode, uid, gid, atim, mtim });
  const l = layout(live), f = layout(fresh);
  const diff: string[] = [];
  for (const p of [...new Set([...Object.keys(l), ...Object.keys(f)])].sort()) {
    if (l[p] !== f[p]) diff.push(`  ${p}: cached ${l[p] ?? '(missing)'}, read back from the layers ${f[p] ?? '(missing)'}`);
  }
  if (diff.length > 0) throw new Error(`${when}, the layers do not say what the overlay shows:\n${diff.join('\n')}`);
}

// ---- the property -----------------------------------------------------------------------------

/** The upper layer of one run: a tmpfs whose file data is on the heap, or in a mapped host file. */
type Medium = 'memory' | 'filestore';

function upperOf(medium: Medium, base: string): TmpFilesystem {
  const limits = { sizeBytes: 1 << 20, maxInodes: 4096 };
  if (medium === 'memory') return new TmpFilesystem(3n, limits);
  // As `--overlay root:dir=` keeps it: a host file no name reaches (the store owns the FD).
  const file = path.join(base, 'filestore');
  const fd = fs.openSync(file, 'w+');
  fs.unlinkSync(file);
  return new TmpFilesystem(3n, limits, new FileStore(fd, filestoreReserve(limits.sizeBytes)));
}

/**
 * How the lower is served: directfs (the default), or a read-only GoferActor over its ring
 * (`--no-directfs`); started here, stopped by the returned function.
 */
type LowerKind = 'directfs' | 'gofer';

function lowerOf(kind: LowerKind, dir: string): { lower: FilesystemImpl; stop(): Promise<void> } {
  if (kind === 'directfs') {
    const lower = createDirectfs(libc.openat(libc.AT_FDCWD, dir, DIR_FLAGS), libc.openat(libc.AT_FDCWD, '/proc', DIR_FLAGS), true, 2n, {});
    return { lower, stop: async () => lower.release() };
  }
  const rig = startGofer({ dir, readOnly: true });
  const lower = new GoferFilesystem(rig.ring, 2n, {});
  return { lower, stop: async () => { lower.release(); await rig.stop(); } };
}

async function overlayProperty(medium: Medium, runs: number, lowerKind: LowerKind = 'directfs'): Promise<void> {
  const oldUmask = process.umask(0o022);
  const base = scratchDir('overlay-property-');
  const lowerDir = path.join(base, 'lower');
  fs.mkdirSync(lowerDir);
  buildTree(lowerDir);
  const before = fingerprint(lowerDir);
  const { lower, stop } = lowerOf(lowerKind, lowerDir);
  let run = 0;
  try {
    // Each run's host copy is built like the lower: the same tree, modes and mtimes.
    assertSeedTree(base, hostState(lowerDir), 'the lower');

    const started = Date.now();
    holdsFor(opArb(), runs, (ops) => {
      const host = path.join(base, `run-${run++}`);
      fs.mkdirSync(host);
      try {
        buildTree(host);
        // A fresh upper each run; the lower directfs is shared, since the lower never changes.
        const upper = upperOf(medium, base);
        const ov = new OverlayFilesystem(1n, upper, [lower]);
        try {
          runSequence({
            ops, host, vfs: new VirtualFilesystem(ov, false), name: 'the overlay',
            check: (when) => {
              sameStates(fsState(ov), hostState(host), ['overlay', 'Linux'], when);
              sameLayout(ov, lower, when);
            },
          });
        } finally {
          upper.release(); // not ov.release(): the lower is shared by every run
        }
        assert.equal(fingerprint(lowerDir), before, 'the lower directory is unchanged');
      } finally {
        fs.rmSync(host, { recursive: true, force: true });
      }
    });
    console.log(`  overlay property (${medium} upper, ${lowerKind} lower): ${run} runs (with shrinking) in ${Date.now() - started} ms`);
  } finally {
    await stop();
    process.umask(oldUmask);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

test('the overlay behaves like a plain Linux directory, and never writes its lower', async () => {
  await overlayProperty('memory', RUNS);
});

// The same sequences with file data in a mapped host file (`self`, `dir=`): its blocks are
// carved, freed, reused and grown by other code than the heap medium's.
test('…and so it does with a filestore upper', async () => {
  await overlayProperty('filestore', Math.ceil(RUNS / 3));
});

// `--no-directfs`: the lower read through a GoferActor, the framed protocol over its ring.
test('…and over a lower served by a gofer', async () => {
  await overlayProperty('memory', Math.ceil(RUNS / 6), 'gofer');
});

test.run();
