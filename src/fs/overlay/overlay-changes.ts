/**
 * What a program changed, read off an overlay's upper layer: docker's diff vocabulary (A added,
 * C changed, D deleted) and the entries of an OCI image layer (whiteouts as `.wh.NAME`, an opaque
 * directory as `.wh..wh..opq`). Walks the upper only, in sorted order, probing the lowers for
 * what was there before; names the sandbox hid itself (the self filestore) are not changes.
 */
import { FileType } from '../../wasi/abi.js';
import { unlessNoent } from '../../wasi/errno.js';
import type { TmpFilesystem } from '../tmpfs/tmp-filesystem.js';
import type { FilesystemImpl, Inode } from '../vfs/filesystem.js';
import { OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, type OverlayFilesystem } from './overlay-filesystem.js';

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
        : lowers.flatMap((l) => { const x = unlessNoent(() => l.fs.lookup(l.inode, name, [])); return x ? [{ fs: l.fs, inode: x }] : []; });
      if (isWhiteout(upper, u)) {
        if (below.length > 0) visit({ path, inode: undefined, inLower: true, opaque: false, hiddenBelow: [] });
        continue;
      }
      const isDir = u.type === FileType.DIRECTORY;
      const opaque = isDir && isOpaque(upper, u);
      const lowerDirs = below.filter((l) => l.inode.type === FileType.DIRECTORY);
      const hiddenBelow = opaque ? [...new Set(lowerDirs.flatMap((l) => l.fs.readdir(l.inode).map((e) => e.name)))].sort() : [];
      visit({ path, inode: u, inLower: below.length > 0, opaque, hiddenBelow });
      if (isDir) go(u, opaque ? [] : lowerDirs, `${path}/`);
    }
  };
  go(upper.root(), ov.lowerLayers.map((fs) => ({ fs, inode: fs.root() })), '');
}

/** docker diff: every path of the upper, and each lower name it deletes or an opaque directory hides; sorted by path. */
export function upperChanges(ov: OverlayFilesystem, hidden: ReadonlySet<string> = new Set()): UpperChange[] {
  const out: UpperChange[] = [];
  walk(ov, hidden, (v) => {
    if (v.inode === undefined) { out.push({ kind: 'D', path: `/${v.path}` }); return; }
    out.push({ kind: v.inLower ? 'C' : 'A', path: `/${v.path}` });
    for (const name of v.hiddenBelow) {
      const shadowed = unlessNoent(() => ov.upper.lookup(v.inode!, name));
      if (shadowed === undefined) out.push({ kind: 'D', path: `/${v.path}/${name}` });
    }
  });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The upper as OCI layer entries, file data included (copied out of the upper). */
export function upperLayerEntries(ov: OverlayFilesystem, hidden: ReadonlySet<string> = new Set()): LayerEntry[] {
  const upper = ov.upper;
  const out: LayerEntry[] = [];
  const firstPath = new Map<bigint, string>();
  walk(ov, hidden, (v) => {
    if (v.inode === undefined) {
      const slash = v.path.lastIndexOf('/') + 1;
      out.push({ path: v.path.slice(0, slash) + WHITEOUT_PREFIX + v.path.slice(slash), type: 'whiteout', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n });
      return;
    }
    const st = upper.stat(v.inode);
    const xattrs = new Map([...upper.listXattrs(v.inode)].filter(([name]) => !name.startsWith(OVERLAY_XATTR_PREFIX)));
    const meta = {
      path: v.path, mode: st.mode ?? 0o644, uid: st.uid ?? 0, gid: st.gid ?? 0, mtimeNs: st.mtim,
      ...(xattrs.size > 0 ? { xattrs } : {}),
    };
    switch (v.inode.type) {
      case FileType.DIRECTORY:
        out.push({ ...meta, type: 'dir' });
        if (v.opaque) out.push({ path: `${v.path}/${OPAQUE_MARKER}`, type: 'opaque', mode: 0o644, uid: 0, gid: 0, mtimeNs: st.mtim });
        return;
      case FileType.SYMBOLIC_LINK:
        out.push({ ...meta, type: 'symlink', target: upper.readlink(v.inode) });
        return;
      case FileType.REGULAR_FILE: {
        const first = firstPath.get(v.inode.ino);
        if (first !== undefined) { out.push({ ...meta, type: 'hardlink', target: first }); return; }
        firstPath.set(v.inode.ino, v.path);
        out.push({ ...meta, type: 'file', data: readAll(upper, v.inode, Number(st.size)) });
        return;
      }
      default:
        return; // the upper holds no other kind a guest could make
    }
  });
  return out;
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

function isWhiteout(upper: TmpFilesystem, inode: Inode): boolean {
  return inode.type === FileType.CHARACTER_DEVICE && upper.rdevOf(inode) === 0;
}

function isOpaque(upper: TmpFilesystem, inode: Inode): boolean {
  const v: unknown = upper.getXattr(inode, OPAQUE_XATTR);
  return v === 'y' || (v instanceof Uint8Array && v.length === 1 && v[0] === 0x79);
}
