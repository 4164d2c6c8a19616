/**
 * The host actor's container, attacked with raw syscalls (koffi) on the FDs it really donates.
 * Everything the Sentry and the gofers do rests on two kernel facts checked here: `..` from a
 * donated mount root stops at the container's own root (a read-only tmpfs holding only the mount
 * points — nothing of the host above it), and the actor's mount namespace holds only the
 * container's mounts. Plus: a read-only mount refuses writes in the kernel itself, whatever the
 * Sentry does, and path strings with `..` or symlinks from a donated FD stay inside the container
 * or are refused by openat2's RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, the flags the gofer relies on.
 * (test/host/host-actor.test.ts covers the actor's lifecycle: rootless, refusal, death.)
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { Supervisor } from '../../src/actors/actor.js';
import { startHostActor, type HostActorHandle } from '../../src/host/host-actor.js';
import * as libc from '../../src/host/libc.js';
import { Errno, SyscallError } from '../../src/wasi/errno.js';
import { cleanupTmp, fingerprint } from '../wasi/helpers.js';
import { hostParent, outside } from './harness.js';

test.after(cleanupTmp);

const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;

/** The errno a libc wrapper failed with; throws if it did not fail. */
function errnoOf(f: () => unknown): Errno {
  let r: unknown;
  try { r = f(); } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
  if (typeof r === 'number' && r >= 0) libc.close(r);
  throw new Error(`expected the call to fail, it returned ${String(r)}`);
}

function names(dirFd: number): string[] {
  const fd = libc.openat(dirFd, '.', libc.O_RDONLY | libc.O_DIRECTORY | libc.O_CLOEXEC);
  try {
    const buf = new Uint8Array(64 * 1024);
    const out: string[] = [];
    for (let n; (n = libc.getdents64(fd, buf)) > 0;) out.push(...libc.parseDirents64(buf, n).map((e) => e.name));
    return out.filter((n) => n !== '.' && n !== '..').sort();
  } finally {
    libc.close(fd);
  }
}

const id = (fd: number): string => { const s = libc.fstat(fd); return `${s.dev}:${s.ino}`; };

async function withActor(body: (h: HostActorHandle, host: ReturnType<typeof setup>) => Promise<void> | void): Promise<void> {
  const host = setup();
  const before = outside(host.parent, []);
  const supervisor = new Supervisor();
  const h = await startHostActor(supervisor, [{ source: host.rw, readOnly: false }, { source: host.ro, readOnly: true }]);
  const fds: number[] = [...h.roots, h.proc];
  try {
    await body(h, host);
  } finally {
    for (const fd of fds) libc.close(fd);
    await h.stop();
    await supervisor.stopAll();
  }
  assert.equal(outside(host.parent, []), before, 'the host directory is as it was');
}

function setup() {
  const host = hostParent('asb-hostactor-');
  const rw = host.mnt;
  const ro = path.join(host.parent, 'ro');
  fs.writeFileSync(path.join(rw, 'f'), 'rw');
  fs.symlinkSync('/etc/passwd', path.join(rw, 'abs_passwd'));
  fs.symlinkSync('../secret.txt', path.join(rw, 'rel_secret'));
  fs.mkdirSync(ro);
  fs.writeFileSync(path.join(ro, 'f'), 'ro');
  return { ...host, rw, ro };
}

test('`..` from a donated mount root, 25 times over, stays at the container root', () =>
  withActor((h, host) => {
    const hostRoot = fs.statSync('/', { bigint: true });
    const hostRootId = `${hostRoot.dev}:${hostRoot.ino}`;
    const rwId = fs.statSync(host.rw, { bigint: true });
    assert.is(id(h.roots[0]!), `${rwId.dev}:${rwId.ino}`, 'the donated root is the source directory');
    for (const root of h.roots) {
      const seen = new Set<string>();
      let fd = root;
      const opened: number[] = [];
      try {
        for (let i = 0; i < 25; i++) {
          fd = libc.openat(fd, '..', DIR);
          opened.push(fd);
          seen.add(id(fd));
          assert.is.not(id(fd), hostRootId, `step ${i + 1} reached the host's /`);
        }
        assert.is(seen.size, 1, `\`..\` kept climbing: ${[...seen].join(' ')}`);
        assert.equal(names(fd), ['m0', 'm1'], 'the container root holds only the mount points');
        const fsType = libc.fstatfs(fd);
        assert.is(fsType.type, 0x01021994n, 'the container root is a tmpfs');
        // and it is read-only: nothing can be planted next to the mounts
        assert.is(errnoOf(() => libc.mkdirat(fd, 'evil', 0o755)), Errno.ROFS);
        assert.is(errnoOf(() => libc.openat(fd, 'evil', libc.O_CREAT | libc.O_WRONLY | libc.O_CLOEXEC, 0o644)), Errno.ROFS);
        assert.is(errnoOf(() => libc.symlinkat('/', fd, 'evil')), Errno.ROFS);
      } finally {
        for (const o of opened) libc.close(o);
      }
    }
  }));

