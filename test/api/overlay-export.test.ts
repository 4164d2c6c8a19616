// What a program changed, out of the overlay: `changes()` in docker's diff vocabulary and
// `--export-upper` / `exportUpper()` as an OCI layer tarball. The tarball is checked entry by
// entry, and by applying it (the OCI way) to a copy of the lower: that must give the same tree
// as the same steps done with node:fs on another copy.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tar from 'tar-stream';
import { createSandbox } from '../../src/index.js';
import { setHostXattr } from '../fs/gofer/host-xattr.js';
import { cleanupTmp, fingerprint, ROOT, runCli, show, tmpDir, tree } from '../wasi/helpers.js';

test.after(cleanupTmp);

const MUTATE = path.join(ROOT, 'test', 'fixtures', 'api', 'mutate.wasm');
const STEPS = ['edit', 'unlink', 'rename-dir', 'mkdir', 'create', 'link', 'symlink', 'unlink-lower', 'unlink-x', 'rmdir', 'mkdir-over', 'create-y', 'edit-linked'];

function lower(): string {
  const dir = tmpDir('asb-export-');
  for (const d of ['etc', 'old', 'keep', 're']) fs.mkdirSync(path.join(dir, d));
  const files: Record<string, string> = { 'etc/motd': 'hello', 'etc/hosts': 'h', 'gone.txt': 'g', 'old/a': 'a', 'old/b': 'b', 'keep/k': 'k', 're/x': 'x' };
  for (const [p, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, p), text);
  fs.linkSync(path.join(dir, 'etc/hosts'), path.join(dir, 'hostlink'));
  fs.chownSync(path.join(dir, 'etc/motd'), 1234, 5678);
  setHostXattr(path.join(dir, 'etc/motd'), 'user.origin', 'lower');
  return dir;
}

/** mutate.c's steps, with node:fs on a host copy. */
function mutateOnHost(dir: string): void {
  const p = (x: string): string => path.join(dir, x);
  fs.writeFileSync(p('etc/motd'), 'changed');
  fs.unlinkSync(p('gone.txt'));
  fs.renameSync(p('old'), p('new'));
  fs.mkdirSync(p('fresh'));
  fs.writeFileSync(p('fresh/f'), 'fresh');
  fs.linkSync(p('fresh/f'), p('fresh/g'));
  fs.symlinkSync('f', p('fresh/s'));
  fs.unlinkSync(p('keep/k'));
  fs.unlinkSync(p('re/x'));
  fs.rmdirSync(p('re'));
  fs.mkdirSync(p('re'));
  fs.writeFileSync(p('re/y'), 'why');
  fs.writeFileSync(p('etc/hosts'), 'H2');
}

interface TarEntry {
  name: string; type: string; size: number; mode: number; uid: number; gid: number; linkname: string | null; data: Buffer;
  pax: Record<string, string>;
}

async function readTar(file: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.push({ name: h.name, type: h.type ?? 'file', size: h.size ?? 0, mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, linkname: h.linkname ?? null, data: Buffer.concat(chunks), pax: (h.pax ?? {}) as Record<string, string> });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject); });
  Readable.from(fs.readFileSync(file)).pipe(ex);
  await done;
  return out;
}

/** Applies an OCI layer to `dir` (image-spec layer.md): opaque markers and whiteouts first, then the entries. */
function applyLayer(dir: string, entries: TarEntry[]): void {
  for (const e of entries) {
    const base = path.posix.basename(e.name.replace(/\/$/, ''));
    const parent = path.join(dir, path.posix.dirname(e.name.replace(/\/$/, '')));
    if (base === '.wh..wh..opq') {
      // The lower's children of this directory are gone; this layer's own are added below.
      if (fs.existsSync(parent)) for (const n of fs.readdirSync(parent)) fs.rmSync(path.join(parent, n), { recursive: true });
    } else if (base.startsWith('.wh.')) {
      fs.rmSync(path.join(parent, base.slice(4)), { recursive: true });
    }
  }
  for (const e of entries) {
    const target = path.join(dir, e.name);
    if (path.posix.basename(e.name).startsWith('.wh.')) continue;
    if (e.type === 'directory') { fs.mkdirSync(target, { recursive: true }); continue; }
    fs.rmSync(target, { force: true, recursive: true });
    if (e.type === 'file') fs.writeFileSync(target, e.data);
    else if (e.type === 'symlink') fs.symlinkSync(e.linkname!, target);
    else if (e.type === 'link') fs.linkSync(path.join(dir, e.linkname!), target);
  }
}

