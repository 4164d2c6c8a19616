// What a program can see of a tree, one line per path, read from the host or through a filesystem.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { NOTHING_AHEAD, type FileHandle, type FilesystemImpl, type Inode } from '../../../src/fs/vfs/filesystem.js';
import { FileType } from '../../../src/wasi/abi.js';

/** Every mtime before this was set explicitly (seed tree, utimes): both sides must agree on it. */
const CUTOFF_NS = 1_200_000_000n * 1_000_000_000n;


export const TYPE_NAMES: Partial<Record<FileType, string>> = {
  [FileType.DIRECTORY]: 'dir', [FileType.REGULAR_FILE]: 'file', [FileType.SYMBOLIC_LINK]: 'symlink',
};

/** One line per path: what a program can see of it, less what the header comment leaves out. */
export type State = Record<string, string>;

interface Seen { type: string; size: bigint; nlink: bigint; mode: number; mtim: bigint; ino: string; body: string }

function describe(all: Map<string, Seen>): State {
  const firstOfIno = new Map<string, string>();
  const out: State = {};
  for (const [p, s] of [...all].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const parts = [s.type, `mode=${s.mode.toString(8)}`];
    if (s.type !== 'dir') {
      const first = firstOfIno.get(s.ino);
      if (first === undefined) firstOfIno.set(s.ino, p);
      parts.push(`size=${s.size}`, `nlink=${s.nlink}`, s.body);
      if (first !== undefined) parts.push(`same inode as ${first}`);
    }
    if (s.mtim < CUTOFF_NS) parts.push(`mtime=${s.mtim}`);
    out[p] = parts.join(' ');
  }
  return out;
}

export function hostState(root: string): State {
  const all = new Map<string, Seen>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = fs.lstatSync(p, { bigint: true });
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      const body = type === 'file' ? JSON.stringify(fs.readFileSync(p, 'latin1')) : type === 'symlink' ? `-> ${fs.readlinkSync(p)}` : '';
      all.set(r, { type, size: st.size, nlink: st.nlink, mode: Number(st.mode & 0o7777n), mtim: st.mtimeNs, ino: String(st.ino), body });
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  const st = fs.statSync(root, { bigint: true });
  all.set('.', { type: 'dir', size: 0n, nlink: 0n, mode: Number(st.mode & 0o7777n), mtim: st.mtimeNs, ino: 'root', body: '' });
  return describe(all);
}

export function readHandle(h: FileHandle): string {
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(4096);
  for (let off = 0; ;) {
    const n = h.read(buf, off);
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    off += n;
  }
  return Buffer.concat(chunks).toString('latin1');
}

function readAll(fsi: FilesystemImpl, inode: Inode): string {
  const h = fsi.open(inode, { read: true, write: false, truncate: false });
  try { return readHandle(h); } finally { h.close(); }
}

/** What the filesystem under test shows, read through it alone (not through the VFS). */
export function fsState(fsi: FilesystemImpl): State {
  const all = new Map<string, Seen>();
  const walk = (dir: Inode, rel: string): void => {
    for (const e of fsi.readdir(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const inode = fsi.lookup(dir, e.name, NOTHING_AHEAD);
      const st = fsi.stat(inode);
      // Its own consistency: readdir and stat agree on the type and the inode number.
      assert.is(e.type, st.type, `${r}: readdir type vs stat type`);
      assert.is(e.ino, st.ino, `${r}: readdir ino vs stat ino`);
      assert.is(inode.type, st.type, `${r}: dentry type vs stat type`);
      const type = TYPE_NAMES[st.type] ?? `type ${st.type}`;
      const body = type === 'file' ? JSON.stringify(readAll(fsi, inode)) : type === 'symlink' ? `-> ${fsi.readlink(inode)}` : '';
      all.set(r, { type, size: st.size, nlink: st.nlink, mode: st.mode ?? -1, mtim: st.mtim, ino: String(st.ino), body });
      if (st.type === FileType.DIRECTORY) walk(inode, r);
    }
  };
  walk(fsi.root(), '');
  const st = fsi.stat(fsi.root());
  all.set('.', { type: 'dir', size: 0n, nlink: 0n, mode: st.mode ?? -1, mtim: st.mtim, ino: 'root', body: '' });
  return describe(all);
}

/** Throws with one line per path that differs between two states. */
export function sameStates(got: State, want: State, labels: [got: string, want: string], when: string): void {
  const width = Math.max(...labels.map((l) => l.length)) + 1;
  const diff: string[] = [];
  for (const p of [...new Set([...Object.keys(got), ...Object.keys(want)])].sort()) {
    if (got[p] !== want[p]) {
      diff.push(`  ${p}:\n    ${`${labels[0]}:`.padEnd(width)} ${got[p] ?? '(missing)'}\n    ${`${labels[1]}:`.padEnd(width)} ${want[p] ?? '(missing)'}`);
    }
  }
  if (diff.length > 0) throw new Error(`${when}, the trees differ:\n${diff.join('\n')}`);
}
