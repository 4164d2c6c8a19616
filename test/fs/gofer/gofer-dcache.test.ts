// The bounded dentry cache: evicted control FDs are closed on the gofer in batches, and an inode the
// VFS still holds after eviction is revived by name, or ESTALE if the name now holds another file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { Errno } from '../../../src/wasi/errno.js';
import { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import { CLOSE_BATCH } from '../../../src/fs/gofer/protocol.js';
import { errnoOfCall } from './errno-of.js';
import { startGofer, type GoferRig } from './gofer-rig.js';
import { NOTHING_AHEAD } from '../../../src/fs/vfs/filesystem.js';

let rig: GoferRig;

test.before(() => {
  rig = startGofer();
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(rig.dir, `f${i}`), String(i));
});
test.after(() => rig.stop());

test('the cache stays bounded and the gofer\'s control FDs with it', async () => {
  // Shared mode, so that stat goes to the gofer and the evicted inode must be revived to answer.
  const clock = { now: 0 };
  const gfs = new GoferFilesystem(rig.ring, 1n, { maxCachedDentries: 10, cache: 'shared', clock });
  const first = gfs.lookup(gfs.root(), 'f0', NOTHING_AHEAD);
  for (let i = 1; i < 300; i++) gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD);
  assert.is(gfs.cachedDentries, 10);
  assert.ok(gfs.rpcCounts.Close >= 2, 'evicted FDs went back in batches');
  assert.ok(gfs.rpcCounts.Close <= 290 / CLOSE_BATCH + 1, 'batched, not one Close per eviction');
  const open = (await rig.actor.control.stats()).controlFds;
  assert.ok(open <= 10 + 1 + CLOSE_BATCH, `gofer holds ${open} control FDs`);

  // f0 was evicted long ago; the VFS still holds it: it is revived by name.
  const walks = gfs.rpcCounts.Walk;
  clock.now++;
  assert.is(gfs.stat(first).size, 1n);
  assert.is(gfs.rpcCounts.Walk - walks, 1);
  // A name replaced on the host behind an evicted inode: ESTALE, never the other file.
  const f1 = gfs.lookup(gfs.root(), 'f1', NOTHING_AHEAD);
  for (let i = 100; i < 120; i++) gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD);
  fs.rmSync(path.join(rig.dir, 'f1'));
  fs.writeFileSync(path.join(rig.dir, 'f1'), 'impostor');
  clock.now++;
  assert.is(errnoOfCall(() => gfs.stat(f1)), Errno.STALE);
  gfs.release();
  const after = (await rig.actor.control.stats()).controlFds;
  assert.is(after, 0, 'release closes every control FD on the gofer');
});

test('a directory a descriptor names keeps its FD: the host may move it and reuse its name', () => {
  const clock = { now: 0 };
  const gfs = new GoferFilesystem(rig.ring, 1n, { maxCachedDentries: 10, cache: 'shared', clock });
  fs.mkdirSync(path.join(rig.dir, 'held'));
  fs.writeFileSync(path.join(rig.dir, 'held', 'inside'), 'original');
  const held = gfs.lookup(gfs.root(), 'held', NOTHING_AHEAD);
  const loose = gfs.lookup(gfs.root(), 'held', NOTHING_AHEAD);
  gfs.pin(held);
  for (let i = 0; i < 50; i++) gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD);
  // The host renames the directory away and puts another one in its place.
  fs.renameSync(path.join(rig.dir, 'held'), path.join(rig.dir, 'moved'));
  fs.mkdirSync(path.join(rig.dir, 'held'));
  clock.now++;
  const f = gfs.lookup(held, 'inside', NOTHING_AHEAD);
  const h = gfs.open(f, { read: true, write: false, truncate: false });
  const buf = new Uint8Array(8);
  assert.is(h.read(buf, 0), 8);
  assert.is(Buffer.from(buf).toString(), 'original', 'the descriptor follows its directory');
  h.close();
  gfs.unpin(held);
  assert.is(loose, held, 'one dentry per name while it lasted');
  for (let i = 50; i < 100; i++) gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD);
  clock.now++;
  assert.is(errnoOfCall(() => gfs.lookup(held, 'inside', NOTHING_AHEAD)), Errno.STALE, 'unpinned, it was evicted and its name now holds another directory');
  gfs.release();
  fs.rmSync(path.join(rig.dir, 'moved'), { recursive: true });
  fs.rmSync(path.join(rig.dir, 'held'), { recursive: true });
});

test('beyond the FD bound a dentry keeps its name and attributes; beyond the name bound it goes', async () => {
  const gfs = new GoferFilesystem(rig.ring, 1n, { maxCachedDentries: 10, maxCachedNames: 50 });
  const inodes = [];
  for (let i = 0; i < 300; i++) inodes.push(gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD));
  assert.is(gfs.cachedDentries, 10, 'FDs held');
  assert.is(gfs.cachedNames, 50, 'names held');
  assert.is(gfs.cachedAttrs, 51, 'attributes held: those of the names, and the root\'s');
  const open = (await rig.actor.control.stats()).controlFds;
  assert.ok(open <= 10 + 1 + CLOSE_BATCH, `gofer holds ${open} control FDs`);

  // f260 gave its FD back but is still cached: looking it up and stat'ing it cost no RPC.
  const before = { ...gfs.rpcCounts };
  assert.is(gfs.lookup(gfs.root(), 'f260', NOTHING_AHEAD), inodes[260]);
  assert.is(gfs.stat(inodes[260]!).size, 3n);
  assert.equal(gfs.rpcCounts, before);
  // f0 left the tree: looking it up walks again, and finds the same file.
  assert.is(gfs.stat(gfs.lookup(gfs.root(), 'f0', NOTHING_AHEAD)).ino, gfs.stat(inodes[0]!).ino);
  assert.is(gfs.rpcCounts.Walk - before.Walk, 1);
  // Reading f260 needs an FD again: it is revived by name, one Walk.
  gfs.open(inodes[260]!, { read: true, write: false, truncate: false }).close();
  assert.is(gfs.rpcCounts.Walk - before.Walk, 2);
  gfs.release();
  assert.is((await rig.actor.control.stats()).controlFds, 0);
});

test('a name just added outlives older names, even those used since the hand last passed', () => {
  const gfs = new GoferFilesystem(rig.ring, 1n, { maxCachedDentries: 10, maxCachedNames: 50 });
  const find = (i: number): unknown => gfs.lookup(gfs.root(), `f${i}`, NOTHING_AHEAD);
  for (let i = 0; i < 50; i++) find(i);
  for (let i = 25; i < 50; i++) find(i); // used: the hand will give these a second chance
  const added = [];
  for (let i = 50; i < 76; i++) added.push(find(i));
  // The 26th addition sent the hand past f25–f49 (marking them unused, moving them behind): it
  // must still take one of those, or f0–f24's leftovers, before any of f50–f74.
  const walks = gfs.rpcCounts.Walk;
  // (identity by ===: uvu would try to print a diff of two dentries, which point at each other)
  for (let i = 50; i < 76; i++) assert.ok(find(i) === added[i - 50], `f${i} is still cached`);
  assert.is(gfs.rpcCounts.Walk, walks, 'no name added by the sweep was walked again');
  gfs.release();
});

test.run();
