/**
 * The rootfs overlay (DESIGN §4; gVisor pkg/sentry/fsimpl/overlay, GVISOR-NOTES §3.4): one
 * writable upper layer, a tmpfs inside the Sentry, over read-only lower layers (a host rootfs
 * through directfs or a gofer). What the program changes lives in the upper; the lowers are never
 * written.
 *
 *  - Whiteout: a character device 0:0 in the upper hides the name below. Opaque directory: the
 *    upper directory's xattr `trusted.overlay.opaque` = "y" hides every lower directory of its name.
 *  - Lookup walks top to bottom: a whiteout stops, a non-directory hides everything below,
 *    directories merge until an opaque one.
 *  - Copy-up (parents first; data, mode, owner, every xattr but `trusted.overlay.*`, times)
 *    before any change to a file that is only below: open for writing, truncate, setStat, link,
 *    rename; and before creating in a lower-only directory. A file copied up keeps its inode
 *    number, and read-only handles opened before move to the upper copy at once (they hold it
 *    open, as an open holds a file on Linux: unlinking the copy's name does not lose its data).
 *  - A hard-linked lower file stays one file: copy-up of a further name links it to the first
 *    copy, and its lower names not copied up yet show that copy (Linux overlayfs's index=on;
 *    gVisor breaks the link). Copy-up leaves the parent's times as they were.
 *  - Unlink and rmdir leave a whiteout only if a lower still has the name; rmdir counts a
 *    directory that holds only whiteouts as empty. A directory rename copies up the subtree,
 *    renames it in the upper, whiteouts the origin and marks the directory opaque.
 * None of the machinery shows: whiteouts never appear in readdir or lookup.
 */
import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { TmpFilesystem } from '../tmpfs/tmp-filesystem.js';
import { NOTHING_AHEAD, type DirEntry, type FileHandle, type FilesystemImpl, type Inode, type OpenAccess, type Stat, type StatChange } from '../vfs/filesystem.js';
import { OverlayDentry, type LayerInode } from './overlay-dentry.js';
import { OverlayReadHandle } from './overlay-read-handle.js';

/** The xattr that marks an upper directory opaque (Linux overlayfs's name). */
export const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** The overlay's private xattrs: never copied up from a lower. */
export const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
const COPY_CHUNK = 64 * 1024;
const READ = { read: true, write: false, truncate: false };

export class OverlayFilesystem implements FilesystemImpl {
  readonly kind = 'overlay';
  private readonly rootDentry: OverlayDentry;
  private nextIno = 1n;
  /** Per layer (0 the upper), its inode number → the overlay's, so hard links share one and copy-up keeps it. */
  private readonly inos: Map<bigint, bigint>[];
  /**
   * Lower non-directories with more than one name, by `${layer}:${ino}`: how many of their lower
   * names still show them, and their upper copy once one name was copied up. Copy-up of a further
   * name links it to that copy, and a lower name not copied up yet shows it too, so a hard link
   * stays one file after copy-up (Linux overlayfs's index=on; gVisor breaks the link).
   */
  private readonly lowerLinks = new Map<string, LowerLinks>();
  /** The same records, by the upper copy's tmpfs inode number. */
  private readonly lowerLinksByUpper = new Map<bigint, LowerLinks>();
  /** Read-only opens of lower files, by `layerKey`: copy-up moves them to the copy. */
  private readonly lowerReaders = new Map<string, Set<OverlayReadHandle>>();

  /** `lowers` are read-only to the overlay, topmost first; each must be a tree without whiteouts. */
  constructor(readonly dev: bigint, readonly upper: TmpFilesystem, private readonly lowers: readonly FilesystemImpl[]) {
    if (lowers.length === 0) throw new RangeError('an overlay needs a lower layer');
    this.inos = Array.from({ length: lowers.length + 1 }, () => new Map<bigint, bigint>());
    const ur = upper.root();
    const lowerRoots = lowers.map((fs, i) => ({ layer: i + 1, inode: fs.root() }));
    // The upper root takes the lower root's permissions and owner, as gVisor's does, and its
    // times (the root is the lower root copied up; else `/` shows when the sandbox started).
    const { mode, uid, gid, atim, mtim } = lowers[0]!.stat(lowerRoots[0]!.inode);
    upper.setStat(ur, { mode, uid, gid, atim, mtim });
    this.rootDentry = new OverlayDentry(this.inoOf(0, ur.ino), FileType.DIRECTORY, ur, lowerRoots, null, '');
  }

