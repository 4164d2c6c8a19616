/**
 * Read-only mounts next to read-write ones. test/wasi/ro_mount.test.ts already runs ro_mount.c
 * (every write path on a read-only mount, rename and link in both directions between it and a
 * read-write mount) with directfs; here it runs through the gofer too, and with the two mounts
 * served differently (one through its gofer, one by directfs), since a move between them crosses
 * two servers.
 *
 * ro_escape.c tries the ways around a read-only mount that ro_mount.c does not: through a
 * read-write mount's symlink into it, from directory fds, moving files and directories between
 * the two in both directions, and read-only and read-write mounts nested in each other. The
 * read-only host directories must come out byte-for-byte and metadata-for-metadata unchanged, and
 * nothing may be moved or linked across (EROFS or EXDEV).
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, fingerprint, fixture, okLines, tree } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture } from './harness.js';

test.after(cleanupTmp);

/** Both modes, plus each mount served its own way (directfs=off on the read-only ones). */
const SERVINGS = [
  ...MODES.map((m) => ({ name: m.name, args: m.args, roOpts: '' })),
  { name: 'read-only via gofer, read-write via directfs', args: [] as readonly string[], roOpts: ',directfs=off' },
];

for (const s of SERVINGS.slice(1)) {
  test(`ro_mount.c, every write path on a read-only mount (${s.name})`, () => {
    const host = hostParent('asb-romount-');
    const ro = path.join(host.parent, 'ro');
    const rw = path.join(host.parent, 'rw');
    fs.mkdirSync(path.join(ro, 'd'), { recursive: true });
    fs.writeFileSync(path.join(ro, 'f'), 'read-only data\n');
    fs.writeFileSync(path.join(ro, 'd', 'inner'), 'inner\n');
    fs.mkdirSync(rw);
    fs.writeFileSync(path.join(rw, 'f'), 'read-write data\n');
    const r = guarded(host, () => runAttack([...s.args, '--mount', `type=bind,src=${ro},dst=/ro,readonly${s.roOpts}`, '-v', `${rw}:/rw`,
      fixture('ro_mount'), '/ro', '/rw']), ['rw']);
    assertGuest(r, okLines('ro_open', 'ro_fd', 'ro_path', 'ro_read', 'rw_ops'));
    assert.equal(tree(rw), { 'created.txt': 'file:created', f: 'file:rewritten', 'hard.txt': 'file:rewritten', newdir: 'dir', sym: 'link:f' });
  });
}

for (const s of SERVINGS) {
  test(`read-only mounts reached through links, dir fds, moves and nesting (${s.name})`, () => {
    const host = hostParent('asb-roescape-');
    const at = (rel: string): string => path.join(host.parent, rel);
    for (const d of ['ro/d', 'ro/sub', 'rw/inner', 'ro2', 'rw2']) fs.mkdirSync(at(d), { recursive: true });
    fs.writeFileSync(at('ro/f'), 'ro-data');
    fs.writeFileSync(at('ro/d/inner'), 'inner');
    fs.symlinkSync('../rw', at('ro/to_rw'));
    fs.writeFileSync(at('rw/f'), 'rw-data');
    fs.writeFileSync(at('rw/inner/hidden.txt'), 'under-the-mount');
    fs.symlinkSync('../ro', at('rw/to_ro'));
    fs.writeFileSync(at('ro2/g'), 'ro2-data');
    fs.writeFileSync(at('rw2/h'), 'rw2-data');
    const ro = fingerprint(at('ro'));
    const ro2 = fingerprint(at('ro2'));
    const r = guarded(host, () => runAttack([...s.args,
      '--mount', `type=bind,src=${at('ro')},dst=/ro,readonly${s.roOpts}`,
      '-v', `${at('rw')}:/rw`,
      '--mount', `type=bind,src=${at('ro2')},dst=/rw/inner,readonly${s.roOpts}`,
      '--dir', `${at('rw2')}::/ro/sub`,
      securityFixture('ro_escape')]), ['rw', 'rw2']);
    assertGuest(r, okLines('via_symlink', 'moves_across') + 'READ rw/inner/g: ro2-data\n' + okLines('ro_inside_rw', 'rw_inside_ro'));
    assert.equal(fingerprint(at('ro')), ro, 'the read-only mount is unchanged');
    assert.equal(fingerprint(at('ro2')), ro2, 'the nested read-only mount is unchanged');
    assert.equal(tree(at('rw')), {
      f: 'file:rw-data', inner: 'dir', 'inner/hidden.txt': 'file:under-the-mount', to_ro: 'link:../ro', 'via_ro.txt': 'file:via-ro',
    });
    assert.equal(tree(at('rw2')), { dd: 'dir', h: 'file:rw2-data', 'new.txt': 'file:rw2-new' });
  });
}

test.run();
