// The overlay's filestore mediums: `self` (a hidden file in the rootfs's own host directory, seen
// by `du`, removed at close) and `dir=` (an unnamed file in PATH), both mapped into the Sentry;
// and a full host disk, which gives the guest ENOSPC and leaves every byte it wrote readable.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSandbox, type Sandbox } from '../../src/index.js';
import { cleanupTmp, fingerprint, ROOT, runCli, show, tmpDir } from '../wasi/helpers.js';

test.after(cleanupTmp);

const FILESTORE = path.join(ROOT, 'test', 'fixtures', 'api', 'filestore.wasm');
const PREFIX = '.actor-sandbox.filestore.';

function rootfs(): string {
  const dir = tmpDir('asb-fstore-');
  fs.mkdirSync(path.join(dir, 'work'));
  fs.writeFileSync(path.join(dir, 'motd'), 'hello');
  return dir;
}

/** The fingerprint minus the root's own entry: creating and removing the filestore touches its mtime. */
function contents(dir: string): Record<string, string> {
  const { '.': _root, ...rest } = fingerprint(dir);
  return rest;
}

async function run(sb: Sandbox, ...args: string[]): Promise<string> {
  const r = await sb.run(FILESTORE, { args });
  assert.is(r.exitCode, 0, r.stderr.toString());
  return r.stdout.toString();
}

/** Host paths this process holds open, as /proc shows them. */
function openFiles(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try { return [fs.readlinkSync(`/proc/self/fd/${fd}`)]; } catch { return []; }
  });
}

for (const directfs of [true, false]) {
  test(`self (${directfs ? 'directfs' : 'gofer'}): the filestore is in the rootfs while the sandbox lives, hidden from the guest, gone at close`, async () => {
    const dir = rootfs();
    const before = contents(dir);
    const sb = await createSandbox({ rootfs: dir, overlay: 'self', directfs });
    let name: string;
    try {
      const stores = fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX));
      assert.is(stores.length, 1, 'one filestore in the rootfs');
      name = stores[0]!;
      assert.match(name, /^\.actor-sandbox\.filestore\.[0-9a-f]{16}$/);
      assert.is(await run(sb, 'hide', name), [
        'stat ENOENT', 'lstat ENOENT', 'open ENOENT', 'open-write ENOENT', 'rename ENOENT', 'unlink ENOENT',
        'link ENOENT', 'listed 0', 'create ok', 'write ok', 'pread ok', 'listed 1', 'unlink-own ok',
        'stat-after ENOENT', 'listed 0', '',
      ].join('\n'));
      assert.is(await run(sb, 'fill', '/work/big', String(8 << 20)), `wrote ${8 << 20} ok\nverified ${8 << 20}\n`);
      // What the guest wrote is charged to the rootfs's directory on the host (du counts blocks).
      const st = fs.statSync(path.join(dir, name));
      assert.ok(st.blocks * 512 >= 8 << 20, `du sees ${st.blocks * 512} bytes`);
      assert.ok(Number(execFileSync('du', ['-sk', dir]).toString().split('\t')[0]) >= 8 << 10, 'du of the rootfs counts the filestore');
      const overlay = (await sb.stats()).kernel.mounts['/']!.overlay!;
      assert.is(overlay.medium, 'filestore');
      assert.ok(overlay.hostBytes >= 8 << 20);
    } finally {
      await sb.close();
    }
    assert.not.ok(fs.existsSync(path.join(dir, name)), 'the filestore is removed at close');
    assert.equal(contents(dir), before, 'nothing else on the host rootfs changed');
  });
}

test('dir=PATH: the filestore has no name in PATH, holds the data, and is freed at close', async () => {
  const dir = rootfs();
  const store = tmpDir('asb-store-');
  const before = contents(dir);
  const sb = await createSandbox({ rootfs: dir, overlay: { dir: store } });
  try {
    assert.equal(fs.readdirSync(store), [], 'created and unlinked at once');
    const held = openFiles().filter((p) => p.startsWith(`${store}/`));
    assert.is(held.length, 1, `the Sentry holds one unnamed file in ${store}: ${held.join(', ')}`);
    assert.match(held[0]!, /\(deleted\)$/);
    assert.is(await run(sb, 'fill', '/work/big', String(3 << 20)), `wrote ${3 << 20} ok\nverified ${3 << 20}\n`);
    assert.is((await sb.stats()).kernel.mounts['/']!.overlay!.medium, 'filestore');
  } finally {
    await sb.close();
  }
  assert.equal(openFiles().filter((p) => p.startsWith(`${store}/`)), [], 'unmapped and closed at close');
  assert.equal(contents(dir), before);
});

test('a full host disk under the filestore: the guest gets ENOSPC, what it wrote reads back intact', async () => {
  // A 4 MiB tmpfs stands in for a full disk (the tests run as root, as CI does).
  const small = tmpDir('asb-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'asb-full', small]);
  try {
    const dir = rootfs();
    const sb = await createSandbox({ rootfs: dir, overlay: { dir: small } });
    try {
      const out = await run(sb, 'fill', '/work/big', String(16 << 20));
      const m = /^wrote (\d+) ENOSPC\nverified (\d+)\n$/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) > 0 && m[1] === m[2], out);
      // The Sentry is unharmed: a file that fits in what is left still works.
      assert.is(await run(sb, 'fill', '/work/small', '1000'), 'wrote 1000 ok\nverified 1000\n');
    } finally {
      await sb.close();
    }
  } finally {
    execFileSync('umount', [small]);
  }
});

test('CLI: --overlay root:self and root:dir=PATH; a bad medium exits 2', () => {
  const dir = rootfs();
  const before = contents(dir);
  const store = tmpDir('asb-store-');
  for (const medium of ['root:self', `root:dir=${store}`]) {
    const r = runCli(['run', '--rootfs', dir, '--overlay', medium, FILESTORE, 'fill', '/work/f', '70000']);
    assert.is(r.status, 0, show(r));
    assert.is(r.stdout, 'wrote 70000 ok\nverified 70000\n');
  }
  assert.equal(contents(dir), before);
  assert.equal(fs.readdirSync(store), []);
  const bad = runCli(['run', '--rootfs', dir, '--overlay', 'root:dir=', FILESTORE]);
  assert.is(bad.status, 2, show(bad));
  assert.match(bad.stderr, /--overlay takes root:memory, root:self, root:dir=PATH or none/);
});

test.run();