test('path strings from a donated FD: `..` chains end in the container, symlinks are refused beneath', () =>
  withActor((h) => {
    const rw = h.roots[0]!;
    // the kernel resolves `..` within the container: the host's files are not there
    for (const p of ['../../../../etc/passwd', '../../../../../../proc/self/root/etc/passwd', '../m1/../../tmp', '../../secret.txt']) {
      assert.is(errnoOf(() => libc.openat(rw, p, libc.O_RDONLY | libc.O_CLOEXEC)), Errno.NOENT, p);
    }
    const m1 = libc.openat(rw, '../../../m1', DIR);
    try { assert.is(id(m1), id(h.roots[1]!), '`..` then down lands on the sibling mount'); } finally { libc.close(m1); }
    // what the gofer asks of openat2: never above the FD, never through a symlink
    const beneath = libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS | libc.RESOLVE_NO_MAGICLINKS;
    assert.is(errnoOf(() => libc.openat2(rw, '..', libc.O_PATH | libc.O_CLOEXEC, 0, beneath)), Errno.XDEV);
    assert.is(errnoOf(() => libc.openat2(rw, 'abs_passwd', libc.O_RDONLY | libc.O_CLOEXEC, 0, beneath)), Errno.LOOP);
    assert.is(errnoOf(() => libc.openat2(rw, 'rel_secret', libc.O_RDONLY | libc.O_CLOEXEC, 0, beneath)), Errno.LOOP);
    assert.is(errnoOf(() => libc.openat2(rw, '/etc/passwd', libc.O_RDONLY | libc.O_CLOEXEC, 0, beneath)), Errno.XDEV);
  }));

test('the host actor\'s mount namespace holds only the container: its root tmpfs and one mount per source', () =>
  withActor(async (h, host) => {
    const pid = h.actor.child.pid!;
    const mountinfo = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    const lines = mountinfo.trim().split('\n').map((l) => l.split(' '));
    // mountinfo: id parent major:minor root mountpoint options - fstype source superoptions
    const byPoint = new Map(lines.map((f) => [f[4]!, f]));
    assert.equal([...byPoint.keys()].sort(), ['/', '/m0', '/m1'], mountinfo);
    assert.is(lines.length, 3, mountinfo);
    const root = byPoint.get('/')!;
    const tail = (f: string[]): string[] => f.slice(f.indexOf('-') + 1);
    assert.equal(tail(root).slice(0, 2), ['tmpfs', 'asb-root'], mountinfo);
    assert.ok(root[5]!.split(',').includes('ro'), `the container root is mounted read-only: ${root[5]}`);
    assert.ok(root[5]!.split(',').includes('noexec'), root[5]);
    // each bind mount shows the host directory it came from as its root within its filesystem
    assert.ok(host.rw.endsWith(byPoint.get('/m0')![3]!), mountinfo);
    assert.ok(host.ro.endsWith(byPoint.get('/m1')![3]!), mountinfo);
    assert.ok(byPoint.get('/m1')![5]!.split(',').includes('ro'), `the read-only mount is ro: ${mountinfo}`);
    assert.ok(!byPoint.get('/m0')![5]!.split(',').includes('ro'), mountinfo);
    for (const f of [byPoint.get('/m0')!, byPoint.get('/m1')!]) {
      const opts = f[5]!.split(',');
      assert.ok(opts.includes('nosuid') && opts.includes('nodev'), `nosuid,nodev: ${f.join(' ')}`);
    }
    // the actor's own report (read through the /proc FD it kept) says the same
    assert.is(await h.actor.control.mountinfo(), mountinfo);
  }));

test('a read-only mount refuses writes in the kernel, through its donated FD', () =>
  withActor((h, host) => {
    const ro = h.roots[1]!;
    const roFiles = fingerprint(host.ro);
    assert.is(errnoOf(() => libc.openat(ro, 'x', libc.O_CREAT | libc.O_WRONLY | libc.O_CLOEXEC, 0o644)), Errno.ROFS);
    assert.is(errnoOf(() => libc.openat(ro, 'f', libc.O_WRONLY | libc.O_CLOEXEC)), Errno.ROFS);
    assert.is(errnoOf(() => libc.openat(ro, 'f', libc.O_RDONLY | libc.O_TRUNC | libc.O_CLOEXEC)), Errno.ROFS);
    assert.is(errnoOf(() => libc.mkdirat(ro, 'd', 0o755)), Errno.ROFS);
    assert.is(errnoOf(() => libc.unlinkat(ro, 'f', 0)), Errno.ROFS);
    assert.is(errnoOf(() => libc.renameat(ro, 'f', ro, 'g')), Errno.ROFS);
    assert.is(errnoOf(() => libc.symlinkat('f', ro, 's')), Errno.ROFS);
    assert.is(errnoOf(() => libc.utimensat(ro, 'f', 1n, 1n, 0)), Errno.ROFS);
    // through the /proc/self/fd reopening the gofer uses, too
    const self = libc.openSelfFdDir(h.proc);
    const f = libc.openat(ro, 'f', libc.O_PATH | libc.O_CLOEXEC);
    try {
      assert.is(errnoOf(() => libc.openat(self, String(f), libc.O_WRONLY | libc.O_CLOEXEC)), Errno.ROFS);
    } finally {
      libc.close(f);
      libc.close(self);
    }
    // and across: a link or rename from the read-write mount into it (Linux checks the target's
    // mount for writing first in link, the two mounts first in rename)
    assert.is(errnoOf(() => libc.linkat(h.roots[0]!, 'f', ro, 'g', 0)), Errno.ROFS);
    assert.is(errnoOf(() => libc.renameat(h.roots[0]!, 'f', ro, 'g')), Errno.XDEV);
    assert.is(errnoOf(() => libc.renameat(ro, 'f', h.roots[0]!, 'g')), Errno.XDEV);
    assert.equal(fingerprint(host.ro), roFiles);
  }));

test.run();
