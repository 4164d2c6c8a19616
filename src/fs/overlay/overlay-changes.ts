/**
 * What a program changed, read off an overlay's upper layer: docker's diff vocabulary (A added,
 * C changed, D deleted) and the entries of an OCI image layer (whiteouts as `.wh.NAME`, an opaque
 * directory as `.wh..wh..opq`). Walks the upper only, in sorted order, probing the lowers for
 * what was there before; names the sandbox hid itself (the self filestore) are not changes.
 */
import { FileType } from '../../wasi/abi.js';
import type { TmpFilesystem } from '../tmpfs/tmp-filesystem.js';
import { NOTHING_AHEAD, type FilesystemImpl, type Inode } from '../vfs/filesystem.js';
import { OVERLAY_XATTR_PREFIX, type OverlayFilesystem } from './overlay-filesystem.js';

export type ChangeKind = 'A' | 'C' | 'D';

/** One path the program added, changed or deleted (absolute, as the guest sees it). */
export interface UpperChange {
  kind: ChangeKind;
  path: string;
}

/** One entry of the upper as an OCI layer; paths are relative, parents come first. */
export interface LayerEntry {
  path: string;
  type: 'dir' | 'file' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  /** Regular files: the bytes. */
  data?: Uint8Array;
  /** Symlinks: the target; hard links: the path of the entry they link to. */
  target?: string;
  /** Extended attributes copied up or set (never the overlay's own `trusted.overlay.*`). */
  xattrs?: Map<string, string | Uint8Array>;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

interface Visit {
  path: string;
  /** Undefined for a whiteout. */
  inode: Inode | undefined;
  /** Whether a lower layer had this name (a hidden name never counts). */
  inLower: boolean;
  opaque: boolean;
  /** Lower names an opaque directory hides. */
  hiddenBelow: string[];
}

/** Walks the upper, parents first, names sorted. */
function walk(ov: OverlayFilesystem, hidden: ReadonlySet<string>, visit: (v: Visit) => void): void {
  const upper = ov.upper;
  const go = (dir: Inode, lowers: { fs: FilesystemImpl; inode: Inode }[], prefix: string): void => {
    const names = upper.readdir(dir).map((e) => e.name).sort();
    for (const name of names) {
      const u = upper.lookup(dir, name);
      const path = prefix + name;
      const below = prefix === '' && hidden.has(name) ? []
        : lowers.flatMap((l) => { const x = l.fs.find(l.inode, name, NOTHING_AHEAD); return x ? [{ fs: l.fs, inode: x }] : []; });
      if (ov.isWhiteout(u)) {
        if (below.length > 0) visit({ path, inode: undefined, inLower: true, opaque: false, hiddenBelow: [] });
        continue;
      }
      const isDir = u.type === FileType.DIRECTORY;
      const opaque = isDir && ov.isOpaque(u);
      const lowerDirs = below.filter((l) => l.inode.type === FileType.DIRECTORY);
      const hiddenBelow = opaque ? [...new Set(lowerDirs.flatMap((l) => l.fs.readdir(l.inode).map((e) => e.name)))].sort() : [];
      visit({ path, inode: u, inLower: below.length > 0, opaque, hiddenBelow });
      if (isDir) go(u, opaque ? [] : lowerDirs, `${path}/`);
    }
  };
  go(upper.root(), ov.lowerLayers.map((fs) => ({ fs, inode: fs.root() })), '');
}

/**
 * Lower names that show an upper copy without being in the upper themselves (a hard-linked lower
 * file written through another name): walks the merged tree, only when there are such copies.
 */
function linkedBelow(ov: OverlayFilesystem, inUpper: ReadonlySet<string>): { path: string; copy: Inode }[] {
  const copies = ov.copiesShownBelow();
  if (copies.size === 0) return [];
  const out: { path: string; copy: Inode }[] = [];
  const go = (dir: Inode, prefix: string): void => {
    for (const e of ov.readdir(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = prefix + e.name;
      const child = ov.lookup(dir, e.name);
      if (child.type === FileType.DIRECTORY) { go(child, `${path}/`); continue; }
      const copy = copies.get(ov.stat(child).ino);
      if (copy !== undefined && !inUpper.has(path)) out.push({ path, copy });
    }
  };
  go(ov.root(), '');
  return out;
}

/** docker diff: every path of the upper, and each lower name it deletes or an opaque directory hides; sorted by path. */
export function upperChanges(ov: OverlayFilesystem, hidden: ReadonlySet<string> = new Set()): UpperChange[] {
  const out: UpperChange[] = [];
  const inUpper = new Set<string>();
  walk(ov, hidden, (v) => {
    inUpper.add(v.path);
    if (v.inode === undefined) { out.push({ kind: 'D', path: `/${v.path}` }); return; }
    out.push({ kind: v.inLower ? 'C' : 'A', path: `/${v.path}` });
    for (const name of v.hiddenBelow) {
      const shadowed = ov.upper.find(v.inode!, name);
      if (shadowed === undefined) out.push({ kind: 'D', path: `/${v.path}/${name}` });
    }
  });
  for (const { path } of linkedBelow(ov, inUpper)) out.push({ kind: 'C', path: `/${path}` });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The upper as OCI layer entries, file data included (copied out of the upper). */
export function upperLayerEntries(ov: OverlayFilesystem, hidden: ReadonlySet<string> = new Set()): LayerEntry[] {
  const upper = ov.upper;
  const out: LayerEntry[] = [];
  const firstPath = new Map<bigint, string>();
  const inUpper = new Set<string>();
  walk(ov, hidden, (v) => {
    inUpper.add(v.path);
    if (v.inode === undefined) {
      const slash = v.path.lastIndexOf('/') + 1;
      out.push({ path: v.path.slice(0, slash) + WHITEOUT_PREFIX + v.path.slice(slash), type: 'whiteout', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n });
      return;
    }
    if (v.inode.type === FileType.DIRECTORY) {
      const dir = entryOf(upper, v.inode, v.path);
      out.push(dir);
      if (v.opaque) out.push({ path: `${v.path}/${OPAQUE_MARKER}`, type: 'opaque', mode: 0o644, uid: 0, gid: 0, mtimeNs: dir.mtimeNs });
      return;
    }
    const first = firstPath.get(v.inode.ino);
    if (first !== undefined) { out.push({ ...entryOf(upper, v.inode, v.path, false), type: 'hardlink', target: first }); return; }
    firstPath.set(v.inode.ino, v.path);
    out.push(entryOf(upper, v.inode, v.path));
  });
  for (const { path, copy } of linkedBelow(ov, inUpper)) {
    const first = firstPath.get(copy.ino);
    if (first !== undefined) { out.push({ ...entryOf(upper, copy, path, false), type: 'hardlink', target: first }); continue; }
    // Every upper name of the copy is gone (only lower names show it): this name carries it.
    firstPath.set(copy.ino, path);
    out.push(entryOf(upper, copy, path));
  }
  return out;
}

/** The layer entry of an upper directory, file or symlink (`withData`: a file's bytes too). */
function entryOf(upper: TmpFilesystem, inode: Inode, path: string, withData = true): LayerEntry {
  const st = upper.stat(inode);
  const xattrs = new Map([...upper.listXattrs(inode)].filter(([name]) => !name.startsWith(OVERLAY_XATTR_PREFIX)));
  const meta = {
    path, mode: st.mode ?? 0o644, uid: st.uid ?? 0, gid: st.gid ?? 0, mtimeNs: st.mtim,
    ...(xattrs.size > 0 ? { xattrs } : {}),
  };
  switch (inode.type) {
    case FileType.DIRECTORY: return { ...meta, type: 'dir' };
    case FileType.SYMBOLIC_LINK: return { ...meta, type: 'symlink', target: upper.readlink(inode) };
    default: return { ...meta, type: 'file', ...(withData ? { data: readAll(upper, inode, Number(st.size)) } : {}) };
  }
}

function readAll(upper: TmpFilesystem, inode: Inode, size: number): Uint8Array {
  const h = upper.open(inode, { read: true, write: false, truncate: false });
  try {
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = h.read(out.subarray(at), at);
      if (n === 0) break;
      at += n;
    }
    return out.subarray(0, at);
  } finally {
    h.close();
  }
}
