// The gofer server over a real ring, spoken to raw: what it accepts, what it refuses, and what it
// does to the host directory. Every check here is against real files in a temp directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';
import { RingClient } from '../../../src/actors/ring-client.js';
import { Errno } from '../../../src/wasi/errno.js';
import { M, WalkStatus, OPEN_RDONLY, OPEN_WRONLY } from '../../../src/fs/gofer/protocol.js';
import { raw, startGofer, S_IFDIR, S_IFLNK, S_IFMT, type GoferRig } from './gofer-rig.js';

const prlimit = koffi.load('libc.so.6').func('int prlimit(int pid, int resource, const void *newLimit, void *oldLimit)');
const RLIMIT_NOFILE = 7;

let rig: GoferRig;
let client: RingClient;
let rootFd: number;

test.before(() => {
  rig = startGofer();
  client = new RingClient(rig.ring);
  const r = raw(client, 'Mount', {});
  assert.is(r.status, 0);
  rootFd = r.resp!.root.fd;
  assert.is(r.resp!.root.stat.mode & S_IFMT, S_IFDIR);
});
test.after(() => rig.stop());

test('Walk walks many components in one RPC and returns every inode', () => {
  fs.mkdirSync(path.join(rig.dir, 'w/x/y'), { recursive: true });
  fs.writeFileSync(path.join(rig.dir, 'w/x/y/f'), 'hi');
  const r = raw(client, 'Walk', { dirFd: rootFd, names: ['w', 'x', 'y', 'f'] });
  assert.is(r.status, 0);
  assert.is(r.resp!.status, WalkStatus.Success);
  assert.is(r.resp!.inodes.length, 4);
  assert.is(r.resp!.inodes[3]!.stat.ino, BigInt(fs.statSync(path.join(rig.dir, 'w/x/y/f')).ino));
  assert.is(r.resp!.inodes[3]!.stat.size, 2n);
  const ids = r.resp!.inodes.map((i) => i.fd);
  assert.is(new Set([...ids, rootFd]).size, 5, 'every inode has its own, new FD id');

  const miss = raw(client, 'Walk', { dirFd: rootFd, names: ['w', 'nope', 'deeper'] });
  assert.is(miss.resp!.status, WalkStatus.NotExist);
  assert.is(miss.resp!.inodes.length, 1);
  const notDir = raw(client, 'Walk', { dirFd: rootFd, names: ['w', 'x', 'y', 'f', 'g'] });
  assert.is(notDir.resp!.status, WalkStatus.NotDirectory);
  assert.is(notDir.resp!.inodes.length, 4);
});

test('names .., a/b, ., empty and NUL are EINVAL at the server, with nothing opened', async () => {
  fs.mkdirSync(path.join(rig.dir, 'a'), { recursive: true });
  fs.mkdirSync(path.join(rig.dir, 'a/b'), { recursive: true });
  const before = (await rig.actor.control.stats()).controlFds;
  for (const bad of ['..', 'a/b', '.', '', 'a\0b']) {
    assert.is(raw(client, 'Walk', { dirFd: rootFd, names: [bad] }).status, Errno.INVAL, `Walk ${JSON.stringify(bad)}`);
    // A bad name after good ones: the RPC fails as a whole and the good ones are not left open.
    assert.is(raw(client, 'Walk', { dirFd: rootFd, names: ['a', bad] }).status, Errno.INVAL);
    assert.is(raw(client, 'MkdirAt', { dirFd: rootFd, name: bad, mode: 0o755 }).status, Errno.INVAL);
    assert.is(raw(client, 'UnlinkAt', { dirFd: rootFd, name: bad, flags: 0 }).status, Errno.INVAL);
    assert.is(raw(client, 'RenameAt', { oldDirFd: rootFd, oldName: 'a', newDirFd: rootFd, newName: bad, flags: 0 }).status, Errno.INVAL);
  }
  assert.is(raw(client, 'MkdirAt', { dirFd: rootFd, name: 'x'.repeat(256), mode: 0o755 }).status, Errno.NAMETOOLONG);
  assert.is((await rig.actor.control.stats()).controlFds, before);
  assert.ok(fs.existsSync(path.join(rig.dir, 'a/b')), 'a/b survived UnlinkAt("a/b")');
  assert.ok(!fs.existsSync(path.join(path.dirname(rig.dir), 'a')), 'nothing was made outside');
});

