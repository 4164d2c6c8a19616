// The overlay over a real host directory (read-only directfs lower, tmpfs upper): whiteouts,
// opaque directories, copy-up, directory rename, hard links, merged readdir, ENOSPC without a
// partial copy — and after every test the host directory is byte- and mtime-identical.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import type { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import { OverlayFilesystem } from '../../../src/fs/overlay/overlay-filesystem.js';
import { DEFAULT_TMPFS_LIMITS, TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import type { Inode } from '../../../src/fs/vfs/filesystem.js';
import * as libc from '../../../src/host/libc.js';
import { FileType } from '../../../src/wasi/abi.js';
import { Errno } from '../../../src/wasi/errno.js';
import { errnoOfCall } from '../gofer/errno-of.js';
import { makeHostDir } from '../gofer/gofer-rig.js';
import { hostXattrs, setHostXattr } from '../gofer/host-xattr.js';
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
  return overlayOver(dir, sizeBytes);
}

/** The overlay over `dir` (directfs lower, tmpfs upper); done() checks `dir` is as it was now. */
function overlayOver(dir: string, sizeBytes: number): Rig {
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

test('copy-up carries owner, mode and every xattr but the overlay\'s own; the lower keeps its own', () => {
  const r = rig();
  // After the rig's fingerprint: chown and xattrs change only ctime, which it does not compare.
  const f1 = path.join(r.dir, 'a/f1'), a = path.join(r.dir, 'a'), link = path.join(r.dir, 'link');
  fs.chownSync(f1, 1234, 5678);
  fs.chownSync(a, 4321, 8765);
  fs.lchownSync(link, 99, 98);
  setHostXattr(f1, 'user.color', 'blue');
  setHostXattr(f1, 'user.bin', new Uint8Array([0, 255, 7]));
  setHostXattr(a, 'user.dir', 'A');
  setHostXattr(a, 'trusted.overlay.opaque', 'y'); // a lower's own mark: copied up, it would hide a/f2
  const lowerXattrs = { f1: hostXattrs(f1), a: hostXattrs(a) };
  const text = (v: string | Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString());
  try {
    write(r.ov, 'a/f1', 'ONE'); // copies up a/, then a/f1
    const up = r.ov.upper;
    const ua = up.lookup(up.root(), 'a'), uf1 = up.lookup(ua, 'f1');
    const sf = up.stat(uf1), sa = up.stat(ua);
    assert.equal([sf.uid, sf.gid, sf.mode], [1234, 5678, fs.statSync(f1).mode & 0o7777], 'file: owner and mode');
    assert.equal([sa.uid, sa.gid, sa.mode], [4321, 8765, fs.statSync(a).mode & 0o7777], 'directory: owner and mode');
    assert.is(text(up.getXattr(uf1, 'user.color')), 'blue');
    assert.equal(up.getXattr(uf1, 'user.bin'), new Uint8Array([0, 255, 7]));
    assert.is(text(up.getXattr(ua, 'user.dir')), 'A');
    assert.is(up.getXattr(ua, 'trusted.overlay.opaque'), undefined, 'the overlay\'s own xattrs stay below');
    assert.equal(names(r.ov, 'a'), ['f1', 'f2', 'sub'], 'so a/ still merges with the lower');
    assert.is(read(r.ov, 'a/f2'), 'two');
    const so = r.ov.stat(at(r.ov, 'a/f1'));
    assert.equal([so.uid, so.gid], [1234, 5678], 'the overlay reports the copy\'s owner');
    // A symlink copied up (by a rename) keeps its owner too.
    r.ov.rename(r.ov.root(), 'link', at(r.ov, 'a'), 'l2');
    const ul = up.stat(up.lookup(ua, 'l2'));
    assert.equal([ul.uid, ul.gid], [99, 98]);
    // The lower is untouched: its xattrs and owners as set (and r.done() compares bytes, modes, mtimes).
    assert.equal({ f1: hostXattrs(f1), a: hostXattrs(a) }, lowerXattrs);
    const lf = fs.statSync(f1), la = fs.statSync(a);
    assert.equal([lf.uid, lf.gid, la.uid, la.gid], [1234, 5678, 4321, 8765]);
  } finally { r.done(); }
});

// ---- regressions found by overlay-property.test.ts (each with its minimal sequence there) ------

const OLD_S = 1_000_000_000;
const OLD_NS = BigInt(OLD_S) * 1_000_000_000n;

/** A lower whose top and a/hl are one file ("top"), with a/f ("eff"), link → top; every mtime OLD_S. */
function linkedRig(): Rig {
  const dir = makeHostDir();
  fs.mkdirSync(path.join(dir, 'a'));
  fs.writeFileSync(path.join(dir, 'top'), 'top');
  fs.linkSync(path.join(dir, 'top'), path.join(dir, 'a/hl'));
  fs.writeFileSync(path.join(dir, 'a/f'), 'eff');
  fs.symlinkSync('top', path.join(dir, 'link'));
  for (const p of ['top', 'a/f', 'link', 'a', '.']) fs.lutimesSync(path.join(dir, p), OLD_S, OLD_S);
  return overlayOver(dir, 1 << 20);
}

test('the root shows the lower root\'s times; copy-up leaves its parents\' times alone ([], [utimes("a")])', () => {
  const r = linkedRig();
  try {
    assert.is(r.ov.stat(r.ov.root()).mtim, OLD_NS, 'not the time the overlay was made');
    r.ov.setStat(at(r.ov, 'a'), { atim: 5n, mtim: 5n }); // copies a/ up into the root
    assert.is(r.ov.stat(r.ov.root()).mtim, OLD_NS);
    write(r.ov, 'a/f', 'F'); // copies a/f up into a/
    assert.is(r.ov.stat(at(r.ov, 'a')).mtim, 5n);
    assert.ok(r.ov.stat(at(r.ov, 'a/f')).mtim > OLD_NS, 'the file written did change');
  } finally { r.done(); }
});

test('a symlink copied up keeps its times ([rename("a/d", "a/b")])', () => {
  const r = linkedRig();
  try {
    r.ov.rename(r.ov.root(), 'link', at(r.ov, 'a'), 'l2');
    assert.is(r.ov.stat(at(r.ov, 'a/l2')).mtim, OLD_NS);
  } finally { r.done(); }
});

test('O_TRUNC marks the file modified, also when the copy-up left nothing to cut ([create("b", TRUNC)])', () => {
  const r = linkedRig();
  try {
    r.ov.open(at(r.ov, 'a/f'), { read: false, write: true, truncate: true }).close();
    const st = r.ov.stat(at(r.ov, 'a/f'));
    assert.is(st.size, 0n);
    assert.ok(st.mtim > OLD_NS);
  } finally { r.done(); }
});

test('a lower hard link stays one file: copy-up of one name shows in the other ([write("b")], [unlink("b")])', () => {
  const r = linkedRig();
  try {
    assert.is(r.ov.stat(at(r.ov, 'a/hl')).nlink, 2n);
    write(r.ov, 'a/hl', 'T');
    assert.is(read(r.ov, 'top'), 'Top', 'the other name, never copied up, shows the copy');
    const a = r.ov.stat(at(r.ov, 'top')), b = r.ov.stat(at(r.ov, 'a/hl'));
    assert.equal([a.ino, a.nlink, a.size], [b.ino, 2n, 3n]);
    write(r.ov, 'top', 'TO'); // copy-up of the second name: a link to the first copy
    assert.is(read(r.ov, 'a/hl'), 'TOp');
    assert.is(r.ov.upper.stat(r.ov.upper.lookup(r.ov.upper.root(), 'top')).nlink, 2n, 'one upper inode, two names');
    r.ov.unlink(at(r.ov, 'a'), 'hl');
    assert.is(r.ov.stat(at(r.ov, 'top')).nlink, 1n);
  } finally { r.done(); }
  const s = linkedRig();
  try {
    s.ov.unlink(s.ov.root(), 'top'); // a lower name gone, nothing copied up
    assert.is(s.ov.stat(at(s.ov, 'a/hl')).nlink, 1n);
  } finally { s.done(); }
});

test('renaming over one name of a lower hard link drops the other\'s link count ([rename("c/c", "b")])', () => {
  const r = linkedRig();
  try {
    r.ov.rename(r.ov.root(), 'link', r.ov.root(), 'top');
    assert.is(r.ov.stat(at(r.ov, 'a/hl')).nlink, 1n);
    assert.is(read(r.ov, 'a/hl'), 'top');
  } finally { r.done(); }
});

test('a lower name keeps the data of a copy whose upper names are all gone ([write("b"), unlink("b"), write("a/c/d")])', () => {
  const r = linkedRig();
  try {
    write(r.ov, 'top', 'T');
    r.ov.unlink(r.ov.root(), 'top');
    assert.is(read(r.ov, 'a/hl'), 'Top', 'the copy outlives its last upper name');
    assert.is(r.ov.stat(at(r.ov, 'a/hl')).nlink, 1n);
    write(r.ov, 'a/hl', 'TO'); // copied up: the copy takes this name
    assert.is(read(r.ov, 'a/hl'), 'TOp');
    assert.is(r.ov.stat(at(r.ov, 'a/hl')).nlink, 1n);
  } finally { r.done(); }
});

test('an open through a lower hard link\'s name, unlinked since, still writes what its other name shows ([open("e", O_WRONLY), unlink("e"), utimes("c/d"), fdwrite(fd#0)])', () => {
  const r = linkedRig();
  try {
    const h = r.ov.open(at(r.ov, 'top'), W); // copies the file up through "top"
    r.ov.unlink(r.ov.root(), 'top');
    r.ov.setStat(at(r.ov, 'a/hl'), { mtim: 1_000_000_000n * 1_000_000_000n }); // copy-up of the other name
    h.write(Buffer.from('X'), 0);
    h.close();
    assert.is(read(r.ov, 'a/hl'), 'Xop', 'one file, as on Linux: not a second copy');
    assert.is(r.ov.stat(at(r.ov, 'a/hl')).nlink, 1n);
  } finally { r.done(); }
});

test('a read-only open of a lower file reads the copy after the copy\'s last name is gone ([open("c/a/b", O_RDONLY), write("c/a/b"), unlink("c/a/b"), fdread(fd#0)])', () => {
  const r = rig();
  try {
    const early = r.ov.open(at(r.ov, 'a/f1'), R);
    write(r.ov, 'a/f1', 'ONE');
    r.ov.unlink(at(r.ov, 'a'), 'f1');
    const buf = new Uint8Array(8);
    assert.is(Buffer.from(buf.subarray(0, early.read(buf, 0))).toString(), 'ONE');
    assert.is(early.size(), 3);
    early.close();
    assert.equal(names(r.ov, 'a'), ['f2', 'sub']);
  } finally { r.done(); }
});

test('a name no layer has is remembered as absent, and shows once any call makes it', () => {
  const r = rig();
  try {
    const a = at(r.ov, 'a');
    const makers: [string, (name: string) => void][] = [
      ['create', (n) => r.ov.create(a, n, 0o644)],
      ['mkdir', (n) => r.ov.mkdir(a, n, 0o755)],
      ['symlink', (n) => r.ov.symlink(a, n, 'f1')],
      ['link', (n) => r.ov.link(a, n, at(r.ov, 'a/f1'))],
      ['rename', (n) => r.ov.rename(r.ov.root(), 'top', a, n)],
    ];
    for (const [call, make] of makers) {
      const name = `new-${call}`;
      assert.is(r.ov.find(a, name), undefined, `${call}: missing before`);
      assert.is(errnoOfCall(() => r.ov.lookup(a, name)), Errno.NOENT, `${call}: ENOENT, from the remembered miss`);
      make(name);
      assert.ok(r.ov.find(a, name), `${call}: found once made`);
    }
    assert.is(r.ov.find(r.ov.root(), 'top'), undefined, 'a name renamed away is gone');
    r.ov.unlink(a, 'f2');
    assert.is(r.ov.find(a, 'f2'), undefined, 'a whiteout hides the lower name');
    r.ov.create(a, 'f2', 0o644);
    assert.is(read(r.ov, 'a/f2'), '', 'and the name can be made again over it');
  } finally { r.done(); }
});

test('a merged directory reads its lowers once; later listings still show every upper change', () => {
  const r = rig();
  try {
    const lower = r.ov.lowerLayers[0] as GoferFilesystem;
    assert.equal(names(r.ov, 'a'), ['f1', 'f2', 'sub']);
    const reads = lower.rpcCounts.Getdents64;
    r.ov.create(at(r.ov, 'a'), 'new', 0o644);
    r.ov.unlink(at(r.ov, 'a'), 'f1');
    r.ov.rename(at(r.ov, 'a'), 'f2', at(r.ov, 'a'), 'f3');
    assert.equal(names(r.ov, 'a'), ['f3', 'new', 'sub']);
    assert.is(lower.rpcCounts.Getdents64, reads, 'no host directory read for the second listing');
    const inos = new Map(r.ov.readdir(at(r.ov, 'a')).map((e) => [e.name, e.ino]));
    assert.is(inos.get('sub'), r.ov.stat(at(r.ov, 'a/sub')).ino, 'a cached lower entry keeps the inode number stat reports');
  } finally { r.done(); }
});

test.run();
