// --bundle: an OCI config.json's root, bind mounts, process and mount hints; and the per-mount
// directfs switch, by annotation and by flag, beside a directfs mount in the same sandbox.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanupTmp, fixture, runCli, show, tmpDir } from '../wasi/helpers.js';

test.after(cleanupTmp);

interface Modes { [guest: string]: { mode: string } }

function modesOf(stdout: string): Modes {
  const last = stdout.trim().split('\n').pop()!;
  return (JSON.parse(last) as { sandbox: { kernel: { mounts: Modes } } }).sandbox.kernel.mounts;
}

/** A bundle: rootfs/ with the program at /bin/prog.wasm, and two host dirs to bind. */
function bundle(annotations: (a: string) => Record<string, string>, extra: object = {}): { dir: string; a: string; b: string } {
  const dir = tmpDir('asb-bundle-');
  fs.mkdirSync(path.join(dir, 'rootfs', 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'rootfs', 'a'));
  fs.mkdirSync(path.join(dir, 'rootfs', 'b'));
  fs.copyFileSync(fixture('path_ops'), path.join(dir, 'rootfs', 'bin', 'prog.wasm'));
  const a = tmpDir('asb-bundle-a-');
  const b = tmpDir('asb-bundle-b-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    ociVersion: '1.0.2',
    root: { path: 'rootfs', readonly: true },
    process: { args: ['/bin/prog.wasm', '/a'], env: ['LANG=C'], cwd: '/' },
    mounts: [
      { destination: '/a', type: 'bind', source: a, options: ['rbind', 'rw'] },
      { destination: '/b', source: b, options: ['bind', 'ro'] },
    ],
    annotations: annotations(a),
    ...extra,
  }));
  return { dir, a, b };
}

const OK_PATH_OPS = 'ok path_create_directory\nok path_open\nok path_filestat_get\nok path_filestat_set_times\nok path_link\nok path_unlink_file\nok path_remove_directory\nok path_rename\n';

test('an annotation switches directfs off for its mount only; the program runs from the bundle', () => {
  const { dir, a } = bundle((src) => ({
    'dev.actor-sandbox.spec.mount.scratch.source': src,
    'dev.actor-sandbox.spec.mount.scratch.directfs': 'off',
    'dev.actor-sandbox.spec.mount.scratch.unknown-key': 'ignored',
    'org.example.other': 'ignored too',
  }));
  const r = runCli(['run', '--bundle', dir, '--json']);
  assert.is(r.status, 0, show(r));
  assert.ok(r.stdout.startsWith(OK_PATH_OPS), show(r));
  const m = modesOf(r.stdout);
  assert.equal(Object.keys(m).sort(), ['/', '/a', '/b']);
  assert.is(m['/']!.mode, 'directfs');
  assert.is(m['/a']!.mode, 'gofer');
  assert.is(m['/b']!.mode, 'directfs');
  assert.ok(fs.existsSync(path.join(a, 'po', 'kept.txt')), 'the guest wrote through the gofer mount');
});

test('the flag form: --mount …,directfs=off beside a --dir mount; --no-directfs turns all off', () => {
  const a = tmpDir();
  const b = tmpDir();
  const both = ['--mount', `type=bind,src=${a},dst=/a,directfs=off`, '--dir', `${b}::/b`, '--json', fixture('path_ops'), '/a'];
  const r = runCli(['run', ...both]);
  assert.is(r.status, 0, show(r));
  const m = modesOf(r.stdout);
  assert.is(m['/a']!.mode, 'gofer');
  assert.is(m['/b']!.mode, 'directfs');
  const off = runCli(['run', '--no-directfs', '--mount', `src=${tmpDir()},dst=/a,directfs=on`, '--dir', `${tmpDir()}::/b`, '--json', fixture('path_ops'), '/a']);
  assert.is(off.status, 0, show(off));
  const mo = modesOf(off.stdout);
  assert.is(mo['/a']!.mode, 'gofer', 'a mount cannot switch directfs on against the global off');
  assert.is(mo['/b']!.mode, 'gofer');
});

test('bad hints and bad bundles exit 2 with a message naming the key', () => {
  const cases: [(a: string) => Record<string, string>, RegExp][] = [
    [() => ({ 'dev.actor-sandbox.spec.mount.x.directfs': 'off' }), /dev\.actor-sandbox\.spec\.mount\.x\.source is missing/],
    [() => ({ 'dev.actor-sandbox.spec.mount.x.source': '/nowhere', 'dev.actor-sandbox.spec.mount.x.directfs': 'off' }), /mount\.x\.source.*matches no bind mount/],
  ];
  for (const [ann, re] of cases) {
    const { dir } = bundle(ann);
    const r = runCli(['run', '--bundle', dir]);
    assert.is(r.status, 2, show(r));
    assert.match(r.stderr, re, show(r));
  }
  const { dir } = bundle((src) => ({ 'dev.actor-sandbox.spec.mount.s.source': src, 'dev.actor-sandbox.spec.mount.s.directfs': 'sometimes' }));
  const r = runCli(['run', '--bundle', dir]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /dev\.actor-sandbox\.spec\.mount\.s\.directfs must be off or on/);
  const tmpfsMount = bundle(() => ({}), { mounts: [{ destination: '/t', type: 'tmpfs', source: 'tmpfs' }] });
  const t = runCli(['run', '--bundle', tmpfsMount.dir]);
  assert.is(t.status, 2, show(t));
  assert.match(t.stderr, /mounts\[0\]\.type "tmpfs" is not supported/);
  const prog = runCli(['run', '--bundle', tmpfsMount.dir, fixture('exit42')]);
  assert.is(prog.status, 2, show(prog));
});

test.run();