test('a symlink planted on the host pointing outside is returned as a symlink, never followed', () => {
  fs.symlinkSync('/etc', path.join(rig.dir, 'x'));
  const r = raw(client, 'Walk', { dirFd: rootFd, names: ['x', 'passwd'] });
  assert.is(r.status, 0);
  assert.is(r.resp!.status, WalkStatus.Symlink);
  assert.is(r.resp!.inodes.length, 1, 'the walk stops at the link');
  const link = r.resp!.inodes[0]!;
  assert.is(link.stat.mode & S_IFMT, S_IFLNK);
  assert.is.not(link.stat.ino, BigInt(fs.statSync('/etc').ino));
  assert.equal(raw(client, 'ReadLinkAt', { fd: link.fd }).resp, { target: '/etc' });
  assert.is(raw(client, 'OpenAt', { fd: link.fd, flags: OPEN_RDONLY }).status, Errno.LOOP);
  assert.is(raw(client, 'Walk', { dirFd: link.fd, names: ['passwd'] }).status, Errno.NOTDIR);
  assert.is(raw(client, 'MkdirAt', { dirFd: link.fd, name: 'evil', mode: 0o755 }).status, Errno.NOTDIR);
  assert.ok(!fs.existsSync('/etc/evil'));
  // Times on the link change the link itself, not /etc.
  const etcMtime = fs.statSync('/etc').mtimeMs;
  assert.is(raw(client, 'SetStat', { fd: link.fd, mask: 4, size: 0, atimeNs: 0n, mtimeNs: 5_000_000_000n }).status, 0);
  assert.is(fs.lstatSync(path.join(rig.dir, 'x')).mtimeMs, 5000);
  assert.is(fs.statSync('/etc').mtimeMs, etcMtime);
});

test('frames that lie about their length get an error status; the next good request is served', () => {
  const fstatRoot = (): number => raw(client, 'FStat', { fd: rootFd }).status;
  // The frame says it is longer than the window.
  client.writer.reset().u64n(rootFd);
  client.writer.pos = client.windowBytes + 100;
  assert.is(client.call(M.FStat.id), Errno.INVAL);
  assert.is(fstatRoot(), 0);
  // A string whose length prefix runs past the frame.
  client.writer.reset().u64n(rootFd).u32(1).u32(0xffff).u8(0x61);
  assert.is(client.call(M.Walk.id), Errno.INVAL);
  assert.is(fstatRoot(), 0);
  // An array count far beyond what the frame holds.
  client.writer.reset().u64n(rootFd).u32(0x7fffffff);
  assert.is(client.call(M.Walk.id), Errno.INVAL);
  // Trailing bytes after the last field.
  client.writer.reset().u64n(rootFd).u32(7);
  assert.is(client.call(M.FStat.id), Errno.INVAL);
  // Too short.
  client.writer.reset().u8(1);
  assert.is(client.call(M.FStat.id), Errno.INVAL);
  // An id that is not in the table.
  client.writer.reset();
  assert.is(client.call(200), Errno.NOTSUP);
  assert.is(fstatRoot(), 0);
});

test('OpenCreateAt, PWrite, PRead reach the host file; EEXIST leaves it alone; ids are not reused', () => {
  const c = raw(client, 'OpenCreateAt', { dirFd: rootFd, name: 'new.txt', mode: 0o640, flags: OPEN_WRONLY });
  assert.is(c.status, 0);
  const { openFd, child } = c.resp!;
  assert.is(raw(client, 'PWrite', { fd: openFd, offset: 3, data: Buffer.from('abc') }).resp!.written, 3);
  assert.equal(fs.readFileSync(path.join(rig.dir, 'new.txt')), Buffer.from('\0\0\0abc'));
  assert.is(fs.statSync(path.join(rig.dir, 'new.txt')).mode & 0o777, 0o640);
  assert.is(raw(client, 'PRead', { fd: openFd, offset: 0, count: 4 }).status, Errno.BADF, 'write-only FD');
  const ro = raw(client, 'OpenAt', { fd: child.fd, flags: OPEN_RDONLY }).resp!.openFd;
  assert.equal(Buffer.from(raw(client, 'PRead', { fd: ro, offset: 2, count: 100 }).resp!.data).toString('latin1'), '\0abc');
  assert.is(raw(client, 'OpenCreateAt', { dirFd: rootFd, name: 'new.txt', mode: 0o600, flags: OPEN_WRONLY }).status, Errno.EXIST);
  assert.is(fs.readFileSync(path.join(rig.dir, 'new.txt')).length, 6);
  raw(client, 'Close', { fds: [openFd, ro] });
  assert.is(raw(client, 'PRead', { fd: ro, offset: 0, count: 1 }).status, Errno.BADF, 'closed ids stay dead');
  const again = raw(client, 'OpenAt', { fd: child.fd, flags: OPEN_RDONLY }).resp!.openFd;
  assert.ok(again > ro, 'a new id, never a reused one');
  raw(client, 'Close', { fds: [again, 123456789] });
});

