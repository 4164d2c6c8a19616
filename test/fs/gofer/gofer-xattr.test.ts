// Owner and extended attributes of host files as the gofer reports them (FListXattr, FGetXattr,
// uid/gid in every stat), in both modes: directfs (in-thread, frameless `invoke`) and a gofer
// worker over a ring (framed). Plus the server's rules for the two messages, raw, and the custom
// backend server's answers. The host files are made as root: chown 1234:5678 and user.* xattrs.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingClient } from '../../../src/actors/ring-client.js';
import { DirectChannel } from '../../../src/fs/directfs/direct-channel.js';
import { createDirectfs } from '../../../src/fs/directfs/directfs.js';
import { BackendServer } from '../../../src/fs/gofer/backend-server.js';
import { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import type { GoferServer } from '../../../src/fs/gofer/gofer-server.js';
import { ObjectTreeBackend } from '../../../src/fs/gofer/object-tree-backend.js';
import { M, OPEN_RDONLY, XATTR_LIST_MAX, XATTR_SIZE_MAX, type Message, type MessageName, type ReqOf, type RespOf } from '../../../src/fs/gofer/protocol.js';
import { NOTHING_AHEAD, type Inode } from '../../../src/fs/vfs/filesystem.js';
import * as libc from '../../../src/host/libc.js';
import { Errno } from '../../../src/wasi/errno.js';
import { hostXattrs, setHostXattr } from './host-xattr.js';
import { makeHostDir, raw, startGofer, type GoferRig } from './gofer-rig.js';

const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;
const BIN = new Uint8Array([0, 1, 2, 255, 0]);
/** ext4 keeps all of a file's xattrs in one 4 KiB block: 3 kB is about as big as a value gets there. */
const BIG = new Uint8Array(3000).map((_, i) => (i * 31 + 7) & 0xff);

let dir: string;
const host = (p: string): string => path.join(dir, p);

/** f (0640, 1234:5678, three user.* xattrs), d/ (1234:5678, one), l → f, plain (none). */
test.before(() => {
  dir = makeHostDir();
  fs.writeFileSync(host('f'), 'data');
  fs.chmodSync(host('f'), 0o640);
  fs.chownSync(host('f'), 1234, 5678);
  setHostXattr(host('f'), 'user.alpha', 'one');
  setHostXattr(host('f'), 'user.bin', BIN);
  setHostXattr(host('f'), 'user.big', BIG);
  fs.mkdirSync(host('d'));
  fs.chownSync(host('d'), 1234, 5678);
  setHostXattr(host('d'), 'user.dir', 'D');
  fs.symlinkSync('f', host('l'));
  fs.writeFileSync(host('plain'), '');
});
test.after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const text = (v: Uint8Array | string | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString());

function checkClient(gfs: GoferFilesystem): void {
  const at = (name: string): Inode => gfs.lookup(gfs.root(), name, NOTHING_AHEAD);
  const st = gfs.stat(at('f'));
  assert.equal({ uid: st.uid, gid: st.gid, mode: st.mode }, { uid: 1234, gid: 5678, mode: 0o640 });
  const ds = gfs.stat(at('d'));
  assert.equal({ uid: ds.uid, gid: ds.gid }, { uid: 1234, gid: 5678 });
  assert.equal({ uid: gfs.stat(at('plain')).uid, gid: gfs.stat(at('plain')).gid }, { uid: 0, gid: 0 });

  const fx = gfs.listXattrs(at('f'));
  assert.equal([...fx.keys()].sort(), ['user.alpha', 'user.big', 'user.bin']);
  assert.is(text(fx.get('user.alpha')), 'one');
  assert.equal(fx.get('user.bin'), BIN, 'bytes, NULs and 0xff included');
  assert.equal(fx.get('user.big'), BIG, 'a 3 kB value');
  assert.equal([...gfs.listXattrs(at('d'))].map(([k, v]) => [k, text(v)]), [['user.dir', 'D']]);
  assert.is(gfs.listXattrs(at('l')).size, 0, 'a symlink: none (ENOTSUP at the server)');
  assert.is(gfs.listXattrs(at('plain')).size, 0);
  // An open file: the xattrs of the node, whatever FDs the client holds for it.
  const h = gfs.open(at('f'), { read: true, write: false, truncate: false });
  assert.is(text(gfs.listXattrs(at('f')).get('user.alpha')), 'one');
  h.close();
  assert.ok(gfs.rpcCounts.FListXattr >= 5 && gfs.rpcCounts.FGetXattr >= 5);
}

test('directfs: the client reports the host owner and every user.* xattr (frameless invoke)', () => {
  const gfs = createDirectfs(libc.openat(libc.AT_FDCWD, dir, DIR), libc.openat(libc.AT_FDCWD, '/proc', DIR), true, 9n, {});
  try { checkClient(gfs); } finally { gfs.release(); }
});

test('gofer worker over a ring: the same, framed', async () => {
  const rig = startGofer({ dir, readOnly: true });
  const gfs = new GoferFilesystem(rig.ring, 9n);
  try { checkClient(gfs); } finally { gfs.release(); await rig.stop(); }
});

test('FListXattr/FGetXattr rules at the server: bounds, bad names, missing names, node kinds, lying frames', async () => {
  const rig: GoferRig = startGofer({ dir, readOnly: true });
  const small: GoferRig = startGofer({ dir, readOnly: true, windowBytes: 2048 });
  const client = new RingClient(rig.ring);
  try {
    const root = raw(client, 'Mount', {}).resp!.root.fd;
    const walk = (n: string): number => raw(client, 'Walk', { dirFd: root, names: [n] }).resp!.inodes[0]!.fd;
    const [f, d, l] = [walk('f'), walk('d'), walk('l')];
    const list = (fd: number, size = XATTR_LIST_MAX) => raw(client, 'FListXattr', { fd, size });
    const get = (fd: number, name: string, size = XATTR_SIZE_MAX) => raw(client, 'FGetXattr', { fd, name, size });
    const fdsBefore = await rig.actor.control.stats();

    assert.equal(list(f).resp!.names.sort(), ['user.alpha', 'user.big', 'user.bin']);
    assert.equal(list(d).resp!.names, ['user.dir']);
    assert.is(list(f, 4).status, Errno.RANGE, 'a list longer than size');
    assert.is(list(f, 0).status, Errno.RANGE, 'size 0 is no length query here');
    assert.is(list(f, XATTR_LIST_MAX + 1).status, Errno.INVAL);
    assert.is(list(l).status, Errno.NOTSUP, 'a symlink is never reopened');
    assert.is(list(123_456).status, Errno.BADF);

    assert.is(text(get(f, 'user.alpha', 3).resp!.value), 'one');
    assert.equal(get(f, 'user.bin').resp!.value, BIN);
    assert.equal(get(f, 'user.big').resp!.value, BIG);
    assert.is(get(f, 'user.alpha', 2).status, Errno.RANGE, 'a value longer than size');
    assert.is(get(f, 'user.alpha', 0).status, Errno.RANGE, 'size 0 is no length query here');
    assert.is(get(f, 'user.nope').status, Errno.NOENT, 'a missing name (Linux ENODATA)');
    assert.is(get(d, 'user.alpha').status, Errno.NOENT);
    assert.is(get(f, '').status, Errno.INVAL);
    assert.is(get(f, 'user.a\0b').status, Errno.INVAL);
    assert.is(get(f, `user.${'x'.repeat(300)}`).status, Errno.RANGE, 'a name beyond XATTR_NAME_MAX');
    assert.is(get(f, 'user.alpha', XATTR_SIZE_MAX + 1).status, Errno.INVAL);
    assert.is(get(l, 'user.alpha').status, Errno.NOTSUP);

    // An open FD answers directly (no reopen).
    const openFd = raw(client, 'OpenAt', { fd: f, flags: OPEN_RDONLY }).resp!.openFd;
    assert.equal(list(openFd).resp!.names.sort(), ['user.alpha', 'user.big', 'user.bin']);
    assert.equal(get(openFd, 'user.bin').resp!.value, BIN);
    raw(client, 'Close', { fds: [openFd] });
    const fdsAfter = await rig.actor.control.stats();
    assert.equal([fdsAfter.controlFds, fdsAfter.openFds], [fdsBefore.controlFds, fdsBefore.openFds], 'every reopened FD was closed');

    // Lying frames: a trailing byte, a name whose length runs past the frame.
    M.FListXattr.req.put(client.writer.reset(), { fd: f, size: 100 });
    client.writer.u8(0);
    assert.is(client.call(M.FListXattr.id), Errno.INVAL);
    client.writer.reset().u64n(f).u32(1000).u32(5);
    assert.is(client.call(M.FGetXattr.id), Errno.INVAL);

    // A reply that would not fit the window is ERANGE, not a broken frame.
    const sc = new RingClient(small.ring);
    const sroot = raw(sc, 'Mount', {}).resp!.root.fd;
    const sf = raw(sc, 'Walk', { dirFd: sroot, names: ['f'] }).resp!.inodes[0]!.fd;
    assert.is(raw(sc, 'FGetXattr', { fd: sf, name: 'user.big', size: XATTR_SIZE_MAX }).status, Errno.RANGE);
    assert.is(text(raw(sc, 'FGetXattr', { fd: sf, name: 'user.alpha', size: XATTR_SIZE_MAX }).resp!.value), 'one');
  } finally {
    await rig.stop();
    await small.stop();
  }
});

test('a custom backend server answers both: no xattrs, every name missing; owner 0:0', () => {
  const server = new BackendServer(new ObjectTreeBackend({ 'a.txt': 'hi', sub: {} }));
  const channel = new DirectChannel(server as unknown as GoferServer);
  const framed = <N extends MessageName>(name: N, req: ReqOf<N>): { status: number; resp?: RespOf<N> } => {
    const m = M[name] as unknown as Message<ReqOf<N>, RespOf<N>>;
    m.req.put(channel.writer.reset(), req);
    const status = channel.call(m.id);
    return status === 0 ? { status, resp: m.resp.get(channel.reader) } : { status };
  };
  const root = framed('Mount', {}).resp!.root.fd;
  const a = framed('Walk', { dirFd: root, names: ['a.txt'] }).resp!.inodes[0]!;
  assert.equal([a.stat.uid, a.stat.gid], [0, 0]);
  assert.equal(framed('FListXattr', { fd: a.fd, size: XATTR_LIST_MAX }).resp, { names: [] });
  assert.is(framed('FGetXattr', { fd: a.fd, name: 'user.x', size: 10 }).status, Errno.NOENT);
  assert.is(framed('FGetXattr', { fd: a.fd, name: '', size: 10 }).status, Errno.INVAL);
  assert.is(framed('FListXattr', { fd: 999, size: 10 }).status, Errno.BADF);
  // And through the client, frameless.
  const gfs = new GoferFilesystem(new DirectChannel(new BackendServer(new ObjectTreeBackend({ 'a.txt': 'hi' })) as unknown as GoferServer), 5n);
  const ga = gfs.lookup(gfs.root(), 'a.txt', NOTHING_AHEAD);
  assert.is(gfs.listXattrs(ga).size, 0);
  assert.equal([gfs.stat(ga).uid, gfs.stat(ga).gid], [0, 0]);
  gfs.release();
});

test.run();
