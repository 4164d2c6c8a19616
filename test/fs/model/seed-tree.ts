// The tree every sequence starts from, made with node:fs on the host or through a VFS.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import type { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import { hostState, type State } from './tree-state.js';

/** The seed tree's mtimes, and utimes values: 2001, seconds with binary-exact fractions. */
export const OLD_BASE_S = 1_000_000_000;

export interface TreeEntry { path: string; dir?: true; data?: string; link?: string; hard?: string; mode?: number }

/**
 * Where every sequence starts: directories, files, symlinks to files and to directories
 * (relative, downward), hard links (a/c/d = b; c/d = e) and a hard-linked symlink (a/c/e = c/e).
 * Built the same way for the tree under test (an overlay's lower) and for each run's host copy.
 */
export const SEED_TREE: readonly TreeEntry[] = [
  { path: 'a', dir: true, mode: 0o755 },
  { path: 'a/b', data: 'a/b lower', mode: 0o644 },
  { path: 'a/c', dir: true, mode: 0o750 },
  { path: 'a/c/d', data: 'shared one', mode: 0o640 },
  { path: 'a/c/e', link: 'd' },
  { path: 'a/d', link: 'c/d' },
  { path: 'a/e', dir: true, mode: 0o700 },
  { path: 'b', hard: 'a/c/d' },
  { path: 'c', dir: true, mode: 0o755 },
  { path: 'c/a', dir: true, mode: 0o711 },
  { path: 'c/a/b', data: 'deep', mode: 0o600 },
  { path: 'c/b', data: '', mode: 0o644 },
  { path: 'c/c', link: 'a' },
  { path: 'c/d', data: 'shared two', mode: 0o604 },
  { path: 'c/e', hard: 'a/c/e' },
  { path: 'd', link: 'a' },
  { path: 'e', hard: 'c/d' },
];

export function buildTree(root: string): void {
  for (const e of SEED_TREE) {
    const p = path.join(root, e.path);
    if (e.dir) fs.mkdirSync(p, e.mode);
    else if (e.link !== undefined) fs.symlinkSync(e.link, p);
    else if (e.hard !== undefined) fs.linkSync(path.join(root, e.hard), p);
    else fs.writeFileSync(p, e.data ?? '', { mode: e.mode });
    if (e.mode !== undefined) fs.chmodSync(p, e.mode);
  }
  fs.chmodSync(root, 0o755);
  // Children before parents, so making a child does not move its directory's mtime afterwards.
  SEED_TREE.forEach((e, i) => { if (!e.dir) fs.lutimesSync(path.join(root, e.path), OLD_BASE_S - 1000 + i, OLD_BASE_S - 1000 + i); });
  SEED_TREE.forEach((e, i) => { if (e.dir) fs.utimesSync(path.join(root, e.path), OLD_BASE_S - 2000 + i, OLD_BASE_S - 2000 + i); });
  fs.utimesSync(root, OLD_BASE_S - 3000, OLD_BASE_S - 3000);
}

/** Asserts that `state` reads like a host copy of the seed tree (made in `base` for the comparison, then removed). */
export function assertSeedTree(base: string, state: State, what: string): void {
  const copy = path.join(base, 'seed-copy');
  fs.mkdirSync(copy);
  try {
    buildTree(copy);
    assert.equal(state, hostState(copy), `${what} starts like a host copy of the seed tree`);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

/** The seed tree made through a VFS, as buildTree makes it with node:fs: the same modes and times. */
export function buildTreeThrough(vfs: VirtualFilesystem): void {
  const root = vfs.rootLocation;
  const ns = (s: number): bigint => BigInt(s) * 1_000_000_000n;
  for (const e of SEED_TREE) {
    if (e.dir) vfs.mkdir(root, e.path);
    else if (e.link !== undefined) vfs.symlink(e.link, root, e.path);
    else if (e.hard !== undefined) vfs.link(root, e.hard, false, root, e.path);
    else {
      const loc = vfs.open(root, e.path, { followFinal: false, create: true, exclusive: true, directory: false, write: true, truncate: false });
      const h = loc.mount.fs.open(loc.inode, { read: false, write: true, truncate: false });
      try { h.write(Buffer.from(e.data ?? ''), 0); } finally { h.close(); }
    }
    if (e.mode !== undefined) vfs.setStat(vfs.resolve(root, e.path, false), { mode: e.mode });
  }
  vfs.setStat(root, { mode: 0o755 });
  SEED_TREE.forEach((e, i) => { if (!e.dir) vfs.setStat(vfs.resolve(root, e.path, false), { atim: ns(OLD_BASE_S - 1000 + i), mtim: ns(OLD_BASE_S - 1000 + i) }); });
  SEED_TREE.forEach((e, i) => { if (e.dir) vfs.setStat(vfs.resolve(root, e.path, false), { atim: ns(OLD_BASE_S - 2000 + i), mtim: ns(OLD_BASE_S - 2000 + i) }); });
  vfs.setStat(root, { atim: ns(OLD_BASE_S - 3000), mtim: ns(OLD_BASE_S - 3000) });
}
