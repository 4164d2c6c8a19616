/**
 * Hard links (hardlinks.c). Inside one mount path_link works; across two mounts, or between a
 * mount and the tmpfs root, it is EXDEV (from the root preopen and from directory fds); a
 * directory, through a link to it too, is EPERM.
 *
 * A hard link the HOST planted in a mount to a file outside it (mnt/hard_shared, a second name of
 * the parent's shared.txt) is readable by the guest. That is not an escape: it is the very inode
 * the mount's owner put inside the mount, and a bind mount (or gVisor) gives the same. It is also
 * writable through that name on a read-write mount, for the same reason; this suite only reads it,
 * so the fingerprint of the parent (shared.txt's bytes, mtime and nlink included) stays intact.
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, okLines, tree } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

for (const mode of MODES) {
  test(`hard links: same mount, across mounts, directories, planted by the host (${mode.name})`, () => {
    const host = hostParent('asb-hardlinks-');
    const m = host.mnt;
    const n = path.join(host.parent, 'mnt2');
    fs.writeFileSync(path.join(m, 'file.txt'), 'inside');
    fs.mkdirSync(path.join(m, 'sub'));
    fs.symlinkSync('sub', path.join(m, 'dlink'));
    fs.linkSync(path.join(host.parent, 'shared.txt'), path.join(m, 'hard_shared'));
    fs.mkdirSync(n);
    fs.writeFileSync(path.join(n, 'other.txt'), 'other');
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${m}::/m`, '--dir', `${n}::/n`, securityFixture('hardlinks'), '/m', '/n']),
      ['mnt', 'mnt2']);
    assertGuest(r, 'READ m/sub/hl2: inside\n' + okLines('same_mount', 'across', 'directories')
      + 'READ m/hard_shared: shared-by-owner\n' + okLines('host_planted'));
    assert.equal(tree(m), {
      dlink: 'link:sub', 'file.txt': 'file:inside', hard_shared: 'file:shared-by-owner', hl: 'file:inside', sub: 'dir', 'sub/hl2': 'file:inside',
    });
    assert.equal(tree(n), { 'other.txt': 'file:other' });
    const ino = (p: string): bigint => fs.statSync(p, { bigint: true }).ino;
    assert.is(ino(path.join(m, 'hl')), ino(path.join(m, 'file.txt')));
    assert.is(ino(path.join(m, 'sub/hl2')), ino(path.join(m, 'file.txt')));
    assert.is(fs.statSync(path.join(host.parent, 'shared.txt')).nlink, 2);
  });
}

test.run();
