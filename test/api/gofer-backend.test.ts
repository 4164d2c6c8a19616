// Custom gofer backends: the shipped object-tree backend and a user's own module, served to a
// guest beside a directfs host mount in the same sandbox.
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSandboxError, createSandbox, objectTreeMount } from '../../src/index.js';
import { cleanupTmp, tmpDir } from '../wasi/helpers.js';
import fs from 'node:fs';
import path from 'node:path';

test.after(cleanupTmp);

const treewalk = fileURLToPath(new URL('../../../test/fixtures/api/treewalk.wasm', import.meta.url));
const flaky = new URL('./flaky-backend.js', import.meta.url);

test('an object tree served by a gofer backend, read-only, beside a directfs host mount', async () => {
  const host = tmpDir();
  fs.writeFileSync(path.join(host, 'h.txt'), 'from the host');
  await using sandbox = await createSandbox({
    mounts: [
      objectTreeMount('/assets', {
        'README.md': '# assets\n',
        data: { 'bytes.bin': new Uint8Array([0, 1, 2, 65, 66]), empty: {} },
        latest: { $symlink: 'data/bytes.bin' },
        escape: { $symlink: '../../../etc/passwd' },
      }),
      { hostPath: host, guestPath: '/data' },
    ],
  });
  const r = await sandbox.run(treewalk, { args: ['/assets'] });
  assert.is(r.exitCode, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), [
    'f /assets/README.md 9 # assets.',
    'd /assets/data',
    'f /assets/data/bytes.bin 5 ...AB',
    'd /assets/data/empty',
    'l /assets/escape -> ../../../etc/passwd (Capabilities insufficient)', // `..` above the root: refused
    'l /assets/latest -> data/bytes.bin (5)',
    'create: Read-only file system',
    'mkdir: Read-only file system',
    '',
  ].join('\n'));
  const h = await sandbox.run(treewalk, { args: ['/data'] });
  assert.match(h.stdout.toString(), /^f \/data\/h\.txt 13 from the host\ncreate: ok\nmkdir: ok\n$/);
  assert.ok(fs.existsSync(path.join(host, 'new.txt')), 'the host mount beside it is writable');
  const mounts = (await sandbox.stats()).kernel.mounts;
  assert.is(mounts['/assets']!.mode, 'gofer');
  assert.is(mounts['/data']!.mode, 'directfs');
});

test('a backend that throws answers EIO for that call and goes on serving', async () => {
  await using sandbox = await createSandbox({ mounts: [{ guestPath: '/f', backend: { module: flaky, factory: 'makeFlaky', options: { text: 'fine' } } }] });
  const r = await sandbox.run(treewalk, { args: ['/f'] });
  assert.is(r.stdout.toString(), 'f /f/boom 4 I/O error\nf /f/ok 4 fine\ncreate: Read-only file system\nmkdir: Read-only file system\n');
  const again = await sandbox.run(treewalk, { args: ['/f'] });
  assert.is(again.stdout.toString(), r.stdout.toString(), 'the gofer survived');
});

test('a backend module without its factory fails sandbox creation with a typed error naming it', async () => {
  try {
    await createSandbox({ mounts: [{ guestPath: '/f', backend: { module: flaky, factory: 'nope' } }] });
    assert.unreachable('created');
  } catch (e) {
    assert.instance(e, ActorSandboxError);
    assert.is((e as ActorSandboxError).code, 'ASB_ERR_ACTOR_START');
    assert.match((e as Error).message, /no function export "nope"/);
  }
});

test.run();
