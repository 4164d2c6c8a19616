/**
 * `..` chains (`..`, `../../..`, `a/../../..`, 1000 deep, wandering down and up) from the root
 * preopen and from directory fds opened inside a mount, with every call that takes a path
 * (dotdot.c). A mount below an empty root and a host directory mounted as the root itself: in
 * neither may a walk climb above the directory it started from, so the host parent next to the
 * mount stays out of reach and untouched.
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, fingerprint, okLines } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

const EXPECTED = okLines('dotdot_root', 'dotdot_dirfd', 'dotdot_nothing_made');

function setup() {
  const host = hostParent('asb-dotdot-');
  fs.writeFileSync(path.join(host.mnt, 'file.txt'), 'inside');
  fs.mkdirSync(path.join(host.mnt, 'sub', 'deeper'), { recursive: true });
  return host;
}

for (const mode of MODES) {
  test(`dotdot: a mount at /m below the tmpfs root (${mode.name})`, () => {
    const host = setup();
    const mnt = fingerprint(host.mnt);
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${host.mnt}::/m`, securityFixture('dotdot'), '/m']));
    assertGuest(r, EXPECTED);
    // the program writes nothing: even the mount is as it was
    assert.equal(fingerprint(host.mnt), mnt);
  });

  test(`dotdot: the host directory mounted as the root (${mode.name})`, () => {
    const host = setup();
    const mnt = fingerprint(host.mnt);
    const r = guarded(host, () => runAttack([...mode.args, '-v', `${host.mnt}:/`, securityFixture('dotdot'), '/']));
    assertGuest(r, EXPECTED);
    assert.equal(fingerprint(host.mnt), mnt);
  });
}

test.run();
