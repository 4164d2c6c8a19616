// The overlay over a real host directory (read-only directfs lower, tmpfs upper): whiteouts,
// opaque directories, copy-up, directory rename, hard links, merged readdir, ENOSPC without a
// partial copy — and after every test the host directory is byte- and mtime-identical.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import { OverlayFilesystem } from '../../../src/fs/overlay/overlay-filesystem.js';
import { DEFAULT_TMPFS_LIMITS, TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import type { Inode } from '../../../src/fs/vfs/filesystem.js';
import * as libc from '../../../src/host/libc.js';
import { FileType } from '../../../src/wasi/abi.js';
import { Errno } from '../../../src/wasi/errno.js';
import { errnoOfCall } from '../gofer/errno-of.js';
import { makeHostDir } from '../gofer/gofer-rig.js';
import { fingerprint } from '../../wasi/helpers.js';

const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;
const R = { read: true, write: false, truncate: false };
const W = { read: false, write: true, truncate: false };

interface Rig { dir: string; ov: OverlayFilesystem; before: Record<string, string>; done(): void }

/** A lower tree: a/f1 ("one"), a/f2 ("two"), a/sub/g ("gee"), top ("top"), link → top. */
function rig(sizeBytes = DEFAULT_TMPFS_LIMITS.sizeBytes): Rig {
  const dir = makeHostDir();
  fs.mkdirSync(path.join(dir, 'a/sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a/f1'), 'one');
  fs.writeFileSync(path.join(dir, 'a/f2'), 'two');
  fs.writeFileSync(path.join(dir, 'a/sub/g'), 'gee');
  fs.writeFileSync(path.join(dir, 'top'), 'top');
  fs.symlinkSync('top', path.join(dir, 'link'));
  const before = fingerprint(dir);
  const lower = createDirectfs(libc.openat(libc.AT_FDCWD, dir, DIR), libc.openat(libc.AT_FDCWD, '/proc', DIR), true, 2n, {});
  const ov = new OverlayFilesystem(1n, new TmpFilesystem(3n, { sizeBytes, maxInodes: 1000 }), [lower]);
  return {
    dir, ov, before,
    done: () => {
      ov.release();
      const after = fingerprint(dir);
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(after, before, 'the lower directory is unchanged');
    },
  };
}

function at(ov: OverlayFilesystem, p: string): Inode {
  let cur = ov.root();
  for (const n of p.split('/')) cur = ov.lookup(cur, n);
  return cur;
}

function read(ov: OverlayFilesystem, p: string): string {
  const h = ov.open(at(ov, p), R);
  const buf = new Uint8Array(4096);
  const n = h.read(buf, 0);
  h.close();
  return Buffer.from(buf.subarray(0, n)).toString();
}

function write(ov: OverlayFilesystem, p: string, text: string, offset = 0): void {
  const h = ov.open(at(ov, p), W);
  h.write(Buffer.from(text), offset);
  h.close();
}

const names = (ov: OverlayFilesystem, p: string): string[] => ov.readdir(p === '' ? ov.root() : at(ov, p)).map((e) => e.name).sort();

test('writing a lower file copies it up; an earlier read-only open sees the new bytes', () => {
  const r = rig();
  try {
    const f1 = at(r.ov, 'a/f1');
    const ino = r.ov.stat(f1).ino;
    const early = r.ov.open(f1, R);
    write(r.ov, 'a/f1', 'ONE');
    assert.is(read(r.ov, 'a/f1'), 'ONE');
    const buf = new Uint8Array(8);
    assert.is(Buffer.from(buf.subarray(0, early.read(buf, 0))).toString(), 'ONE');
    early.close();
    assert.is(r.ov.stat(f1).ino, ino, 'copy-up keeps the inode number');
    assert.is(r.ov.stat(at(r.ov, 'a')).type, FileType.DIRECTORY);
    assert.equal(names(r.ov, 'a'), ['f1', 'f2', 'sub'], 'the copied-up file shows once');
  } finally { r.done(); }
});

test('unlink of a lower file leaves a whiteout nobody sees; the name can be made again', () => {
  const r = rig();
  try {
    r.ov.unlink(at(r.ov, 'a'), 'f2');
    assert.is(errnoOfCall(() => at(r.ov, 'a/f2')), Errno.NOENT);
    assert.equal(names(r.ov, 'a'), ['f1', 'sub']);
    r.ov.create(at(r.ov, 'a'), 'f2', 0o644);
    assert.is(read(r.ov, 'a/f2'), '', 'a new, empty file, not the lower one');
    assert.is(r.ov.stat(at(r.ov, 'a/f2')).type, FileType.REGULAR_FILE);
    r.ov.unlink(r.ov.root(), 'link');
    assert.equal(names(r.ov, ''), ['a', 'top']);
  } finally { r.done(); }
});

test('rmdir of a directory holding only whiteouts; mkdir of the name again is empty (opaque)', () => {
  const r = rig();
  try {
    const a = at(r.ov, 'a');
    assert.is(errnoOfCall(() => r.ov.rmdir(r.ov.root(), 'a')), Errno.NOTEMPTY);
    r.ov.unlink(a, 'f1');
    r.ov.unlink(a, 'f2');
    r.ov.unlink(at(r.ov, 'a/sub'), 'g');
    r.ov.rmdir(a, 'sub');
    assert.equal(names(r.ov, 'a'), []);
    r.ov.rmdir(r.ov.root(), 'a');
    assert.is(errnoOfCall(() => at(r.ov, 'a')), Errno.NOENT);
    r.ov.mkdir(r.ov.root(), 'a', 0o755);
    assert.equal(names(r.ov, 'a'), [], 'the lower a/ does not merge into the new one');
    assert.is(errnoOfCall(() => at(r.ov, 'a/f1')), Errno.NOENT);
  } finally { r.done(); }
});

test('a directory rename moves the whole subtree; the old name is gone', () => {
  const r = rig();
  try {
    r.ov.rename(r.ov.root(), 'a', r.ov.root(), 'b');
    assert.is(errnoOfCall(() => at(r.ov, 'a')), Errno.NOENT);
    assert.equal(names(r.ov, 'b'), ['f1', 'f2', 'sub']);
    assert.is(read(r.ov, 'b/sub/g'), 'gee');
    assert.is(read(r.ov, 'b/f2'), 'two');
    assert.equal(names(r.ov, ''), ['b', 'link', 'top']);
    // And back over an empty merged directory made meanwhile.
    r.ov.mkdir(r.ov.root(), 'a', 0o755);
    r.ov.rename(r.ov.root(), 'b', r.ov.root(), 'a');
    assert.equal(names(r.ov, 'a'), ['f1', 'f2', 'sub']);
  } finally { r.done(); }
});

test('a hard link to a lower file: one inode, two names, nlink 2', () => {
  const r = rig();
  try {
    r.ov.link(r.ov.root(), 'top2', at(r.ov, 'top'));
    const a = r.ov.stat(at(r.ov, 'top')), b = r.ov.stat(at(r.ov, 'top2'));
    assert.is(a.ino, b.ino);
    assert.is(a.nlink, 2n);
    write(r.ov, 'top2', 'TOP');
    assert.is(read(r.ov, 'top'), 'TOP');
    assert.is(errnoOfCall(() => r.ov.link(r.ov.root(), 'a2', at(r.ov, 'a'))), Errno.PERM);
  } finally { r.done(); }
});

test('a symlink reads the same after copy-up (rename); readdir never shows machinery', () => {
  const r = rig();
  try {
    assert.is(r.ov.readlink(at(r.ov, 'link')), 'top');
    r.ov.rename(r.ov.root(), 'link', at(r.ov, 'a'), 'l2');
    assert.is(r.ov.readlink(at(r.ov, 'a/l2')), 'top');
    for (const e of [...r.ov.readdir(r.ov.root()), ...r.ov.readdir(at(r.ov, 'a'))]) {
      assert.not.equal(e.type, FileType.CHARACTER_DEVICE, `whiteout ${e.name} shown`);
    }
  } finally { r.done(); }
});

test('a copy-up past the upper cap is ENOSPC and leaves no partial file', () => {
  const r = rig(2);
  try {
    assert.is(errnoOfCall(() => r.ov.open(at(r.ov, 'a/f1'), W)), Errno.NOSPC);
    assert.is(read(r.ov, 'a/f1'), 'one', 'still the lower file');
    assert.is(r.ov.upper.usage.bytes, 0);
    // Truncating needs no data copied: it fits.
    r.ov.open(at(r.ov, 'a/f1'), { read: false, write: true, truncate: true }).close();
    assert.is(r.ov.stat(at(r.ov, 'a/f1')).size, 0n);
  } finally { r.done(); }
});

test.run();
