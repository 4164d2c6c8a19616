/**
 * Symlink loops (loops.c): self loops, a -> b -> a, loops through the mount's parent and through an
 * absolute target, planted on the host and made by the guest, are ELOOP for every call that
 * follows them; the budget is 40 hops (a chain of 40 resolves, 41 does not); and the run ends
 * (runAttack's timeout fails a hang).
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, okLines, tree } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

const GUEST = '/asb-loops-mnt';

for (const mode of MODES) {
  test(`symlink loops end in ELOOP and the run finishes (${mode.name})`, () => {
    const host = hostParent('asb-loops-');
    const at = (rel: string): string => path.join(host.mnt, rel);
    fs.writeFileSync(at('file.txt'), 'inside');
    fs.symlinkSync('hself', at('hself'));
    fs.symlinkSync('hb', at('ha'));
    fs.symlinkSync('ha', at('hb'));
    // An absolute loop through the sandbox root. The guest path is one the host does not have, so
    // even a sandbox that let the host follow it could only meet a dangling link.
    fs.symlinkSync(`${GUEST}/habs`, at('habs'));
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${host.mnt}::${GUEST}`, securityFixture('loops'), GUEST]));
    assertGuest(r, okLines('host_loops', 'guest_loops') + `READ ${GUEST.slice(1)}/d1: inside\n` + okLines('budget', 'nothing_made'));
    const expected: Record<string, string> = {
      'file.txt': 'file:inside', gself: 'link:gself', ga: 'link:gb', gb: 'link:ga', gup: `link:..${GUEST}/gup`, gdir: 'link:.',
      hself: 'link:hself', ha: 'link:hb', hb: 'link:ha', habs: `link:${GUEST}/habs`,
    };
    for (let i = 0; i <= 40; i++) expected[`c${i}`] = `link:${i === 40 ? 'file.txt' : `c${i + 1}`}`;
    for (let i = 1; i <= 40; i++) expected[`d${i}`] = `link:${i === 40 ? 'file.txt' : `d${i + 1}`}`;
    assert.equal(tree(host.mnt), expected);
  });
}

test.run();
