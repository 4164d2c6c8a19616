// A host mount's cache policy, seen by a guest that looks at one file while the host changes it.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSandbox, type MountSpec } from '../../src/index.js';

const statwatch = fileURLToPath(new URL('../../../test/fixtures/api/statwatch.wasm', import.meta.url));

/** Starts statwatch on /data/f; `look()` makes the guest stat it once and returns what it printed. */
async function watch(cache: MountSpec['cache'], directfs = true) {
  const dir = mkdtempSync(join(tmpdir(), 'asb-cache-'));
  writeFileSync(join(dir, 'f'), 'abc');
  const sandbox = await createSandbox({ directfs, mounts: [{ hostPath: dir, guestPath: '/data', ...(cache ? { cache } : {}) }] });
  const stdin = new PassThrough();
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const done = sandbox.run(statwatch, {
    args: ['/data/f'], stdin, keepOutput: false,
    onStdout: (c) => { lines.push(...Buffer.from(c).toString().trim().split('\n')); wake?.(); },
  });
  const look = async (): Promise<string> => {
    const seen = lines.length;
    const got = new Promise<void>((r) => { wake = r; });
    stdin.write('\n');
    while (lines.length <= seen) await got;
    return lines[seen]!;
  };
  const rpcs = async (): Promise<number> => (await sandbox.stats()).kernel.mounts['/data']!.rpcs;
  const stop = async (): Promise<number> => {
    stdin.end();
    const r = await done;
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    return r.exitCode;
  };
  return { dir, look, rpcs, stop };
}

for (const directfs of [true, false]) {
  const mode = directfs ? 'directfs' : 'gofer';
  test(`${mode}, cache=shared: the guest sees the host change a file, remove it and make it again`, async () => {
    const w = await watch('shared', directfs);
    try {
      assert.is(await w.look(), 'size 3');
      appendFileSync(join(w.dir, 'f'), 'defg');
      assert.is(await w.look(), 'size 7');
      rmSync(join(w.dir, 'f'));
      assert.is(await w.look(), 'missing');
      writeFileSync(join(w.dir, 'f'), '');
      assert.is(await w.look(), 'size 0');
    } finally {
      assert.is(await w.stop(), 0);
    }
  });

  test(`${mode}, exclusive (the default): a second look at a file costs no host call`, async () => {
    const w = await watch(undefined, directfs);
    try {
      assert.is(await w.look(), 'size 3');
      const before = await w.rpcs();
      assert.is(await w.look(), 'size 3');
      assert.is(await w.look(), 'size 3');
      assert.is(await w.rpcs(), before, 'stat of a cached file is answered from the cache');
    } finally {
      assert.is(await w.stop(), 0);
    }
  });
}

test('a bad cache policy is refused with a typed error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asb-cache-'));
  try {
    await createSandbox({ mounts: [{ hostPath: dir, guestPath: '/d', cache: 'sometimes' as MountSpec['cache'] }] });
    assert.unreachable('created');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ASB_ERR_INVALID_OPTION');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
