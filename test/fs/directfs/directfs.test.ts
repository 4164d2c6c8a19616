// directfs: goferfs over a GoferServer in this thread, on real host FDs. A miss Walks the
// directories on the way (they keep FDs: the next miss beneath them needs one) and WalkStats the
// last name, which leaves an FD-less dentry; its FD is made only when the file is used.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import type { GoferFilesystem, GoferFilesystemOptions } from '../../../src/fs/gofer/gofer-filesystem.js';
import { NOTHING_AHEAD, type Inode } from '../../../src/fs/vfs/filesystem.js';
import * as libc from '../../../src/host/libc.js';
import { Errno } from '../../../src/wasi/errno.js';
import { errnoOfCall } from '../gofer/errno-of.js';
import { makeHostDir } from '../gofer/gofer-rig.js';
import { aheadOf } from '../gofer/gofer-rig.js';

const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;

function mount(dir: string, options: GoferFilesystemOptions = {}): GoferFilesystem {
  return createDirectfs(libc.openat(libc.AT_FDCWD, dir, DIR), libc.openat(libc.AT_FDCWD, '/proc', DIR), false, 7n, options);
}

function resolve(gfs: GoferFilesystem, p: string): Inode {
  const parts = p.split('/');
  let cur = gfs.root();
  parts.forEach((n, i) => { cur = gfs.lookup(cur, n, aheadOf(parts.slice(i + 1))); });
  return cur;
}

test('a stat that misses Walks the directories and WalkStats the file, which gets an FD only when opened', () => {
  const dir = makeHostDir();
  try {
    fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a/b/f'), 'hello');
    fs.writeFileSync(path.join(dir, 'a/b/g'), '');
    const gfs = mount(dir);
    const f = resolve(gfs, 'a/b/f');
    assert.is(gfs.stat(f).size, 5n);
    assert.equal({ walk: gfs.rpcCounts.Walk, walkStat: gfs.rpcCounts.WalkStat, fstat: gfs.rpcCounts.FStat }, { walk: 1, walkStat: 1, fstat: 0 });
    assert.is(gfs.cachedDentries, 2, 'a and b hold FDs; f does not');
    const g = resolve(gfs, 'a/b/g');
    assert.is(errnoOfCall(() => gfs.lookup(g, 'x', NOTHING_AHEAD)), Errno.NOTDIR);
    assert.equal({ walk: gfs.rpcCounts.Walk, walkStat: gfs.rpcCounts.WalkStat }, { walk: 1, walkStat: 2 }, 'a miss beneath b needs no revival of b');
    const h = gfs.open(f, { read: true, write: false, truncate: false });
    const buf = new Uint8Array(5);
    assert.is(h.read(buf, 0), 5);
    assert.is(Buffer.from(buf).toString(), 'hello');
    h.close();
    assert.is(gfs.rpcCounts.Walk, 2, 'opening gave f its FD by walking its name again');
    assert.is(gfs.cachedDentries, 3);
    gfs.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cache=shared checks each cached name by one statx, opening nothing, and sees a directory replaced behind it', () => {
  const dir = makeHostDir();
  try {
    fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a/b/f'), 'hello');
    const clock = { now: 0 };
    const gfs = mount(dir, { cache: 'shared', clock });
    assert.is(gfs.stat(resolve(gfs, 'a/b/f')).size, 5n);
    const first = { ...gfs.rpcCounts };
    const fds = gfs.cachedDentries;

    // The next operation trusts nothing it cached, and checks a, b and f from their parents' FDs.
    clock.now++;
    const f = resolve(gfs, 'a/b/f');
    assert.is(gfs.stat(f).size, 5n);
    const counts = (since: typeof first): Record<string, number> => ({
      walk: gfs.rpcCounts.Walk - since.Walk, walkStat: gfs.rpcCounts.WalkStat - since.WalkStat, fstat: gfs.rpcCounts.FStat - since.FStat,
    });
    assert.equal(counts(first), { walk: 0, walkStat: 3, fstat: 0 });
    assert.is(gfs.cachedDentries, fds, 'no FD was opened');

    // b replaced on the host by another directory with another f: the next operation finds it.
    fs.renameSync(path.join(dir, 'a/b'), path.join(dir, 'old-b'));
    fs.mkdirSync(path.join(dir, 'a/b'));
    fs.writeFileSync(path.join(dir, 'a/b/f'), 'another f');
    clock.now++;
    assert.is(gfs.stat(resolve(gfs, 'a/b/f')).size, 9n);
    assert.is(gfs.stat(f).size, 5n, 'the f held from before is still the file it was, moved with its directory');
    gfs.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file replaced on the host between stat and open is ESTALE, never the other file', () => {
  const dir = makeHostDir();
  try {
    fs.writeFileSync(path.join(dir, 'f'), 'original');
    const gfs = mount(dir);
    const f = gfs.lookup(gfs.root(), 'f', NOTHING_AHEAD);
    // Made before the original goes, so it cannot reuse the original's inode number.
    fs.writeFileSync(path.join(dir, 'g'), 'impostor');
    fs.renameSync(path.join(dir, 'g'), path.join(dir, 'f'));
    assert.is(errnoOfCall(() => gfs.open(f, { read: true, write: false, truncate: false })), Errno.STALE);
    gfs.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WalkStat never follows a symlink planted on the host, even as the last component', () => {
  const dir = makeHostDir();
  try {
    fs.symlinkSync('/etc/passwd', path.join(dir, 'pw'));
    const gfs = mount(dir);
    const pw = gfs.lookup(gfs.root(), 'pw', NOTHING_AHEAD);
    const st = gfs.stat(pw);
    assert.is(st.size, BigInt('/etc/passwd'.length), 'the link itself, not its target');
    assert.is(errnoOfCall(() => gfs.lookup(pw, 'x', NOTHING_AHEAD)), Errno.NOTDIR);
    gfs.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
