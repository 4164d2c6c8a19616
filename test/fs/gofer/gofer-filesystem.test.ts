// GoferFilesystem (the Sentry's side) against a real gofer worker and a real host directory: bytes
// and files on the host disk, errnos, and what the dentry cache saves in RPCs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { FileType } from '../../../src/wasi/abi.js';
import { Errno } from '../../../src/wasi/errno.js';
import { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import { NOTHING_AHEAD, type Inode } from '../../../src/fs/vfs/filesystem.js';
import { errnoOfCall } from './errno-of.js';
import { startGofer, type GoferRig } from './gofer-rig.js';
import { aheadOf } from './gofer-rig.js';

let rig: GoferRig;
let gfs: GoferFilesystem;
const host = (p: string): string => path.join(rig.dir, p);

/** Resolves a slash path the way the VFS does: lookup per component, the rest passed as `ahead`. */
function resolve(p: string, from: Inode = gfs.root()): Inode {
  const parts = p.split('/').filter(Boolean);
  let cur = from;
  parts.forEach((name, i) => { cur = gfs.lookup(cur, name, aheadOf(parts.slice(i + 1))); });
  return cur;
}

test.before(() => {
  rig = startGofer({ windowBytes: 16 * 1024 });
  gfs = new GoferFilesystem(rig.ring, 42n);
});
test.after(async () => { gfs.release(); await rig.stop(); });

test('create, write and read: the bytes land on the host disk, in window-sized chunks', () => {
  const f = gfs.create(gfs.root(), 'data.bin', 0o644);
  assert.is(f.type, FileType.REGULAR_FILE);
  const big = Buffer.alloc(100_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  const h = gfs.open(f, { read: true, write: true, truncate: false });
  const pwritesBefore = gfs.rpcCounts.PWrite;
  assert.is(h.write(big, 10), big.length);
  assert.ok(gfs.rpcCounts.PWrite - pwritesBefore >= 7, '100 kB over a 16 KiB window takes several PWrites');
  const onDisk = fs.readFileSync(host('data.bin'));
  assert.is(onDisk.length, 100_010);
  assert.equal(onDisk.subarray(10), big);
  assert.is(h.size(), 100_010);

  const back = new Uint8Array(100_000);
  assert.is(h.read(back, 10), 100_000);
  assert.equal(Buffer.from(back), big);
  const tail = new Uint8Array(50);
  assert.is(h.read(tail, 100_000), 10, 'short read at end of file');
  assert.is(h.read(tail, 200_000), 0);
  h.close();
  assert.is(errnoOfCall(() => h.read(tail, 0)), Errno.BADF);

  const s = gfs.stat(f);
  assert.is(s.dev, 42n);
  assert.is(s.ino, BigInt(fs.statSync(host('data.bin')).ino));
  assert.is(s.size, 100_010n);
  assert.is(s.nlink, 1n);
});

test('errnos: ENOENT, EEXIST, ENOTEMPTY, EISDIR, ENOTDIR', () => {
  const root = gfs.root();
  const d = gfs.mkdir(root, 'dir', 0o755);
  assert.ok(fs.statSync(host('dir')).isDirectory());
  gfs.create(d, 'inside', 0o644);
  assert.is(errnoOfCall(() => gfs.lookup(root, 'missing', NOTHING_AHEAD)), Errno.NOENT);
  assert.is(errnoOfCall(() => gfs.create(root, 'dir', 0o644)), Errno.EXIST);
  assert.is(errnoOfCall(() => gfs.mkdir(root, 'data.bin', 0o755)), Errno.EXIST);
  assert.is(errnoOfCall(() => gfs.rmdir(root, 'dir')), Errno.NOTEMPTY);
  assert.is(errnoOfCall(() => gfs.unlink(root, 'dir')), Errno.ISDIR);
  assert.is(errnoOfCall(() => gfs.rmdir(d, 'inside')), Errno.NOTDIR);
  assert.is(errnoOfCall(() => gfs.lookup(resolve('data.bin'), 'x', NOTHING_AHEAD)), Errno.NOTDIR);
  assert.is(errnoOfCall(() => gfs.open(d, { read: false, write: true, truncate: false })), Errno.ISDIR);
  assert.ok(fs.existsSync(host('dir/inside')), 'failed calls changed nothing');
});

test('exclusive: a 10-component path costs one Walk; looking it up again and stat cost no RPC', () => {
  const rel = 'p0/p1/p2/p3/p4/p5/p6/p7/p8/file';
  fs.mkdirSync(host(path.dirname(rel)), { recursive: true });
  fs.writeFileSync(host(rel), '0123456789');
  const walks = gfs.rpcCounts.Walk;
  const f = resolve(rel);
  assert.is(gfs.rpcCounts.Walk - walks, 1);
  assert.is(f.ino, BigInt(fs.statSync(host(rel)).ino));
  const fstats = gfs.rpcCounts.FStat;
  assert.is(gfs.stat(resolve(rel)).size, 10n);
  assert.is(gfs.stat(resolve(rel)).size, 10n);
  assert.is(gfs.rpcCounts.Walk - walks, 1, 'second resolution came from the dentry cache');
  assert.is(gfs.rpcCounts.FStat - fstats, 0, 'the attributes came with the Walk');
  assert.is(gfs.parent(resolve('p0/p1')), resolve('p0'));
  assert.is(gfs.parent(gfs.root()), gfs.root());
});

test('exclusive: open+close of a cached file costs no RPC; our own writes keep stat true', () => {
  const f = gfs.create(gfs.root(), 'shared-handle', 0o644);
  const w = gfs.open(f, { read: false, write: true, truncate: false });
  const before = { ...gfs.rpcCounts };
  const sent = (): number => Object.entries(gfs.rpcCounts).reduce((n, [k, v]) => n + v - before[k as keyof typeof before], 0);
  for (let i = 0; i < 20; i++) gfs.open(f, { read: true, write: false, truncate: false }).close();
  gfs.open(f, { read: false, write: true, truncate: false }).close();
  assert.is(sent(), 0, 'create left a read handle; the write handle is shared with the open one');
  assert.is(w.write(Buffer.from('abcdef'), 0), 6);
  assert.is(gfs.stat(f).size, 6n, 'a write drops the cached size');
  const r = gfs.open(f, { read: true, write: false, truncate: false });
  const buf = new Uint8Array(6);
  assert.is(r.read(buf, 0), 6);
  assert.is(Buffer.from(buf).toString(), 'abcdef');
  gfs.open(f, { read: false, write: true, truncate: true }).close();
  assert.is(fs.statSync(host('shared-handle')).size, 0, 'O_TRUNC on a shared handle truncates on the host');
  assert.is(gfs.stat(f).size, 0n);
  assert.is(r.read(buf, 0), 0, 'the other open sees the truncation');
  r.close();
  w.close();
  assert.is(errnoOfCall(() => w.write(Buffer.from('x'), 0)), Errno.BADF);
});

test('shared: every operation walks again (one Walk per path) and sees host changes', () => {
  const clock = { now: 0 };
  const shared = new GoferFilesystem(rig.ring, 43n, { cache: 'shared', clock });
  const resolveIn = (p: string): Inode => {
    const parts = p.split('/').filter(Boolean);
    let cur = shared.root();
    parts.forEach((name, i) => { cur = shared.lookup(cur, name, aheadOf(parts.slice(i + 1))); });
    return cur;
  };
  try {
    fs.mkdirSync(host('sh/a/b'), { recursive: true });
    fs.writeFileSync(host('sh/a/b/f'), '1234');
    const walks = shared.rpcCounts.Walk;
    const fstats = shared.rpcCounts.FStat;
    clock.now++;
    assert.is(shared.stat(resolveIn('sh/a/b/f')).size, 4n);
    assert.is(shared.rpcCounts.Walk - walks, 1, 'one Walk for the path');
    assert.is(shared.rpcCounts.FStat - fstats, 0, 'its attributes came with the Walk');
    fs.appendFileSync(host('sh/a/b/f'), '56');
    clock.now++;
    assert.is(shared.stat(resolveIn('sh/a/b/f')).size, 6n, 'the host append shows in the next operation');
    assert.is(shared.rpcCounts.Walk - walks, 2);
    // Replaced on the host: the next operation finds the new file, not the cached one.
    fs.rmSync(host('sh/a/b/f'));
    fs.writeFileSync(host('sh/a/b/f'), 'new!!!!!');
    clock.now++;
    const g = resolveIn('sh/a/b/f');
    assert.is(g.ino, BigInt(fs.statSync(host('sh/a/b/f')).ino));
    assert.is(shared.stat(g).size, 8n);
    // Removed on the host, then made again: a negative entry lasts one operation only.
    fs.rmSync(host('sh/a/b/f'));
    clock.now++;
    assert.is(errnoOfCall(() => resolveIn('sh/a/b/f')), Errno.NOENT);
    fs.writeFileSync(host('sh/a/b/f'), '');
    clock.now++;
    assert.is(shared.stat(resolveIn('sh/a/b/f')).size, 0n);
    clock.now++;
    assert.is(shared.stat(g).size, 8n, 'an inode held across operations is stat-ed afresh (the unlinked file)');
  } finally {
    shared.release();
  }
});

test('a missing name costs one RPC once; creating it invalidates the negative entry', () => {
  const walks = gfs.rpcCounts.Walk;
  assert.is(errnoOfCall(() => gfs.lookup(gfs.root(), 'ghost', NOTHING_AHEAD)), Errno.NOENT);
  assert.is(errnoOfCall(() => gfs.lookup(gfs.root(), 'ghost', NOTHING_AHEAD)), Errno.NOENT);
  assert.is(gfs.rpcCounts.Walk - walks, 1);
  // A missing name at the end of a multi-component walk is cached too.
  assert.is(errnoOfCall(() => resolve('p0/p1/nothing/here')), Errno.NOENT);
  assert.is(errnoOfCall(() => resolve('p0/p1/nothing')), Errno.NOENT);
  assert.is(gfs.rpcCounts.Walk - walks, 2);
  const made = gfs.create(gfs.root(), 'ghost', 0o600);
  assert.is(resolve('ghost'), made);
  const d = gfs.mkdir(resolve('p0/p1'), 'nothing', 0o700);
  assert.is(resolve('p0/p1/nothing'), d);
  assert.is(gfs.rpcCounts.Walk - walks, 2, 'the new names came from the cache');
});

test('a host symlink to /etc is a symlink inode; nothing follows it', () => {
  fs.symlinkSync('/etc', host('x'));
  const x = gfs.lookup(gfs.root(), 'x', aheadOf(['passwd']));
  assert.is(x.type, FileType.SYMBOLIC_LINK);
  assert.is(gfs.readlink(x), '/etc');
  assert.is(gfs.stat(x).type, FileType.SYMBOLIC_LINK);
  assert.is(errnoOfCall(() => gfs.lookup(x, 'passwd', NOTHING_AHEAD)), Errno.NOTDIR);
  assert.is(errnoOfCall(() => gfs.open(x, { read: true, write: false, truncate: false })), Errno.LOOP);
  const s = gfs.symlink(gfs.root(), 'mine', '../../outside');
  assert.is(fs.readlinkSync(host('mine')), '../../outside');
  assert.is(gfs.readlink(s), '../../outside');
});

test('rename moves on the host, keeps the cache true, and follows POSIX replace rules', () => {
  const root = gfs.root();
  const a = gfs.mkdir(root, 'ra', 0o755);
  const b = gfs.mkdir(root, 'rb', 0o755);
  const f = gfs.create(a, 'f', 0o644);
  const h = gfs.open(f, { read: false, write: true, truncate: false });
  h.write(Buffer.from('moved'), 0);
  h.close();
  gfs.rename(a, 'f', b, 'g');
  assert.ok(!fs.existsSync(host('ra/f')));
  assert.is(fs.readFileSync(host('rb/g'), 'utf8'), 'moved');
  const walks = gfs.rpcCounts.Walk;
  assert.is(errnoOfCall(() => gfs.lookup(a, 'f', NOTHING_AHEAD)), Errno.NOENT);
  assert.is(gfs.lookup(b, 'g', NOTHING_AHEAD), f);
  assert.is(gfs.rpcCounts.Walk, walks, 'both answers came from the cache');

  // Replace a file with a file.
  fs.writeFileSync(host('rb/old'), 'old');
  gfs.rename(b, 'g', b, 'old');
  assert.is(fs.readFileSync(host('rb/old'), 'utf8'), 'moved');
  assert.ok(!fs.existsSync(host('rb/g')));

  // A directory onto a non-empty directory, a directory onto a file, a file onto a directory.
  const sub = gfs.mkdir(a, 'sub', 0o755);
  gfs.create(sub, 'keep', 0o644);
  const e = gfs.mkdir(root, 'empty', 0o755);
  assert.is(errnoOfCall(() => gfs.rename(root, 'empty', a, 'sub')), Errno.NOTEMPTY);
  assert.is(errnoOfCall(() => gfs.rename(root, 'empty', b, 'old')), Errno.NOTDIR);
  assert.is(errnoOfCall(() => gfs.rename(b, 'old', root, 'empty')), Errno.ISDIR);
  // A directory onto an empty directory; its parent follows.
  gfs.rename(a, 'sub', root, 'empty');
  assert.ok(fs.existsSync(host('empty/keep')));
  assert.ok(!fs.existsSync(host('ra/sub')));
  assert.is(gfs.parent(sub), root);
  assert.is(gfs.lookup(root, 'empty', NOTHING_AHEAD), sub);
  assert.is(gfs.stat(e).nlink, 0n, 'the replaced directory is gone, as Linux shows it to a holder');
});

test('link and unlink: names on the host, one inode, data kept while a name remains', () => {
  const root = gfs.root();
  const f = gfs.create(root, 'l1', 0o644);
  const h = gfs.open(f, { read: true, write: true, truncate: false });
  h.write(Buffer.from('shared'), 0);
  gfs.link(root, 'l2', f);
  assert.is(fs.statSync(host('l1')).ino, fs.statSync(host('l2')).ino);
  assert.is(fs.statSync(host('l1')).nlink, 2);
  assert.is(gfs.stat(f).nlink, 2n);
  assert.is(errnoOfCall(() => gfs.link(root, 'l2', f)), Errno.EXIST);
  assert.is(errnoOfCall(() => gfs.link(root, 'dl', resolve('p0'))), Errno.PERM);
  gfs.unlink(root, 'l1');
  assert.ok(!fs.existsSync(host('l1')));
  assert.is(fs.readFileSync(host('l2'), 'utf8'), 'shared');
  assert.is(errnoOfCall(() => gfs.lookup(root, 'l1', NOTHING_AHEAD)), Errno.NOENT);
  const buf = new Uint8Array(6);
  assert.is(h.read(buf, 0), 6, 'an open file survives the unlink of its name');
  h.close();
  assert.is(gfs.stat(resolve('l2')).nlink, 1n);
  const d = gfs.mkdir(root, 'gone', 0o755);
  gfs.rmdir(root, 'gone');
  assert.ok(!fs.existsSync(host('gone')));
  assert.is(errnoOfCall(() => gfs.lookup(d, 'x', NOTHING_AHEAD)), Errno.NOENT, 'nothing is found in a removed directory');
  assert.is(gfs.stat(d).nlink, 0n);
});

test('readdir lists the host directory with types; setStat truncates and sets times', () => {
  const d = gfs.mkdir(gfs.root(), 'ls', 0o755);
  for (let i = 0; i < 300; i++) fs.writeFileSync(host(`ls/file-with-a-longish-name-${i}`), '');
  fs.mkdirSync(host('ls/sub'));
  fs.symlinkSync('nowhere', host('ls/link'));
  const entries = gfs.readdir(d);
  assert.is(entries.length, 302);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.is(byName.get('sub')!.type, FileType.DIRECTORY);
  assert.is(byName.get('link')!.type, FileType.SYMBOLIC_LINK);
  assert.is(byName.get('file-with-a-longish-name-7')!.type, FileType.REGULAR_FILE);
  assert.is(byName.get('sub')!.ino, BigInt(fs.statSync(host('ls/sub')).ino));
  assert.ok(gfs.rpcCounts.Getdents64 >= 2, '300 entries do not fit one 16 KiB reply');

  const f = resolve('data.bin');
  gfs.setStat(f, { size: 5, mtim: 1_500_000_000_123_456_789n });
  const st = fs.statSync(host('data.bin'), { bigint: true });
  assert.is(st.size, 5n);
  assert.is(st.mtimeNs, 1_500_000_000_123_456_789n);
  assert.is(gfs.stat(f).mtim, 1_500_000_000_123_456_789n);
  assert.is(errnoOfCall(() => gfs.setStat(d, { size: 0 })), Errno.ISDIR);
  const t = gfs.open(f, { read: false, write: true, truncate: true });
  t.close();
  assert.is(fs.statSync(host('data.bin')).size, 0);
});

test.run();
