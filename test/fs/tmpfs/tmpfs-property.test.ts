// Property-based test of the sandbox's own filesystem, on the model in test/fs/fs-model.ts: the
// tmpfs a sandbox without a rootfs has as its root (and every overlay has as its upper), with the
// seed tree made in it through the VFS, against node:fs on a host copy. Random operations, the same
// errnos after each, the same trees at each `check`. TMPFS_PROPERTY_RUNS=N runs N sequences
// (default 1000).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import {
  assertSeedTree, buildTree, buildTreeThrough, fsState, holdsFor, hostState, opArb, runSequence, sameStates, scratchDir,
} from '../fs-model.js';

const RUNS = Number(process.env.TMPFS_PROPERTY_RUNS ?? 1000);

test('tmpfs behaves like a plain Linux directory', () => {
  const oldUmask = process.umask(0o022);
  const base = scratchDir('tmpfs-property-');
  let run = 0;
  try {
    // The model starts where Linux does: the seed tree made through the VFS reads like buildTree's.
    const probe = new TmpFilesystem(1n, { sizeBytes: 1 << 20, maxInodes: 4096 });
    buildTreeThrough(new VirtualFilesystem(probe, false));
    assertSeedTree(base, fsState(probe), 'a tmpfs with the seed tree made through the VFS');

    const started = Date.now();
    holdsFor(opArb(), RUNS, (ops) => {
      const host = path.join(base, `run-${run++}`);
      fs.mkdirSync(host);
      const tmp = new TmpFilesystem(1n, { sizeBytes: 1 << 20, maxInodes: 4096 });
      try {
        buildTree(host);
        const vfs = new VirtualFilesystem(tmp, false);
        buildTreeThrough(vfs);
        runSequence({
          ops, host, vfs, name: 'tmpfs',
          check: (when) => sameStates(fsState(tmp), hostState(host), ['tmpfs', 'Linux'], when),
        });
      } finally {
        tmp.release();
        fs.rmSync(host, { recursive: true, force: true });
      }
    });
    console.log(`  tmpfs property: ${run} runs (with shrinking) in ${Date.now() - started} ms`);
  } finally {
    process.umask(oldUmask);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test.run();