/** Runs `fn` while the process may open only `spare` more FDs (RLIMIT_NOFILE at the lowest free number + spare). */
function withFdsLeft<T>(spare: number, fn: () => T): T {
  // The kernel hands out the lowest free number: open one to learn it.
  const lowest = fs.openSync('/dev/null', 'r');
  fs.closeSync(lowest);
  const old = Buffer.alloc(16);
  const limit = Buffer.alloc(16);
  assert.is(prlimit(0, RLIMIT_NOFILE, null, old), 0);
  limit.writeBigUInt64LE(BigInt(lowest + spare), 0);
  limit.writeBigUInt64LE(old.readBigUInt64LE(8), 8);
  assert.is(prlimit(0, RLIMIT_NOFILE, limit, null), 0);
  try { return fn(); } finally { prlimit(0, RLIMIT_NOFILE, old, null); }
}

test('a create that fails after making the file leaves nothing behind', () => {
  // One FD left: the create's open succeeds, the control FD after it cannot be opened.
  const c = withFdsLeft(1, () => raw(client, 'OpenCreateAt', { dirFd: rootFd, name: 'half', mode: 0o644, flags: OPEN_WRONLY }).status);
  assert.is(c, Errno.MFILE);
  assert.ok(!fs.existsSync(path.join(rig.dir, 'half')), 'the created file was removed');
  // No FD left: mkdir succeeds, walking to the new directory cannot.
  const m = withFdsLeft(0, () => raw(client, 'MkdirAt', { dirFd: rootFd, name: 'halfdir', mode: 0o755 }).status);
  assert.is(m, Errno.MFILE);
  assert.ok(!fs.existsSync(path.join(rig.dir, 'halfdir')), 'the created directory was removed');
  const s = withFdsLeft(0, () => raw(client, 'SymlinkAt', { dirFd: rootFd, name: 'halflink', target: '/etc' }).status);
  assert.is(s, Errno.MFILE);
  assert.ok(!fs.existsSync(path.join(rig.dir, 'halflink')) && !isLink(path.join(rig.dir, 'halflink')));
  assert.is(raw(client, 'MkdirAt', { dirFd: rootFd, name: 'halfdir', mode: 0o755 }).status, 0, 'and it works again');
});

function isLink(p: string): boolean {
  try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; }
}

test('requests whose reply could not fit the window fail before touching anything', async () => {
  fs.mkdirSync(path.join(rig.dir, 'deep'), { recursive: true });
  const before = (await rig.actor.control.stats()).controlFds;
  const names = Array.from({ length: 1000 }, () => 'deep');
  assert.is(raw(client, 'Walk', { dirFd: rootFd, names }).status, Errno.INVAL);
  assert.is((await rig.actor.control.stats()).controlFds, before, 'no FD was opened, none leaked');
  const ctl = raw(client, 'Walk', { dirFd: rootFd, names: ['deep'] }).resp!.inodes[0]!.fd;
  const dirFd = raw(client, 'OpenAt', { fd: ctl, flags: OPEN_RDONLY }).resp!.openFd;
  assert.is(raw(client, 'Getdents64', { fd: dirFd, count: 100 }).status, Errno.INVAL);
  assert.is(raw(client, 'Getdents64', { fd: dirFd, count: 4096 }).resp!.dirents.length, 2, 'just . and ..');
  raw(client, 'Close', { fds: [ctl, dirFd] });
});

test('WalkStat returns stats only, the start dir first when asked', async () => {
  const before = (await rig.actor.control.stats()).controlFds;
  const r = raw(client, 'WalkStat', { dirFd: rootFd, names: ['', 'w', 'x', 'missing'] });
  assert.is(r.resp!.stats.length, 3);
  assert.is(r.resp!.stats[2]!.ino, BigInt(fs.statSync(path.join(rig.dir, 'w/x')).ino));
  assert.is((await rig.actor.control.stats()).controlFds, before);
});

test('stats count requests per message id', async () => {
  const before = (await rig.actor.control.stats()).counts;
  raw(client, 'FStat', { fd: rootFd });
  raw(client, 'FStat', { fd: rootFd });
  const after = (await rig.actor.control.stats()).counts;
  assert.is((after['FStat'] ?? 0) - (before['FStat'] ?? 0), 2);
  assert.is(after['Mount'], 1);
  assert.ok((after['unknown'] ?? 0) >= 1);
});

test.run();
