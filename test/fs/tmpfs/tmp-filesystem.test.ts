import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TmpFilesystem } from '../../../src/fs/tmpfs/tmp-filesystem.js';
import { Errno, SyscallError } from '../../../src/wasi/errno.js';

function errnoOf(fn: () => unknown): number {
  try { fn(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

test('the byte limit is ENOSPC, and the write that would pass it changes nothing', () => {
  const fs = new TmpFilesystem(1n, { sizeBytes: 1000, maxInodes: 100 });
  const f = fs.create(fs.root(), 'f', 0o644);
  const h = fs.open(f, { read: true, write: true, truncate: false });
  assert.is(h.write(new Uint8Array(600), 0), 600);
  assert.is(errnoOf(() => h.write(new Uint8Array(600), 600)), Errno.NOSPC);
  assert.is(h.size(), 600);
  assert.is(errnoOf(() => fs.setStat(f, { size: 5000 })), Errno.NOSPC);
  fs.setStat(f, { size: 100 });
  assert.is(fs.usage.bytes, 100);
  h.write(new Uint8Array(900), 100);
  assert.is(fs.usage.bytes, 1000);
});

test('the inode limit is ENOSPC; unlinking frees the slot, but an open file keeps its data', () => {
  const fs = new TmpFilesystem(1n, { sizeBytes: 1 << 20, maxInodes: 3 });
  const a = fs.create(fs.root(), 'a', 0o644);
  fs.mkdir(fs.root(), 'd', 0o755);
  assert.is(errnoOf(() => fs.create(fs.root(), 'b', 0o644)), Errno.NOSPC);
  const h = fs.open(a, { read: true, write: true, truncate: false });
  h.write(Buffer.from('still here'), 0);
  fs.unlink(fs.root(), 'a');
  assert.is(errnoOf(() => fs.create(fs.root(), 'b', 0o644)), Errno.NOSPC, 'an open unlinked file still holds its inode');
  const out = new Uint8Array(10);
  assert.is(h.read(out, 0), 10);
  assert.is(Buffer.from(out).toString(), 'still here');
  h.close();
  fs.create(fs.root(), 'b', 0o644);
  assert.is(fs.usage.inodes, 3);
});

test('truncate extends with zeros and shrinks; reads past the end return 0 bytes', () => {
  const fs = new TmpFilesystem(1n);
  const f = fs.create(fs.root(), 'f', 0o644);
  const h = fs.open(f, { read: true, write: true, truncate: false });
  h.write(Buffer.from('abcdef'), 0);
  fs.setStat(f, { size: 3 });
  fs.setStat(f, { size: 6 });
  const out = new Uint8Array(8);
  assert.is(h.read(out, 0), 6);
  assert.equal([...out.subarray(0, 6)], [97, 98, 99, 0, 0, 0]);
  assert.is(h.read(out, 6), 0);
});

test('hard links share data and count links; directories cannot be linked', () => {
  const fs = new TmpFilesystem(1n);
  const f = fs.create(fs.root(), 'f', 0o644);
  fs.link(fs.root(), 'g', f);
  assert.is(fs.stat(f).nlink, 2n);
  fs.open(fs.lookup(fs.root(), 'g'), { read: false, write: true, truncate: false }).write(Buffer.from('x'), 0);
  assert.is(fs.stat(f).size, 1n);
  const d = fs.mkdir(fs.root(), 'd', 0o755);
  assert.is(errnoOf(() => fs.link(fs.root(), 'd2', d)), Errno.PERM);
  assert.is(errnoOf(() => fs.link(fs.root(), 'g', f)), Errno.EXIST);
});


test('file data in reused memory blocks: no file sees another\'s bytes, growth reads zeros', () => {
  const fs = new TmpFilesystem(1n, { sizeBytes: 64 << 20, maxInodes: 1000 });
  const content = new Map<string, Uint8Array>();
  let x = 12345;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let step = 0; step < 3000; step++) {
    const name = `f${next() % 40}`;
    const have = content.get(name);
    if (have !== undefined && next() % 3 === 0) { fs.unlink(fs.root(), name); content.delete(name); continue; }
    const node = have === undefined ? fs.create(fs.root(), name, 0o644) : fs.lookup(fs.root(), name);
    const h = fs.open(node, { read: true, write: true, truncate: false });
    // sizes on both sides of the 64 KiB arena block limit; extend past the end to leave a hole
    const at = (have?.byteLength ?? 0) + (next() % 2 === 0 ? 0 : next() % 5000);
    const data = new Uint8Array(1 + (next() % (next() % 8 === 0 ? 100_000 : 3000))).fill(1 + (step % 250));
    h.write(data, at);
    const want = new Uint8Array(at + data.byteLength);
    if (have) want.set(have);
    want.set(data, at);
    content.set(name, want);
    h.close();
  }
  for (const [name, want] of content) {
    const h = fs.open(fs.lookup(fs.root(), name), { read: true, write: false, truncate: false });
    const got = new Uint8Array(want.byteLength + 10);
    assert.is(h.read(got, 0), want.byteLength, name);
    assert.ok(Buffer.from(got.subarray(0, want.byteLength)).equals(want), `${name}: bytes differ`);
    h.close();
  }
});

test.run();
