import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import { SYMLINK_BUDGET } from '../../../src/fs/vfs/resolving-path.js';
import { FileType } from '../../../src/wasi/abi.js';
import { Errno, SyscallError } from '../../../src/wasi/errno.js';

function errnoOf(fn: () => unknown): number {
  try { fn(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

/** A root tmpfs with /rw (tmpfs) and /ro (read-only tmpfs holding ro/f and ro/d) mounted. */
function tree() {
  const vfs = new VirtualFilesystem(new TmpFilesystem(1n), false);
  const root = vfs.rootLocation;
  vfs.mkdir(root, 'rw');
  vfs.mkdir(root, 'ro');
  const roFs = new TmpFilesystem(3n);
  const f = roFs.create(roFs.root(), 'f', 0o644);
  roFs.open(f, { read: false, write: true, truncate: false }).write(Buffer.from('lower'), 0);
  roFs.mkdir(roFs.root(), 'd', 0o755);
  vfs.mount(vfs.resolve(root, 'rw', true), new TmpFilesystem(2n), false, '/rw');
  vfs.mount(vfs.resolve(root, 'ro', true), roFs, true, '/ro');
  return { vfs, root };
}

test('resolution crosses mounts, and .. comes back out of them', () => {
  const { vfs, root } = tree();
  vfs.mkdir(root, 'rw/sub');
  const sub = vfs.resolve(root, 'rw/sub', true);
  assert.is(vfs.stat(sub).dev, 2n);
  const back = vfs.resolve(root, 'rw/sub/../../ro/d/../f', true);
  assert.is(vfs.stat(back).dev, 3n);
  assert.is(back.inode.type, FileType.REGULAR_FILE);
});

test('.. never climbs above the directory a walk starts at; absolute paths are refused', () => {
  const { vfs, root } = tree();
  assert.is(errnoOf(() => vfs.resolve(root, '..', true)), Errno.NOTCAPABLE);
  assert.is(errnoOf(() => vfs.resolve(root, 'rw/../..', true)), Errno.NOTCAPABLE);
  const rw = vfs.resolve(root, 'rw', true);
  assert.is(errnoOf(() => vfs.resolve(rw, '../ro', true)), Errno.NOTCAPABLE);
  assert.is(errnoOf(() => vfs.resolve(root, '/rw', true)), Errno.NOTCAPABLE);
});

test('symlinks: 40 hops resolve, 41 are ELOOP, a loop is ELOOP, absolute targets are refused', () => {
  const { vfs, root } = tree();
  vfs.mkdir(root, 'rw/chain');
  const chain = vfs.resolve(root, 'rw/chain', true);
  vfs.open(chain, 'target', { followFinal: true, create: true, exclusive: true, directory: false, write: true, truncate: false });
  vfs.symlink('target', chain, 'l0');
  for (let i = 1; i <= SYMLINK_BUDGET; i++) vfs.symlink(`l${i - 1}`, chain, `l${i}`);
  assert.is(vfs.resolve(chain, `l${SYMLINK_BUDGET - 1}`, true).inode.type, FileType.REGULAR_FILE);
  assert.is(errnoOf(() => vfs.resolve(chain, `l${SYMLINK_BUDGET}`, true)), Errno.LOOP);
  vfs.symlink('b', chain, 'a');
  vfs.symlink('a', chain, 'b');
  assert.is(errnoOf(() => vfs.resolve(chain, 'a', true)), Errno.LOOP);
  assert.is(errnoOf(() => vfs.symlink('/etc', chain, 'abs')), Errno.NOTCAPABLE);
  vfs.symlink('../../..', chain, 'up');
  assert.is(errnoOf(() => vfs.resolve(chain, 'up/x', true)), Errno.NOTCAPABLE);
});

test('trailing slashes demand a directory', () => {
  const { vfs, root } = tree();
  assert.is(errnoOf(() => vfs.resolve(root, 'ro/f/', true)), Errno.NOTDIR);
  assert.is(errnoOf(() => vfs.resolve(root, 'ro/f/.', true)), Errno.NOTDIR);
  assert.is(vfs.resolve(root, 'ro/d/', true).inode.type, FileType.DIRECTORY);
  assert.is(errnoOf(() => vfs.unlink(root, 'rw/nope/')), Errno.NOENT);
});

test('every write path on a read-only mount is EROFS while the read-write one beside it works', () => {
  const { vfs, root } = tree();
  const create = { followFinal: true, create: true, exclusive: false, directory: false, write: true, truncate: false };
  assert.is(errnoOf(() => vfs.open(root, 'ro/new', create)), Errno.ROFS);
  assert.is(errnoOf(() => vfs.open(root, 'ro/f', { ...create, create: false, truncate: true })), Errno.ROFS);
  assert.is(errnoOf(() => vfs.open(root, 'ro/f', { ...create, create: false })), Errno.ROFS);
  assert.is(errnoOf(() => vfs.setStat(vfs.resolve(root, 'ro/f', true), { mtim: 'now' })), Errno.ROFS);
  assert.is(errnoOf(() => vfs.setStat(vfs.resolve(root, 'ro/f', true), { size: 0 })), Errno.ROFS);
  assert.is(errnoOf(() => vfs.mkdir(root, 'ro/x')), Errno.ROFS);
  assert.is(errnoOf(() => vfs.rmdir(root, 'ro/d')), Errno.ROFS);
  assert.is(errnoOf(() => vfs.unlink(root, 'ro/f')), Errno.ROFS);
  assert.is(errnoOf(() => vfs.symlink('f', root, 'ro/s')), Errno.ROFS);
  assert.is(errnoOf(() => vfs.rename(root, 'ro/f', root, 'ro/g')), Errno.ROFS);
  assert.is(errnoOf(() => vfs.link(root, 'ro/f', false, root, 'ro/g')), Errno.ROFS);
  // Across the two mounts, Linux answers EXDEV before it looks at writability.
  assert.is(errnoOf(() => vfs.rename(root, 'ro/f', root, 'rw/f')), Errno.XDEV);
  assert.is(errnoOf(() => vfs.link(root, 'rw/../ro/f', false, root, 'rw/f')), Errno.XDEV);
  vfs.open(root, 'rw/f', create);
  assert.is(errnoOf(() => vfs.rename(root, 'rw/f', root, 'ro/f2')), Errno.XDEV);
  assert.is(errnoOf(() => vfs.link(root, 'rw/f', false, root, 'ro/f2')), Errno.XDEV);
  vfs.mkdir(root, 'rw/x');
  vfs.rename(root, 'rw/f', root, 'rw/x/f');
  vfs.link(root, 'rw/x/f', false, root, 'rw/g');
  assert.is(vfs.stat(vfs.resolve(root, 'rw/g', true)).nlink, 2n);
});

test('rename and rmdir keep POSIX rules: no dir into itself, no removing a mount point', () => {
  const { vfs, root } = tree();
  vfs.mkdir(root, 'rw/a');
  vfs.mkdir(root, 'rw/a/b');
  assert.is(errnoOf(() => vfs.rename(root, 'rw/a', root, 'rw/a/b/c')), Errno.INVAL);
  assert.is(errnoOf(() => vfs.rmdir(root, 'rw/a')), Errno.NOTEMPTY);
  assert.is(errnoOf(() => vfs.rmdir(root, 'rw')), Errno.BUSY);
  assert.is(errnoOf(() => vfs.rename(root, 'rw', root, 'elsewhere')), Errno.BUSY);
  vfs.mkdir(root, 'rw/empty');
  vfs.rename(root, 'rw/a/b', root, 'rw/empty');
  assert.is(vfs.resolve(root, 'rw/empty', true).inode.type, FileType.DIRECTORY);
  assert.is(errnoOf(() => vfs.resolve(root, 'rw/a/b', true)), Errno.NOENT);
});

test.run();
