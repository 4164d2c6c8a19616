/**
 * Symlinks the GUEST makes in a host mount, aimed outside it, then written through
 * (guestlinks.c). Absolute targets are refused however spelled. Relative ones are made — they are
 * just text on the host disk, and on the host `mnt/esc -> ../secret.txt` does name the real
 * secret — but the sandbox resolves them beneath its own root: writing through `esc` creates the
 * TMPFS root's secret.txt, never the host's.
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, okLines, tree } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

for (const mode of MODES) {
  test(`guest symlinks aimed outside, then written through (${mode.name})`, () => {
    const host = hostParent('asb-guestlinks-');
    fs.writeFileSync(path.join(host.mnt, 'file.txt'), 'inside');
    fs.mkdirSync(path.join(host.mnt, 'sub'));
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${host.mnt}::/m`, securityFixture('guestlinks'), '/m', host.parent]));
    assertGuest(r, okLines('absolute_refused', 'relative_made')
      + 'READ secret.txt: written-through-chain\nLS victim: new.txt x\n'
      + okLines('relative_used', 'relative_from_dirfd', 'nothing_else'));
    const up = '../'.repeat(8).slice(0, -1);
    assert.equal(tree(host.mnt), {
      chain: 'link:sub/esc',
      dotdot: 'link:..',
      esc: 'link:../secret.txt',
      esc_deep: `link:${up}${host.parent}/victim`,
      esc_up: `link:${up}`,
      esc_victim: 'link:../victim',
      'file.txt': 'file:inside',
      sub: 'dir',
      'sub/esc': 'link:../../secret.txt',
      'sub/esc_deep': `link:${up}${host.parent}/secret.txt`,
    });
    // The links are loaded on the host: followed there, esc names the parent's secret. Inside the
    // sandbox the writes through it went to the tmpfs (guarded() saw the secret unchanged).
    assert.is(fs.readFileSync(path.join(host.mnt, 'esc'), 'utf8'), host.secret);
    assert.is(fs.readFileSync(path.join(host.mnt, 'sub/esc_deep'), 'utf8'), host.secret);
    assert.is(fs.readFileSync(path.join(host.mnt, 'esc_deep/file.txt'), 'utf8'), host.victim);
  });
}

test.run();
