// --rootfs with --overlay root:memory (the default), none, --read-only and --overlay-size, and
// the same through the API: what the program writes lands in the overlay, never on the host rootfs.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSandbox } from '../../src/index.js';
import { cleanupTmp, fingerprint, fixture, runCli, show, tmpDir } from '../wasi/helpers.js';

test.after(cleanupTmp);

/** A rootfs with a file and an empty work directory; returns it and its fingerprint function. */
function rootfs(): { dir: string; snap: () => Record<string, string> } {
  const dir = tmpDir('asb-rootfs-');
  fs.mkdirSync(path.join(dir, 'work'));
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.writeFileSync(path.join(dir, 'etc', 'motd'), 'hello');
  return { dir, snap: () => fingerprint(dir) };
}

test('root:memory (default): the program writes freely, the host rootfs stays byte-identical', () => {
  const { dir, snap } = rootfs();
  const before = snap();
  for (const extra of [[], ['--overlay', 'root:memory'], ['--no-directfs']]) {
    const r = runCli(['run', '--rootfs', dir, ...extra, '--json', fixture('path_ops'), '/work']);
    assert.is(r.status, 0, show(r));
    const mounts = JSON.parse(r.stdout.trim().split('\n').pop()!).sandbox.kernel.mounts;
    assert.ok(mounts['/'].overlay.inodes > 0, 'the upper layer holds what the program made');
    assert.equal(snap(), before);
  }
});

test('--overlay none writes through to the host; --read-only is EROFS', () => {
  const { dir } = rootfs();
  const r = runCli(['run', '--rootfs', dir, '--overlay', 'none', fixture('path_ops'), '/work']);
  assert.is(r.status, 0, show(r));
  assert.is(fs.readFileSync(path.join(dir, 'work', 'po', 'kept.txt'), 'utf8'), 'kept');
  const { dir: ro, snap } = rootfs();
  const before = snap();
  const denied = runCli(['run', '--rootfs', ro, '--read-only', fixture('path_ops'), '/work']);
  assert.is.not(denied.status, 0, 'path_ops cannot create anything on a read-only root');
  assert.equal(snap(), before);
});

test('bad overlay flags exit 2 with a message', () => {
  const { dir } = rootfs();
  for (const [args, re] of [
    [['--overlay', 'root:tape'], /--overlay takes root:memory, root:self, root:dir=PATH or none/],
    [['--overlay-size', '0'], /--overlay-size takes a positive integer/],
  ] as [string[], RegExp][]) {
    const r = runCli(['run', '--rootfs', dir, ...args, fixture('exit42')]);
    assert.is(r.status, 2, show(r));
    assert.match(r.stderr, re);
  }
  const r = runCli(['run', '--read-only', fixture('exit42')]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /--read-only needs --rootfs/);
});

test('API: rootfs beside a mount at "/" is a typed error; the upper cap gives the guest ENOSPC', async () => {
  const { dir, snap } = rootfs();
  await createSandbox({ rootfs: dir, mounts: [{ hostPath: tmpDir(), guestPath: '/' }] }).then(
    () => assert.unreachable('accepted two roots'),
    (e: { code?: string }) => assert.is(e.code, 'ASB_ERR_INVALID_OPTION'),
  );
  const before = snap();
  const sb = await createSandbox({ rootfs: dir, overlaySize: 8 });
  try {
    const res = await sb.run(fixture('path_ops'), { args: ['/work'] });
    assert.is.not(res.exitCode, 0, 'path_ops writes more than 8 bytes');
    assert.match(res.stderr.toString(), /NOSPC|No space/i);
  } finally {
    await sb.close();
  }
  assert.equal(snap(), before);
});

test.run();
