import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import { NAME_MAX, NOTHING_AHEAD, type FilesystemImpl, type Inode, type Stat, type StatChange } from './filesystem.js';
import { Mount, type Location } from './mount.js';
import { ResolvingPath, SYMLINK_BUDGET } from './resolving-path.js';

export interface OpenRequest {
  followFinal: boolean;
  create: boolean;
  exclusive: boolean;
  directory: boolean;
  /** The caller means to write or truncate: the mount must be writable and the target not a directory. */
  write: boolean;
  truncate: boolean;
}

/** A resolved parent directory and the last component of a path, for calls that create or remove. */
interface ParentAndName {
  dir: Location;
  name: string;
  trailingSlash: boolean;
}

/**
 * The mount table and path resolution. It knows no filesystem by name: every filesystem sits
 * behind FilesystemImpl. Read-only mounts are enforced here, for every call that writes.
 */
export class VirtualFilesystem {
  readonly root: Mount;
  readonly rootLocation: Location;

  /** Reused by every resolve (none runs inside another today; one that did would get its own). */
  private readonly walker: ResolvingPath;
  private walking = false;

  constructor(rootFs: FilesystemImpl, rootReadOnly: boolean) {
    this.root = new Mount(rootFs, rootReadOnly, '/');
    this.rootLocation = { mount: this.root, inode: this.root.root };
    this.walker = new ResolvingPath(this.rootLocation);
  }

