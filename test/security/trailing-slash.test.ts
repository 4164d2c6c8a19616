/**
 * Trailing slashes (trailing.c): a trailing `/` demands a directory, so `file/` and
 * `link-to-file/` are ENOTDIR for every call and must never truncate, unlink, move or create
 * anything — in particular, O_CREAT on `dangling-link/` must not create the link's target.
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, okLines, tree } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

for (const mode of MODES) {
  test(`trailing slashes on files and symlinks (${mode.name})`, () => {
    const host = hostParent('asb-trailing-');
    fs.writeFileSync(path.join(host.mnt, 'file.txt'), 'inside');
    fs.mkdirSync(path.join(host.mnt, 'sub'));
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${host.mnt}::/m`, securityFixture('trailing'), '/m']));
    assertGuest(r, okLines('lookups', 'writes', 'unchanged'));
    assert.equal(tree(host.mnt), {
      dangling: 'link:nowhere',
      dlink: 'link:sub',
      'file.txt': 'file:inside',
      flink: 'link:file.txt',
      newdir: 'dir',
      sub: 'dir',
    });
  });

}

test.run();
