/**
 * Symlinks PLANTED ON THE HOST inside a mount, aimed outside it — absolute (/etc, /etc/passwd, /,
 * the host path of the secret) and relative (../secret.txt, ../../../.., ../victim, a symlinked
 * directory used as a path component) — followed by read, stat, readdir, O_CREAT|O_TRUNC, mkdir,
 * symlink, unlink, set_times, rename and link (hostlinks.c). Plus a FIFO and a character device
 * planted on the host, which an open must refuse rather than hang on or reach.
 *
 * The guest prints whatever it manages to read; the host's secret, victim and /etc/passwd must
 * never appear, and the host must be unchanged (the program writes only into the tmpfs root).
 * Links aimed at /, /etc or above are only ever looked up; every write goes through a link that,
 * on the host, names something in the test's temporary parent directory (hostlinks.c says why).
 */
import { test } from 'uvu';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cleanupTmp, fingerprint } from '../wasi/helpers.js';
import { MODES, assertGuest, guarded, hostParent, runAttack, securityFixture, type HostParent } from './harness.js';

test.after(cleanupTmp);

function plant(): HostParent {
  const host = hostParent('asb-hostlinks-');
  const m = host.mnt;
  const at = (rel: string): string => path.join(m, rel);
  fs.writeFileSync(at('file.txt'), 'inside');
  fs.mkdirSync(at('sub/deeper'), { recursive: true });
  const links: [string, string][] = [
    ['abs_etc', '/etc'],
    ['abs_passwd', '/etc/passwd'],
    ['abs_root', '/'],
    ['abs_secret', path.join(host.parent, 'secret.txt')],
    ['abs_victim', path.join(host.parent, 'victim')],
    ['rel_secret', '../secret.txt'],
    ['up', '../../../..'],
    ['deep_victim', `${'../'.repeat(6)}${path.join(host.parent, 'victim').slice(1)}`],
    ['victim_link', '../victim'],
    ['sub/abs_passwd', '/etc/passwd'],
    ['sub/abs_root', '/'],
    ['sub/abs_victim', path.join(host.parent, 'victim')],
    ['sub/rel_secret', '../../secret.txt'],
    ['sub/up', '../../../../../..'],
    ['sub/victim_link', '../../victim'],
  ];
  for (const [name, target] of links) fs.symlinkSync(target, at(name));
  // On the host every relative link really does name the parent's files.
  assert.is(fs.readFileSync(at('sub/rel_secret'), 'utf8'), host.secret);
  assert.is(fs.readFileSync(at('deep_victim/file.txt'), 'utf8'), host.victim);
  execFileSync('mkfifo', [at('fifo')]);
  execFileSync('mknod', [at('null'), 'c', '1', '3']);
  return host;
}

/** What the guest reads with the mount at /m: only the sandbox's own files and its decoys. */
function mountedAtM(host: HostParent): string {
  // the decoy group recreates the parent's absolute path inside the tmpfs root
  const top = host.parent.split('/')[1]!;
  return [
    'LS m/abs_root: m',
    'LS m/sub/abs_root: m',
    'ok plain',
    'ok dirfd',
    'READ m/abs_passwd: sandbox-passwd',
    'READ m/sub/abs_passwd: sandbox-passwd',
    'READ m/rel_secret: sandbox-secret',
    'READ m/sub/rel_secret: sandbox-secret',
    'READ m/victim_link/file.txt: sandbox-victim',
    'READ m/sub/victim_link/file.txt: sandbox-victim',
    'READ m/abs_secret: sandbox-abs-secret',
    'READ m/abs_victim/file.txt: sandbox-abs-victim',
    `LS m/abs_root: ${['etc', 'm', 'secret.txt', top, 'victim'].sort().join(' ')}`,
    'LS m/abs_etc: passwd',
    'LS victim: file.txt new.txt newdir s',
    'READ m/abs_root/m/file.txt: inside',
    'ok decoy',
    'ok special',
  ].map((l) => `${l}\n`).join('');
}

for (const mode of MODES) {
  test(`host symlinks: a mount at /m below the tmpfs root (${mode.name})`, () => {
    const host = plant();
    const mnt = fingerprint(host.mnt);
    const r = guarded(host, () => runAttack([...mode.args, '--dir', `${host.mnt}::/m`, securityFixture('hostlinks'), '/m', host.parent, 'plain', 'dirfd', 'decoy', 'special']));
    assertGuest(r, mountedAtM(host));
    assert.equal(fingerprint(host.mnt), mnt, 'every write landed in the tmpfs root, none in the mount');
  });

  test(`host symlinks: the host directory mounted as the root (${mode.name})`, () => {
    const host = plant();
    const mnt = fingerprint(host.mnt);
    const names = fs.readdirSync(host.mnt).sort().join(' ');
    const r = guarded(host, () => runAttack([...mode.args, '-v', `${host.mnt}:/`, securityFixture('hostlinks'), '/', host.parent, 'dirfd', 'rootmount', 'special']));
    // an absolute link to "/" is the mount itself: its own names, nothing of the host's root
    assertGuest(r, [
      'ok dirfd',
      `LS abs_root: ${names}`,
      `LS sub/abs_root: ${names}`,
      'READ abs_root/file.txt: inside',
      'ok rootmount',
      'ok special',
    ].map((l) => `${l}\n`).join(''));
    assert.equal(fingerprint(host.mnt), mnt);
  });
}

test.run();