  /** Attaches `fs` on the directory at `at` (resolved from the root). EBUSY if something is mounted there. */
  mount(at: Location, fs: FilesystemImpl, readOnly: boolean, guestPath: string): Mount {
    if (at.inode.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (at.mount.children.has(at.inode.ino)) fail(Errno.BUSY);
    const m = new Mount(fs, readOnly, guestPath, at.mount, at.inode);
    at.mount.children.set(at.inode.ino, m);
    return m;
  }

  /** Every mount, root first. */
  mounts(): Mount[] {
    const out: Mount[] = [];
    const visit = (m: Mount): void => { out.push(m); for (const c of m.children.values()) visit(c); };
    visit(this.root);
    return out;
  }

  /** Resolves `path` relative to `start`, never above it. */
  resolve(start: Location, path: string, followFinal: boolean): Location {
    const reuse = !this.walking;
    const rp = reuse ? this.walker : new ResolvingPath(this.rootLocation);
    this.walking = true;
    try {
      rp.begin(start, path);
      while (!rp.done) this.step(rp, followFinal);
      if (rp.mustBeDir) rp.requireDir();
      return rp.current;
    } finally {
      rp.end();
      if (reuse) this.walking = false;
    }
  }

  private step(rp: ResolvingPath, followFinal: boolean): void {
    const name = rp.next();
    const dir = rp.currentInode;
    if (dir.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (name === '.') return;
    if (name === '..') { rp.up(); return; }
    if (name.length > NAME_MAX) fail(Errno.NAMETOOLONG);
    const mount = rp.currentMount;
    const inode = mount.fs.lookup(dir, name, rp);
    if (inode.type === FileType.SYMBOLIC_LINK && (!rp.done || followFinal)) {
      rp.followSymlink(mount.fs.readlink(inode));
      return;
    }
    const seen = this.mountAt(mount, inode);
    rp.enter(seen, seen === mount ? inode : seen.root);
  }

  /**
   * The mount `inode` is seen through: a directory with a mount on it is that mount's root
   * (repeatedly, for stacked mounts); `mount` itself when nothing is mounted there.
   */
  private mountAt(mount: Mount, inode: Inode): Mount {
    let m = mount;
    // Most mounts have nothing mounted beneath them: then no lookup (a BigInt-keyed one) at all.
    for (let i = inode, c; i.type === FileType.DIRECTORY && m.children.size > 0 && (c = m.children.get(i.ino)) !== undefined; i = c.root) m = c;
    return m;
  }

  private crossMounts(mount: Mount, inode: Inode): Location {
    const seen = this.mountAt(mount, inode);
    return seen === mount ? { mount, inode } : { mount: seen, inode: seen.root };
  }

  /** Resolves all but the last component. The last is returned as a name (possibly `.` or `..`). */
  private resolveParent(start: Location, path: string): ParentAndName {
    if (path.length === 0) fail(Errno.NOENT);
    let end = path.length;
    while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
    const trailingSlash = end < path.length;
    const trimmed = path.slice(0, end);
    const slash = trimmed.lastIndexOf('/');
    const name = slash < 0 ? trimmed : trimmed.slice(slash + 1);
    const dirPath = slash < 0 ? '.' : trimmed.slice(0, slash + 1);
    if (trimmed.charCodeAt(0) === 47) fail(Errno.NOTCAPABLE);
    if (name.length > NAME_MAX) fail(Errno.NAMETOOLONG);
    const dir = this.resolve(start, dirPath, true);
    if (dir.inode.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    return { dir, name, trailingSlash };
  }

  private lookupChild(dir: Location, name: string): Inode | undefined {
    return dir.mount.fs.find(dir.inode, name, NOTHING_AHEAD);
  }

  private writable(loc: Location): void {
    if (loc.mount.readOnly) fail(Errno.ROFS);
  }

  /** Resolves (and with `create`, creates) the file `open` will open. */
  open(start: Location, path: string, req: OpenRequest): Location {
    const loc: Location & { created?: true } = req.create ? this.openCreating(start, path, req) : this.resolve(start, path, req.followFinal);
    if (loc.created) return { mount: loc.mount, inode: loc.inode };
    const type = loc.inode.type;
    if (type === FileType.SYMBOLIC_LINK) fail(req.directory ? Errno.NOTDIR : Errno.LOOP);
    if (req.directory && type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (type === FileType.DIRECTORY && (req.write || req.truncate)) fail(Errno.ISDIR);
    if (req.write || req.truncate) this.writable(loc);
    return loc;
  }

  /**
   * O_CREAT: the existing file, or a new one. As on Linux, a final symlink is followed (unless
   * O_EXCL or not following), and a dangling one creates its target.
   */
  private openCreating(start: Location, path: string, req: OpenRequest): Location & { created?: true } {
    for (let hops = 0; ; hops++) {
      const { dir, name, trailingSlash } = this.resolveParent(start, path);
      if (name === '.' || name === '..' || trailingSlash) {
        // Linux: O_CREAT on a name with a trailing slash can only ever be a directory: EISDIR.
        if (trailingSlash && name !== '.' && name !== '..' && this.lookupChild(dir, name) === undefined) fail(Errno.ISDIR);
        if (req.exclusive) fail(Errno.EXIST);
        return this.resolve(start, path, true);
      }
      const existing = this.lookupChild(dir, name);
      if (existing === undefined) {
        this.writable(dir);
        return { mount: dir.mount, inode: dir.mount.fs.create(dir.inode, name, 0o644), created: true };
      }
      if (req.exclusive) fail(Errno.EXIST);
      if (existing.type !== FileType.SYMBOLIC_LINK || !req.followFinal) return this.crossMounts(dir.mount, existing);
      if (hops >= SYMLINK_BUDGET) fail(Errno.LOOP);
      const target = dir.mount.fs.readlink(existing);
      if (target.length === 0) fail(Errno.NOENT);
      if (target.charCodeAt(0) === 47) {
        // An absolute target restarts at the sandbox root, which only a walk from the root may reach.
        if (start.mount !== this.root || start.inode !== this.root.root) fail(Errno.NOTCAPABLE);
        path = target.replace(/^\/+/, '') || '.';
      } else {
        // The target replaces the last component; `..` in it pops the directories actually walked.
        path = path.slice(0, path.lastIndexOf('/') + 1) + target;
      }
    }
  }

  stat(loc: Location): Stat {
    return loc.mount.fs.stat(loc.inode);
  }

  setStat(loc: Location, change: StatChange): void {
    this.writable(loc);
    loc.mount.fs.setStat(loc.inode, change);
  }

  readlink(start: Location, path: string): string {
    const loc = this.resolve(start, path, false);
    if (loc.inode.type !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
    return loc.mount.fs.readlink(loc.inode);
  }

  mkdir(start: Location, path: string): void {
    const { dir, name } = this.resolveParent(start, path);
    if (name === '.' || name === '..' || this.lookupChild(dir, name) !== undefined) fail(Errno.EXIST);
    this.writable(dir);
    dir.mount.fs.mkdir(dir.inode, name, 0o755);
  }

  rmdir(start: Location, path: string): void {
    const { dir, name } = this.resolveParent(start, path);
    if (name === '.') fail(Errno.INVAL);
    if (name === '..') fail(Errno.NOTEMPTY);
    const child = this.lookupChild(dir, name);
    if (child === undefined) fail(Errno.NOENT);
    if (child.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (dir.mount.children.has(child.ino)) fail(Errno.BUSY);
    this.writable(dir);
    dir.mount.fs.rmdir(dir.inode, name);
  }

  unlink(start: Location, path: string): void {
    const { dir, name, trailingSlash } = this.resolveParent(start, path);
    if (name === '.' || name === '..') fail(Errno.ISDIR);
    const child = this.lookupChild(dir, name);
    if (child === undefined) fail(Errno.NOENT);
    if (child.type === FileType.DIRECTORY) fail(Errno.ISDIR);
    if (trailingSlash) fail(Errno.NOTDIR);
    this.writable(dir);
    dir.mount.fs.unlink(dir.inode, name);
  }

  symlink(target: string, start: Location, path: string): void {
    const { dir, name, trailingSlash } = this.resolveParent(start, path);
    if (name === '.' || name === '..') fail(Errno.EXIST);
    const existing = this.lookupChild(dir, name);
    if (existing !== undefined) fail(Errno.EXIST);
    if (trailingSlash) fail(Errno.NOENT);
    if (target.length === 0) fail(Errno.NOENT);
    if (target.includes('\0')) fail(Errno.ILSEQ);
    // A guest may not mint an absolute link: WASI capabilities are relative to a directory fd.
    if (target.charCodeAt(0) === 47) fail(Errno.NOTCAPABLE);
    this.writable(dir);
    dir.mount.fs.symlink(dir.inode, name, target);
  }

  link(oldStart: Location, oldPath: string, followOld: boolean, newStart: Location, newPath: string): void {
    const old = this.resolve(oldStart, oldPath, followOld);
    const { dir, name, trailingSlash } = this.resolveParent(newStart, newPath);
    if (name === '.' || name === '..' || this.lookupChild(dir, name) !== undefined) fail(Errno.EXIST);
    if (old.inode.type === FileType.DIRECTORY) fail(Errno.PERM);
    if (trailingSlash) fail(Errno.NOENT);
    if (old.mount !== dir.mount) fail(Errno.XDEV);
    this.writable(dir);
    dir.mount.fs.link(dir.inode, name, old.inode);
  }

  rename(oldStart: Location, oldPath: string, newStart: Location, newPath: string): void {
    const from = this.resolveParent(oldStart, oldPath);
    const to = this.resolveParent(newStart, newPath);
    if (from.name === '.' || from.name === '..' || to.name === '.' || to.name === '..') fail(Errno.BUSY);
    const child = this.lookupChild(from.dir, from.name);
    if (child === undefined) fail(Errno.NOENT);
    const isDir = child.type === FileType.DIRECTORY;
    if (!isDir && (from.trailingSlash || to.trailingSlash)) fail(Errno.NOTDIR);
    if (from.dir.mount !== to.dir.mount) fail(Errno.XDEV);
    const mount = from.dir.mount;
    if (isDir && mount.children.has(child.ino)) fail(Errno.BUSY);
    const target = this.lookupChild(to.dir, to.name);
    if (target !== undefined) {
      if (mount.children.has(target.ino)) fail(Errno.BUSY);
      if (target.ino === child.ino) { this.writable(from.dir); return; }
    }
    // Linux's order (do_renameat2): an ancestor clash is decided before the types are compared.
    if (isDir && this.isWithin(mount.fs, to.dir.inode, child)) fail(Errno.INVAL);
    if (target?.type === FileType.DIRECTORY && this.isWithin(mount.fs, from.dir.inode, target)) fail(Errno.NOTEMPTY);
    if (target !== undefined) {
      if (isDir && target.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
      if (!isDir && target.type === FileType.DIRECTORY) fail(Errno.ISDIR);
    }
    this.writable(from.dir);
    mount.fs.rename(from.dir.inode, from.name, to.dir.inode, to.name);
  }

  /** Whether `dir` is `ancestor` or lies beneath it, inside one filesystem. */
  private isWithin(fs: FilesystemImpl, dir: Inode, ancestor: Inode): boolean {
    let cur = dir;
    for (let depth = 0; depth < 4096; depth++) {
      if (cur.ino === ancestor.ino) return true;
      const up = fs.parent(cur);
      if (up.ino === cur.ino) return false;
      cur = up;
    }
    return false;
  }

  release(): void {
    for (const m of this.mounts().reverse()) m.fs.release();
  }
}
