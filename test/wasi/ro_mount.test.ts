/**
 * Read-only mounts: ro_mount.wasm tries every write path on /ro (each must fail, EROFS) and the
 * same operations on /rw (each must succeed). The read-only host directory must come out
 * byte-for-byte and metadata-for-metadata unchanged.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupTmp, fingerprint, fixture, okLines, runCli, show, tmpDir, tree } from './helpers.js';

test.after(cleanupTmp);

function setup(): { ro: string; rw: string } {
  const ro = tmpDir('asb-ro-');
  const rw = tmpDir('asb-rw-');
  fs.writeFileSync(path.join(ro, 'f'), 'read-only data\n');
  fs.mkdirSync(path.join(ro, 'd'));
  fs.writeFileSync(path.join(ro, 'd', 'inner'), 'inner\n');
  fs.writeFileSync(path.join(rw, 'f'), 'read-write data\n');
  return { ro, rw };
}

const EXPECTED = okLines('ro_open', 'ro_fd', 'ro_path', 'ro_read', 'rw_ops');

function check(ro: string, rw: string, mountArgs: string[]): void {
  const before = fingerprint(ro);
  const r = runCli(['run', ...mountArgs, fixture('ro_mount'), '/ro', '/rw']);
  assert.is(r.stderr, '', show(r));
  assert.is(r.stdout, EXPECTED, show(r));
  assert.is(r.status, 0, show(r));
  assert.equal(fingerprint(ro), before, 'the read-only directory is unchanged');
  assert.equal(tree(rw), {
    'created.txt': 'file:created',
    f: 'file:rewritten',
    'hard.txt': 'file:rewritten',
    newdir: 'dir',
    sym: 'link:f',
  });
  const f = fs.statSync(path.join(rw, 'f'), { bigint: true });
  assert.is(f.ino, fs.statSync(path.join(rw, 'hard.txt'), { bigint: true }).ino);
  assert.is(f.mtimeNs, 1600000001n * 1_000_000_000n);
}

test('ro_mount: -v HOST:/ro:ro and --dir HOST::/rw', () => {
  const { ro, rw } = setup();
  check(ro, rw, ['-v', `${ro}:/ro:ro`, '--dir', `${rw}::/rw`]);
});

test('ro_mount: --mount type=bind,...,readonly and -v HOST:/rw', () => {
  const { ro, rw } = setup();
  check(ro, rw, ['--mount', `type=bind,src=${ro},dst=/ro,readonly`, '-v', `${rw}:/rw`]);
});

test('ro_mount: both mounts with cache=shared (every path walked again)', () => {
  const { ro, rw } = setup();
  check(ro, rw, ['--mount', `type=bind,src=${ro},dst=/ro,readonly,cache=shared`, '--mount', `src=${rw},dst=/rw,cache=shared`]);
});

test('ro_mount: a read-only mount of the whole root', () => {
  // everything under "/" is read-only: creating anything anywhere is EROFS, reading works
  const ro = tmpDir('asb-rootro-');
  fs.writeFileSync(path.join(ro, 'f'), 'x');
  const before = fingerprint(ro);
  const r = runCli(['run', '-v', `${ro}:/:ro`, fixture('fd_ops'), '/']);
  assert.is(r.status, 1, show(r));
  assert.match(r.stderr, /FAIL .*fd_ops\.c:\d+: .*-> SUCCESS \(got ROFS\)/, show(r));
  assert.equal(fingerprint(ro), before);
});

test.run();