  /** The lower layers, topmost first. */
  get lowerLayers(): readonly FilesystemImpl[] { return this.lowers; }

  /**
   * Hard-linked lower files copied up through one name while other lower names still show the
   * copy: overlay inode number → the copy in the upper. An export must name those lower names
   * too, since nothing in the upper does.
   */
  copiesShownBelow(): Map<bigint, Inode> {
    const out = new Map<bigint, Inode>();
    for (const links of this.lowerLinks.values()) {
      if (links.upper && links.gone < links.lowerNlink) out.set(this.inos[0]!.get(links.upper.ino)!, links.upper);
    }
    return out;
  }

  root(): Inode { return this.rootDentry; }

  parent(dir: Inode): Inode { return this.dentry(dir).parent ?? this.rootDentry; }

  lookup(dir: Inode, name: string): Inode {
    return this.find(dir, name) ?? fail(Errno.NOENT);
  }

  /**
   * A name no layer has is remembered as absent (`OverlayDentry.absent`): the lowers never change,
   * and every name made in the upper is made through this overlay, which forgets it then.
   */
  find(dir: Inode, name: string): OverlayDentry | undefined {
    const d = this.dentry(dir);
    if (d.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    const cached = d.children.get(name);
    if (cached) return cached;
    if (d.absent?.has(name)) return undefined;
    let upper: Inode | undefined;
    let type: FileType | undefined;
    const lowers: LayerInode[] = [];
    let below = d.lowers;
    if (d.upper) {
      const u = this.upper.find(d.upper, name);
      if (u && this.isWhiteout(u)) return d.absentName(name);
      if (u) {
        upper = u;
        type = u.type;
        if (u.type !== FileType.DIRECTORY || this.isOpaque(u)) below = [];
      }
    }
    for (const l of below) {
      const x = this.layer(l.layer).find(l.inode, name, NOTHING_AHEAD);
      if (!x) continue;
      if (type === undefined) type = x.type;
      else if (type !== FileType.DIRECTORY || x.type !== FileType.DIRECTORY) break; // hidden from here down
      lowers.push({ layer: l.layer, inode: x });
      if (x.type !== FileType.DIRECTORY) break;
    }
    if (type === undefined) return d.absentName(name);
    const top = upper ? { layer: 0, inode: upper } : lowers[0]!;
    const child = new OverlayDentry(this.inoOf(top.layer, top.inode.ino), type, upper, lowers, d, name);
    d.setChild(name, child);
    return child;
  }

  stat(inode: Inode): Stat {
    const d = this.dentry(inode);
    const { layer, inode: top } = this.shown(d);
    const st = { ...this.layer(layer).stat(top), dev: this.dev, ino: d.ino };
    if (d.type !== FileType.DIRECTORY && this.lowerLinks.size > 0) {
      // Upper names plus the lower names that still show the file.
      const links = layer === 0 ? this.lowerLinksByUpper.get(top.ino) : this.lowerLinksOf(d.lowers[0]!, false);
      if (links) st.nlink = (links.upper ? this.upper.stat(links.upper).nlink : 0n) + BigInt(links.lowerNlink - links.gone);
    }
    return st;
  }

  setStat(inode: Inode, change: StatChange): void {
    const d = this.dentry(inode);
    const u = this.copyUp(d, change.size === 0);
    this.upper.setStat(u, change);
  }

  readlink(link: Inode): string {
    const { layer, inode } = this.shown(this.dentry(link));
    return this.layer(layer).readlink(inode);
  }

  open(inode: Inode, access: OpenAccess): FileHandle {
    const d = this.dentry(inode);
    if (access.write || access.truncate) return this.upper.open(this.copyUp(d, access.truncate), access);
    const l = this.shown(d);
    if (l.layer === 0) return this.upper.open(l.inode, access);
    const key = layerKey(l);
    const readers = this.lowerReaders.get(key) ?? new Set<OverlayReadHandle>();
    const h = new OverlayReadHandle(this.layer(l.layer).open(l.inode, access), (closed) => {
      readers.delete(closed);
      if (readers.size === 0 && this.lowerReaders.get(key) === readers) this.lowerReaders.delete(key);
    });
    readers.add(h);
    this.lowerReaders.set(key, readers);
    return h;
  }

  create(dir: Inode, name: string, mode: number): Inode {
    return this.make(dir, name, (pu) => this.upper.create(pu, name, mode));
  }

  mkdir(dir: Inode, name: string, mode: number): Inode {
    return this.make(dir, name, (pu, hidden) => {
      const u = this.upper.mkdir(pu, name, mode);
      // Where a whiteout was, a lower directory of this name may exist: never merge with it.
      if (hidden) this.upper.setXattr(u, OPAQUE_XATTR, 'y');
      return u;
    });
  }

  symlink(dir: Inode, name: string, target: string): Inode {
    return this.make(dir, name, (pu) => this.upper.symlink(pu, name, target));
  }

  link(dir: Inode, name: string, target: Inode): void {
    const t = this.dentry(target);
    if (t.type === FileType.DIRECTORY) fail(Errno.PERM);
    this.make(dir, name, (pu) => {
      const tu = this.copyUp(t);
      this.upper.link(pu, name, tu);
      return tu;
    });
  }

  unlink(dir: Inode, name: string): void {
    const d = this.dentry(dir);
    const c = this.dentry(this.lookup(d, name));
    if (c.type === FileType.DIRECTORY) fail(Errno.ISDIR);
    this.removeName(d, c);
  }

  rmdir(dir: Inode, name: string): void {
    const d = this.dentry(dir);
    const c = this.dentry(this.lookup(d, name));
    if (c.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (this.entries(c).length > 0) fail(Errno.NOTEMPTY);
    this.removeName(d, c);
  }

  rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void {
    const od = this.dentry(oldDir), nd = this.dentry(newDir);
    const s = this.dentry(this.lookup(od, oldName));
    const t = this.find(nd, newName);
    if (t === s) return;
    if (t) {
      if (t.type === FileType.DIRECTORY) {
        if (s.type !== FileType.DIRECTORY) fail(Errno.ISDIR);
        if (this.entries(t).length > 0) fail(Errno.NOTEMPTY);
      } else if (s.type === FileType.DIRECTORY) fail(Errno.NOTDIR);
    }
    const opu = this.copyUp(od), npu = this.copyUp(nd);
    if (s.type === FileType.DIRECTORY) this.copyUpTree(s); else this.copyUp(s);
    this.clearUpperName(npu, newName);
    this.upper.rename(opu, oldName, npu, newName);
    if (t && !t.upper && t.type !== FileType.DIRECTORY) this.lowerNameGone(t);
    if (this.lowerHas(od, oldName)) this.upper.mknodChar(opu, oldName, 0);
    if (s.type === FileType.DIRECTORY) {
      // Its whole subtree is in the upper now; a lower directory at the new name must not merge in.
      this.upper.setXattr(s.upper!, OPAQUE_XATTR, 'y');
      s.lowers = [];
    }
    od.children.delete(oldName);
    if (t) t.parent = null;
    nd.setChild(newName, s);
    s.parent = nd;
    s.name = newName;
  }

  readdir(dir: Inode): DirEntry[] {
    return this.entries(this.dentry(dir));
  }

  release(): void {
    this.upper.release();
    for (const l of this.lowers) l.release();
  }

  // ---- machinery --------------------------------------------------------------------------------

  private dentry(inode: Inode): OverlayDentry {
    if (!(inode instanceof OverlayDentry)) fail(Errno.XDEV);
    return inode;
  }

  private layer(i: number): FilesystemImpl {
    return i === 0 ? this.upper : this.lowers[i - 1]!;
  }

  private inoOf(layer: number, ino: bigint): bigint {
    const inos = this.inos[layer]!;
    let o = inos.get(ino);
    if (o === undefined) inos.set(ino, o = this.nextIno++);
    return o;
  }

  /** Whether an upper inode is a whiteout (char device 0:0). */
  isWhiteout(u: Inode): boolean {
    return u.type === FileType.CHARACTER_DEVICE && this.upper.rdevOf(u) === 0;
  }

  /** Whether an upper directory is marked opaque. */
  isOpaque(u: Inode): boolean {
    return this.upper.getXattr(u, OPAQUE_XATTR) === 'y';
  }

  /** Whether a lower layer beneath `d` still has `name` (so removing it needs a whiteout). */
  private lowerHas(d: OverlayDentry, name: string): boolean {
    return d.lowers.some((l) => this.layer(l.layer).find(l.inode, name, NOTHING_AHEAD) !== undefined);
  }

  /** Creates `name` in the upper of `dir` with `make`, over a whiteout if there is one. */
  private make(dir: Inode, name: string, make: (upperDir: Inode, hidden: boolean) => Inode): Inode {
    const d = this.dentry(dir);
    if (d.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (this.find(d, name)) fail(Errno.EXIST);
    const pu = this.copyUp(d);
    const hidden = this.clearUpperName(pu, name);
    let u: Inode;
    try {
      u = make(pu, hidden);
    } catch (e) {
      if (hidden) this.upper.mknodChar(pu, name, 0); // put the whiteout back: the lower must stay hidden
      throw e;
    }
    const child = new OverlayDentry(this.inoOf(0, u.ino), u.type, u, [], d, name);
    d.setChild(name, child);
    return child;
  }

  /**
   * Empties `name` in the upper directory `pu` for something to take its place: removes a
   * whiteout, or the whiteouts inside an upper directory the caller found empty. Returns whether
   * a whiteout was there.
   */
  private clearUpperName(pu: Inode, name: string): boolean {
    const u = this.upper.find(pu, name);
    if (!u) return false;
    if (this.isWhiteout(u)) { this.upper.unlink(pu, name); return true; }
    if (u.type === FileType.DIRECTORY) for (const e of this.upper.readdir(u)) this.upper.unlink(u, e.name);
    return false;
  }

  /** Unlink or rmdir of `c` in `d`, leaving a whiteout where a lower still has the name. */
  private removeName(d: OverlayDentry, c: OverlayDentry): void {
    const pu = this.copyUp(d);
    if (c.upper) {
      if (c.type === FileType.DIRECTORY) {
        this.clearUpperName(pu, c.name);
        this.upper.rmdir(pu, c.name);
      } else {
        this.upper.unlink(pu, c.name);
      }
    } else if (c.type !== FileType.DIRECTORY) {
      this.lowerNameGone(c); // a lower name of a hard-linked file: one name fewer shows it
    }
    if (this.lowerHas(d, c.name)) this.upper.mknodChar(pu, c.name, 0);
    d.children.delete(c.name);
    c.parent = null;
  }

  /**
   * The upper inode of `d`, copying it (and its parents first) up from the topmost lower if it
   * has none. `noData` skips copying the contents (the caller truncates them away). A failure
   * (ENOSPC) leaves no partial copy behind.
   */
  private copyUp(d: OverlayDentry, noData = false): Inode {
    if (d.upper) return d.upper;
    if (!d.parent) fail(Errno.NOENT); // removed meanwhile
    const pu = this.copyUp(d.parent);
    // Copying up is no change the program made: the parent keeps its times (Linux overlayfs
    // restores them too), or a write to a/f would move the mtime of a lower-only a/.
    const pst = this.upper.stat(pu);
    const keepParentTimes = (): void => this.upper.setStat(pu, { atim: pst.atim, mtim: pst.mtim });
    const links = d.type === FileType.DIRECTORY ? undefined : this.lowerLinksOf(d.lowers[0]!, true);
    if (links?.upper) {
      try {
        return this.linkUp(d, pu, links);
      } finally {
        keepParentTimes();
      }
    }
    const { layer, inode } = d.lowers[0]!;
    const lfs = this.layer(layer);
    const st = lfs.stat(inode);
    // Read before anything is made, so a failure here leaves no partial copy either. The file is
    // opened first: a gofer lists xattrs through an open FD in one host call, where a node
    // without one costs a reopen and a close around it.
    const src = d.type === FileType.REGULAR_FILE && !noData ? lfs.open(inode, READ) : undefined;
    let u: Inode;
    let xattrs: Map<string, string | Uint8Array> | undefined;
    try {
      xattrs = lfs.listXattrs?.(inode);
      switch (d.type) {
        case FileType.DIRECTORY: u = this.upper.mkdir(pu, d.name, st.mode ?? 0o755); break;
        case FileType.SYMBOLIC_LINK: u = this.upper.symlink(pu, d.name, lfs.readlink(inode)); break;
        case FileType.REGULAR_FILE:
          u = this.upper.create(pu, d.name, st.mode ?? 0o644);
          try {
            if (src) this.copyData(src, u);
          } catch (e) {
            this.upper.unlink(pu, d.name);
            keepParentTimes();
            throw e;
          }
          break;
        default: fail(Errno.PERM); // fifos, sockets, devices: gVisor refuses too
      }
    } finally {
      src?.close();
    }
    // Every xattr but the overlay's own (a lower's opaque mark must not make the copy opaque); then
    // owner and times, the times last: copying data and xattrs moved them.
    for (const [name, value] of xattrs ?? []) if (!name.startsWith(OVERLAY_XATTR_PREFIX)) this.upper.setXattr(u, name, value);
    const owner = { uid: st.uid, gid: st.gid };
    this.upper.setStat(u, { ...owner, atim: st.atim, mtim: st.mtim }); // symlinks too: rename must not move their mtime
    keepParentTimes();
    this.inos[0]!.set(u.ino, d.ino);
    if (links) this.adoptCopy(links, u);
    d.upper = u;
    const key = layerKey({ layer, inode });
    const readers = this.lowerReaders.get(key);
    if (readers) {
      this.lowerReaders.delete(key); // moved once: the copy is the file now
      for (const h of readers) h.switchTo(this.upper.open(u, READ));
    }
    if (d.type !== FileType.DIRECTORY) d.lowers = [];
    return u;
  }

  /** The lower hard-link record of `l` (made on first need when `create`); none for a single name. */
  private lowerLinksOf(l: LayerInode, create: boolean): LowerLinks | undefined {
    const key = layerKey(l);
    let links = this.lowerLinks.get(key);
    if (links === undefined && create) {
      const lowerNlink = Number(this.layer(l.layer).stat(l.inode).nlink);
      if (lowerNlink > 1) this.lowerLinks.set(key, links = { lowerNlink, gone: 0, upper: undefined, hold: undefined });
    }
    return links;
  }

  /**
   * What `d` shows: its upper inode; for a lower name of a file copied up through another of its
   * names, that copy; else its topmost lower.
   */
  private shown(d: OverlayDentry): LayerInode {
    if (d.upper) return { layer: 0, inode: d.upper };
    const l = d.lowers[0]!;
    if (d.type === FileType.DIRECTORY || this.lowerLinks.size === 0) return l;
    const up = this.lowerLinksOf(l, false)?.upper;
    return up ? { layer: 0, inode: up } : l;
  }

  /** `u`, just copied up from one of its lower names, is now the upper copy of the file `links` counts. */
  private adoptCopy(links: LowerLinks, u: Inode): void {
    if (links.upper) this.lowerLinksByUpper.delete(links.upper.ino);
    links.hold?.close();
    links.upper = u;
    this.lowerLinksByUpper.set(u.ino, links);
    // While lower names still show it, an open keeps its data even when no upper name is left.
    links.hold = u.type === FileType.REGULAR_FILE ? this.upper.open(u, READ) : undefined;
    this.lowerNameGone(links);
  }

  /** A lower name of a hard-linked file no longer shows it (removed, renamed over or linked up). */
  private lowerNameGone(x: OverlayDentry | LowerLinks): void {
    const links = x instanceof OverlayDentry ? this.lowerLinksOf(x.lowers[0]!, true) : x;
    if (!links) return;
    links.gone++;
    if (links.gone >= links.lowerNlink) {
      links.hold?.close();
      links.hold = undefined;
    }
  }

  /**
   * Copy-up of a further lower name of a file already copied up: a link to the copy, even when
   * every upper name of it is gone meanwhile: `links.hold` keeps a regular file while lower names
   * show it, and a handle opened through a name now gone writes to it, as to one file on Linux.
   * A symlink (nothing holds it, nothing writes it) with no upper name left is copied again.
   */
  private linkUp(d: OverlayDentry, pu: Inode, links: LowerLinks): Inode {
    const old = links.upper!;
    const st = this.upper.stat(old);
    let u: Inode;
    if (st.nlink > 0n || old.type === FileType.REGULAR_FILE) {
      this.upper.link(pu, d.name, old, true);
      u = old;
      this.lowerNameGone(links);
    } else {
      u = this.upper.symlink(pu, d.name, this.upper.readlink(old));
      for (const [name, value] of this.upper.listXattrs(old)) this.upper.setXattr(u, name, value);
      this.upper.setStat(u, { mode: st.mode, uid: st.uid, gid: st.gid, atim: st.atim, mtim: st.mtim });
      this.inos[0]!.set(u.ino, d.ino);
      this.adoptCopy(links, u);
    }
    d.upper = u;
    d.lowers = [];
    return u;
  }

  /** Copies what `src` reads into the upper file `to`; the caller closes `src`. */
  private copyData(src: FileHandle, to: Inode): void {
    const dst = this.upper.open(to, { read: false, write: true, truncate: false });
    try {
      const buf = new Uint8Array(COPY_CHUNK);
      for (let off = 0; ;) {
        const n = src.read(buf, off);
        if (n === 0) break;
        dst.write(buf.subarray(0, n), off);
        off += n;
      }
    } finally {
      dst.close();
    }
  }

  /** Copies up `d` and everything beneath it (before a directory rename). */
  private copyUpTree(d: OverlayDentry): void {
    this.copyUp(d);
    if (d.type !== FileType.DIRECTORY || d.lowers.length === 0) return;
    for (const e of this.entries(d)) this.copyUpTree(this.dentry(this.lookup(d, e.name)));
  }

  /** The merged entries: upper first, then each lower; a name shows once; whiteouts never. */
  private entries(d: OverlayDentry): DirEntry[] {
    if (d.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    const out: DirEntry[] = [];
    let below = d.lowers;
    let seen: Set<string> | undefined;
    if (d.upper) {
      const upper = this.upper.readdir(d.upper);
      if (this.isOpaque(d.upper)) below = [];
      if (below.length > 0) seen = new Set();
      for (const e of upper) {
        seen?.add(e.name);
        if (e.type === FileType.CHARACTER_DEVICE && this.isWhiteout(this.upper.find(d.upper, e.name)!)) continue;
        out.push({ name: e.name, type: e.type, ino: d.children.get(e.name)?.ino ?? this.inoOf(0, e.ino) });
      }
    }
    if (below.length === 0) return out;
    for (const e of d.lowerEntries ??= this.lowerEntries(below)) {
      if (!seen?.has(e.name)) out.push({ name: e.name, type: e.type, ino: d.children.get(e.name)?.ino ?? e.ino });
    }
    return out;
  }

  /**
   * What the lower directories `below` list, merged (a name shows once, from the topmost), with
   * the overlay's inode numbers. Read once per directory: the lowers never change.
   */
  private lowerEntries(below: readonly LayerInode[]): DirEntry[] {
    const seen = new Set<string>();
    const out: DirEntry[] = [];
    for (const l of below) {
      for (const e of this.layer(l.layer).readdir(l.inode)) {
        if (seen.has(e.name)) continue;
        seen.add(e.name);
        out.push({ name: e.name, type: e.type, ino: this.inoOf(l.layer, e.ino) });
      }
    }
    return out;
  }
}

/** A lower non-directory with several names (OverlayFilesystem.lowerLinks). */
interface LowerLinks {
  /** The lower's link count of the file. */
  readonly lowerNlink: number;
  /** Its lower names that show it no more: removed, renamed over, or linked up to the copy. */
  gone: number;
  /** The upper copy, once a name was copied up. */
  upper: Inode | undefined;
  /** A read-only open of the copy, kept while lower names show it (else its data would go with its last upper name). */
  hold: FileHandle | undefined;
}

/** A lower file's identity across its names: hard links of it share the key. */
function layerKey(l: LayerInode): string {
  return `${l.layer}:${l.inode.ino}`;
}
