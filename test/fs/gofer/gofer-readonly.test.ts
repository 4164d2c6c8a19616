// A read-only gofer connection: every mutation is EROFS and the host directory is unchanged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { RingClient } from '../../../src/actors/ring-client.js';
import { Errno } from '../../../src/wasi/errno.js';
import { OPEN_RDONLY, OPEN_RDWR, OPEN_TRUNC, OPEN_WRONLY } from '../../../src/fs/gofer/protocol.js';
import { GoferFilesystem } from '../../../src/fs/gofer/gofer-filesystem.js';
import { errnoOfCall } from './errno-of.js';
import { makeHostDir, raw, startGofer, type GoferRig } from './gofer-rig.js';
import { NOTHING_AHEAD } from '../../../src/fs/vfs/filesystem.js';

let rig: GoferRig;
let dir: string;

function snapshot(): string {
  const walk = (p: string): string[] => fs.readdirSync(p, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(p, e.name);
    const st = fs.lstatSync(full);
    const line = `${path.relative(dir, full)} ${st.mode} ${st.size} ${st.mtimeMs}`;
    return e.isDirectory() ? [line, ...walk(full)] : [line];
  });
  return walk(dir).sort().join('\n');
}

test.before(() => {
  dir = makeHostDir();
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd/f'), 'data');
  rig = startGofer({ dir, readOnly: true });
});
test.after(async () => { await rig.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

test('raw mutations are EROFS and change nothing on the host', () => {
  const before = snapshot();
  const client = new RingClient(rig.ring);
  const mount = raw(client, 'Mount', {}).resp!;
  assert.ok(mount.readOnly);
  const root = mount.root.fd;
  const [d, f] = raw(client, 'Walk', { dirFd: root, names: ['d', 'f'] }).resp!.inodes.map((i) => i.fd) as [number, number];
  const expectRofs: Array<[string, number]> = [
    ['MkdirAt', raw(client, 'MkdirAt', { dirFd: root, name: 'm', mode: 0o755 }).status],
    ['OpenCreateAt', raw(client, 'OpenCreateAt', { dirFd: root, name: 'c', mode: 0o644, flags: OPEN_WRONLY }).status],
    ['SymlinkAt', raw(client, 'SymlinkAt', { dirFd: root, name: 's', target: 'd' }).status],
    ['LinkAt', raw(client, 'LinkAt', { dirFd: root, name: 'l', targetFd: f }).status],
    ['UnlinkAt', raw(client, 'UnlinkAt', { dirFd: d, name: 'f', flags: 0 }).status],
    ['RenameAt', raw(client, 'RenameAt', { oldDirFd: d, oldName: 'f', newDirFd: root, newName: 'g', flags: 0 }).status],
    ['SetStat', raw(client, 'SetStat', { fd: f, mask: 1, size: 0, atimeNs: 0n, mtimeNs: 0n }).status],
    ['OpenAt WRONLY', raw(client, 'OpenAt', { fd: f, flags: OPEN_WRONLY }).status],
    ['OpenAt RDWR', raw(client, 'OpenAt', { fd: f, flags: OPEN_RDWR }).status],
    ['OpenAt TRUNC', raw(client, 'OpenAt', { fd: f, flags: OPEN_RDONLY | OPEN_TRUNC }).status],
  ];
  for (const [what, status] of expectRofs) assert.is(status, Errno.ROFS, what);
  const ro = raw(client, 'OpenAt', { fd: f, flags: OPEN_RDONLY });
  assert.is(ro.status, 0, 'reading is allowed');
  assert.is(Buffer.from(raw(client, 'PRead', { fd: ro.resp!.openFd, offset: 0, count: 10 }).resp!.data).toString(), 'data');
  assert.is(raw(client, 'FAllocate', { fd: ro.resp!.openFd, mode: 0, offset: 0, length: 100 }).status, Errno.ROFS);
  assert.is(raw(client, 'PWrite', { fd: ro.resp!.openFd, offset: 0, data: Buffer.from('x') }).status, Errno.ROFS);
  assert.is(snapshot(), before);
});

test('GoferFilesystem on a read-only gofer reports EROFS', () => {
  const before = snapshot();
  const gfs = new GoferFilesystem(rig.ring, 7n);
  assert.ok(gfs.readOnly);
  const d = gfs.lookup(gfs.root(), 'd', NOTHING_AHEAD);
  assert.is(errnoOfCall(() => gfs.create(d, 'new', 0o644)), Errno.ROFS);
  assert.is(errnoOfCall(() => gfs.mkdir(gfs.root(), 'm', 0o755)), Errno.ROFS);
  assert.is(errnoOfCall(() => gfs.unlink(d, 'f')), Errno.ROFS);
  assert.is(errnoOfCall(() => gfs.open(gfs.lookup(d, 'f', NOTHING_AHEAD), { read: true, write: true, truncate: false })), Errno.ROFS);
  assert.is(snapshot(), before);
});

test.run();
