// The koffi bindings the gofer and directfs stand on: statx decoded field by field against
// node:fs, and the fd-table reservation, observed in a fresh process's /proc/self/status.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as libc from '../../src/host/libc.js';
import { cleanupTmp, tmpDir } from '../wasi/helpers.js';

test.after(cleanupTmp);

function nsOf(t: { sec: bigint; nsec: bigint }): bigint { return t.sec * 1_000_000_000n + t.nsec; }

test('statx gives what node:fs gives, times to the nanosecond, before 1970 too', () => {
  const dir = tmpDir('asb-libc-');
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, 'x'.repeat(5000));
  fs.linkSync(f, path.join(dir, 'g'));
  // 1969-12-31T23:59:58.5: negative seconds, odd nanoseconds.
  fs.utimesSync(f, new Date(-1500), 1_700_000_000.123456);
  const dirFd = libc.openat(libc.AT_FDCWD, dir, libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC);
  try {
    for (const [got, name] of [[libc.statx(dirFd, 'f', libc.AT_SYMLINK_NOFOLLOW), 'f'], [libc.fstat(dirFd), '.']] as const) {
      const want = fs.lstatSync(path.join(dir, name), { bigint: true });
      assert.equal(
        { dev: got.dev, ino: got.ino, mode: got.mode, nlink: got.nlink, uid: got.uid, gid: got.gid, size: got.size, blocks: got.blocks, atimeNs: got.atimeNs, mtimeNs: got.mtimeNs, ctimeNs: got.ctimeNs },
        { dev: want.dev, ino: want.ino, mode: Number(want.mode), nlink: Number(want.nlink), uid: Number(want.uid), gid: Number(want.gid), size: want.size, blocks: want.blocks, atimeNs: want.atimeNs, mtimeNs: want.mtimeNs, ctimeNs: want.ctimeNs },
        name,
      );
    }
    const st = libc.statx(dirFd, 'f', libc.AT_SYMLINK_NOFOLLOW);
    assert.is(st.atimeNs, -1_500_000_000n);
    assert.is(st.nlink, 2);
    assert.is(st.size, 5000n);
    assert.ok(st.mtimeNs > nsOf({ sec: 1_700_000_000n, nsec: 0n }) && st.mtimeNs < nsOf({ sec: 1_700_000_001n, nsec: 0n }));
  } finally {
    libc.close(dirFd);
  }
});

test('statx times are exact to the nanosecond at every edge of the 32-bit seconds', () => {
  const dir = tmpDir('asb-libc-');
  fs.writeFileSync(path.join(dir, 'f'), '');
  const dirFd = libc.openat(libc.AT_FDCWD, dir, libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC);
  const ns = (sec: bigint, nsec: bigint): bigint => sec * 1_000_000_000n + nsec;
  const times = [
    0n, 1n, ns(0n, 999_999_999n), ns(1n, 0n), ns(65_535n, 999_999_999n), ns(65_536n, 1n),
    ns(1_700_000_000n, 123_456_789n), ns(2n ** 31n - 1n, 999_999_999n), ns(2n ** 31n, 0n),
    ns(2n ** 32n - 1n, 999_999_999n), ns(2n ** 32n, 0n), ns(2n ** 32n + 12_345n, 678n), -1n, ns(-2n, 5n),
  ];
  try {
    for (let i = 0; i < times.length; i++) {
      const atime = times[i]!, mtime = times[times.length - 1 - i]!;
      libc.utimensat(dirFd, 'f', atime, mtime, libc.AT_SYMLINK_NOFOLLOW);
      const got = libc.statx(dirFd, 'f', libc.AT_SYMLINK_NOFOLLOW);
      assert.equal([got.atimeNs, got.mtimeNs], [atime, mtime], `atime ${atime}, mtime ${mtime}`);
    }
  } finally {
    libc.close(dirFd);
  }
});

test('reserveFdTable grows the fd table once, up front', () => {
  const libcUrl = new URL('../../src/host/libc.js', import.meta.url).href;
  const script = `
    import * as libc from ${JSON.stringify(libcUrl)};
    import fs from 'node:fs';
    const size = () => Number(/FDSize:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
    const before = size();
    const fd = libc.openat(libc.AT_FDCWD, '/', libc.O_PATH | libc.O_CLOEXEC);
    libc.reserveFdTable(fd, 4096);
    const after = size();
    const next = libc.openat(libc.AT_FDCWD, '/', libc.O_PATH | libc.O_CLOEXEC);
    console.log(JSON.stringify({ before, after, next, fd }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const { before, after, next, fd } = JSON.parse(r.stdout) as { before: number; after: number; next: number; fd: number };
  assert.ok(before < 4096, `a fresh node starts with a small table (${before})`);
  assert.ok(after >= 4096, `FDSize ${after}`);
  assert.is(next, fd + 1, 'the high copy was closed: descriptors are still handed out lowest first');
});

test.run();