for (const overlay of ['memory', 'self'] as const) {
  test(`changes() and exportUpper() (${overlay}): docker's A/C/D, and a layer that rebuilds the tree`, async () => {
    const dir = lower();
    const before = fingerprint(dir);
    const file = path.join(tmpDir('asb-layer-'), 'upper.tar');
    const sb = await createSandbox({ rootfs: dir, overlay });
    try {
      const r = await sb.run(MUTATE);
      assert.is(r.stdout.toString(), STEPS.map((s) => `${s} ok\n`).join(''));
      assert.equal(await sb.changes(), [
        { kind: 'C', path: '/etc' }, { kind: 'C', path: '/etc/hosts' }, { kind: 'C', path: '/etc/motd' },
        { kind: 'A', path: '/fresh' }, { kind: 'A', path: '/fresh/f' }, { kind: 'A', path: '/fresh/g' }, { kind: 'A', path: '/fresh/s' },
        { kind: 'D', path: '/gone.txt' },
        { kind: 'C', path: '/hostlink' }, // a lower hard link of /etc/hosts: it shows the new bytes too
        { kind: 'C', path: '/keep' }, { kind: 'D', path: '/keep/k' },
        { kind: 'A', path: '/new' }, { kind: 'A', path: '/new/a' }, { kind: 'A', path: '/new/b' },
        { kind: 'D', path: '/old' },
        { kind: 'C', path: '/re' }, { kind: 'D', path: '/re/x' }, { kind: 'A', path: '/re/y' },
      ]);
      await sb.exportUpper(file);
    } finally {
      await sb.close();
    }
    if (overlay === 'memory') assert.equal(fingerprint(dir), before, 'the lower is unchanged');
    const entries = await readTar(file);
    assert.equal(entries.map((e) => `${e.type} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}`), [
      'directory etc/', 'file etc/hosts', 'file etc/motd',
      'directory fresh/', 'file fresh/f', 'link fresh/g -> fresh/f', 'symlink fresh/s -> f',
      'file .wh.gone.txt',
      'directory keep/', 'file keep/.wh.k',
      'directory new/', 'file new/.wh..wh..opq', 'file new/a', 'file new/b',
      'file .wh.old',
      'directory re/', 'file re/.wh..wh..opq', 'file re/y',
      'link hostlink -> etc/hosts',
    ]);
    const motd = entries.find((e) => e.name === 'etc/motd')!;
    assert.is(motd.data.toString(), 'changed');
    assert.equal([motd.uid, motd.gid, motd.mode & 0o777], [1234, 5678, 0o644], 'copy-up kept the owner and mode');
    assert.is(motd.pax['SCHILY.xattr.user.origin'], 'lower', 'and the xattrs, exported as PAX records');
    // Applying the layer to the lower gives what the same steps give on the host.
    const applied = tmpDir('asb-applied-');
    const expected = tmpDir('asb-expected-');
    for (const copy of [applied, expected]) {
      fs.cpSync(dir, copy, { recursive: true });
      // cpSync copies a hard link as a second file: make it one file again, as in the lower.
      fs.rmSync(path.join(copy, 'hostlink'));
      fs.linkSync(path.join(copy, 'etc/hosts'), path.join(copy, 'hostlink'));
    }
    applyLayer(applied, entries);
    mutateOnHost(expected);
    assert.equal(tree(applied), tree(expected));
  });
}

test('CLI --export-upper writes the layer; without an overlay it is a usage error', () => {
  const dir = lower();
  const file = path.join(tmpDir('asb-layer-'), 'cli.tar');
  const r = runCli(['run', '--rootfs', dir, '--export-upper', file, MUTATE]);
  assert.is(r.status, 0, show(r));
  assert.ok(fs.statSync(file).size > 0);
  for (const extra of [['--read-only'], ['--overlay', 'none'], []]) {
    const args = extra.length === 0 ? ['run', '--export-upper', file, MUTATE] : ['run', '--rootfs', dir, ...extra, '--export-upper', file, MUTATE];
    const bad = runCli(args);
    assert.is(bad.status, 2, show(bad));
    assert.match(bad.stderr, /--export-upper needs a rootfs/);
  }
});

test('API: changes() without an overlay is NoOverlayError', async () => {
  const sb = await createSandbox({ rootfs: lower(), overlay: 'none' });
  try {
    await sb.changes().then(() => assert.unreachable(), (e: { code?: string }) => assert.is(e.code, 'ASB_ERR_NO_OVERLAY'));
  } finally {
    await sb.close();
  }
});

test.run();
