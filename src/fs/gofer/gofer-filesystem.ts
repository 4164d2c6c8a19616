/**
 * goferfs: the Sentry's client of one gofer (protocol.ts), as a FilesystemImpl. The cache is the
 * point (GVISOR-NOTES §1.5): a dentry tree mirroring the remote tree, with negative entries so a
 * missing name costs one RPC once, multi-component Walks so a path costs one RPC, not one per
 * component, attributes kept from every reply, and open host FDs shared by every guest open of a
 * file. It has two bounds, because host FDs are scarce and names are not: at most 1000 dentries
 * (gVisor's dcache default) hold a remote control FD; beyond that the least recently used one
 * gives its FDs back but keeps its name and attributes, so a stat still hits. At most 10,000 names
 * are kept in all (a few hundred bytes each); beyond that the least recently used leaf leaves.
 *
 * How far the cache is trusted is the mount's cache policy (gVisor's file-access modes):
 *  - `exclusive` (the default, gVisor's `fscache`): the sandbox is the only one changing the
 *    directory while it runs. Cached names and attributes are authoritative; a stat or an open of a
 *    cached file costs no RPC. Our own mutations drop the attributes they make stale.
 *  - `shared` (gVisor's `remote_revalidating`): someone else may change it at any time. Names and
 *    attributes are trusted only within the operation (syscall) that fetched them, so each path is
 *    walked again (one Walk RPC for its components) and each stat asks the gofer.
 *
 * The VFS may hold an Inode after the cache evicted it. Such a dentry keeps its parent and name and
 * is revived on use by walking that name again; if the name now holds another file (ino differs)
 * or none, the answer is ESTALE, never a different file. If the name was looked up again meanwhile,
 * the revived dentry becomes an alias of the one in the tree, so the tree has one dentry per name.
 */
import type { RingClientOptions } from '../../actors/ring-client.js';
import type { RingDescriptor } from '../../actors/ring-layout.js';
import { FileType } from '../../wasi/abi.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import type {
  DirEntry, FileHandle, FilesystemImpl, Inode, OpenAccess, OperationClock, PathAhead, Stat, StatChange,
} from '../vfs/filesystem.js';
import { ClockQueue } from '../vfs/clock-queue.js';
import { GoferConnection, type GoferChannel } from './gofer-connection.js';
import { GoferDentry, type HandleAccess } from './gofer-dentry.js';
import { GoferFileHandle, type GoferFileOwner } from './gofer-file-handle.js';
import {
  MAX_WALK_NAMES, OPEN_RDONLY, OPEN_RDWR, OPEN_TRUNC, OPEN_WRONLY,
  SETSTAT_ATIME, SETSTAT_ATIME_NOW, SETSTAT_MTIME, SETSTAT_MTIME_NOW, SETSTAT_SIZE,
  UNLINK_REMOVEDIR, WIRE_INODE_BYTES, WalkStatus, XATTR_LIST_MAX, XATTR_SIZE_MAX, checkName, fileTypeOfDirent,
  fileTypeOfMode,
  type FdId, type MessageName, type WireInode, type WireStat,
} from './protocol.js';

/** How far the client trusts its cache; see the file comment. */
export type GoferCachePolicy = 'exclusive' | 'shared';

export interface GoferFilesystemOptions extends RingClientOptions {
  /** Default 'exclusive'. */
  cache?: GoferCachePolicy;
  /** The Sentry's operation counter; `shared` trusts the cache within one tick of it. */
  clock?: OperationClock;
  /** Dentries holding a remote control FD, besides the root. Default 1000, like gVisor's dcache. */
  maxCachedDentries?: number;
  /** Dentries kept in all, with an FD or not. Default 10,000 (at least maxCachedDentries). */
  maxCachedNames?: number;
  /** Negative entries kept per directory, oldest dropped first. Default 1000. */
  maxNegativePerDir?: number;
}

/** Attributes as the gofer last reported them, and the operation in which it did. */
interface CachedAttrs {
  stat: WireStat;
  at: number;
}

/** GoferDentry.recent: used since the FD bound, or the name bound, last passed over it. */
const RECENT_FD = 1, RECENT_NAME = 2;

/** GoferDentry.queued: the bits of GoferFilesystem's two eviction queues. */
const IN_LRU = 1, IN_PINNED = 2;

const ACCESS_FLAGS: Record<HandleAccess, number> = { r: OPEN_RDONLY, w: OPEN_WRONLY, rw: OPEN_RDWR };

export class GoferFilesystem implements FilesystemImpl, GoferFileOwner {
  /** 'gofer', or 'directfs' when the channel calls the server in this thread. */
  readonly kind: 'gofer' | 'directfs';
  readonly dev: bigint;
  /** The connection is read-only: the gofer answers EROFS to mutations. */
  readonly readOnly: boolean;
  readonly cache: GoferCachePolicy;
  private readonly conn: GoferConnection;
  private readonly clock: OperationClock;
  private readonly rootDentry: GoferDentry;
  /** Every cached dentry except the root, with a control FD or not, in the order they were last passed over by eviction (second chance). */
  private readonly lru = new ClockQueue<GoferDentry>(IN_LRU);
  /** Those of `lru` that hold a control FD, in the order they were last passed over by eviction (second chance). */
  private readonly pinned = new ClockQueue<GoferDentry>(IN_PINNED);
  /** A miss's last name is stat'ed (WalkStat) and left FD-less (directfs: a statx is cheap, an FD is not). */
  private readonly walkByStat: boolean;
  /**
   * By inode number, so hard links share them. Bounded by the names: a dentry that leaves the
   * cache takes its inode's entry with it (another name of that inode then asks again).
   */
  private readonly attrs = new Map<bigint, CachedAttrs>();
  private readonly maxCached: number;
  private readonly maxNames: number;
  private readonly maxNegative: number;

  /** Mounts the gofer serving `channel` (one Mount RPC): a ring to a GoferActor, or directfs. `dev` is reported in stat. */
  constructor(channel: RingDescriptor | GoferChannel, dev: bigint, options: GoferFilesystemOptions = {}) {
    this.conn = new GoferConnection(channel, options);
    this.kind = this.conn.inProcess ? 'directfs' : 'gofer';
    this.walkByStat = this.kind === 'directfs';
    this.dev = dev;
    this.cache = options.cache ?? 'exclusive';
    this.clock = options.clock ?? { now: 0 };
    this.maxCached = options.maxCachedDentries ?? 1000;
    this.maxNames = Math.max(this.maxCached, options.maxCachedNames ?? 10_000);
    this.maxNegative = options.maxNegativePerDir ?? 1000;
    const { root, readOnly } = this.conn.rpc('Mount', {});
    this.readOnly = readOnly;
    this.rootDentry = new GoferDentry(this, root.stat.ino, FileType.DIRECTORY, root.fd, null, '', this.clock.now);
    this.remember(root.stat);
  }

  /** RPCs sent, per message name. */
  get rpcCounts(): Readonly<Record<MessageName, number>> { return this.conn.rpcCounts; }

  /** Dentries holding a control FD (the root excluded). */
  get cachedDentries(): number { return this.pinned.size; }

  /** Names cached, with an FD or not (the root excluded). */
  get cachedNames(): number { return this.lru.size; }

  /** Inodes whose attributes are cached (the root's included). */
  get cachedAttrs(): number { return this.attrs.size; }

  root(): Inode { return this.rootDentry; }

  parent(dir: Inode): Inode {
    return this.dentry(dir).parent ?? this.rootDentry;
  }

  lookup(dir: Inode, name: string, ahead: PathAhead): Inode {
    return this.find(dir, name, ahead) ?? fail(Errno.NOENT);
  }

  find(dir: Inode, name: string, ahead: PathAhead): GoferDentry | undefined {
    let d = this.dentry(dir);
    if (d.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    // A hit needs no FD on the directory (an evicted one has no cached children to hit).
    const hit = d.children.get(name);
    if (hit !== undefined && this.trusted(typeof hit === 'number' ? hit : hit.validated)) {
      if (typeof hit === 'number') return undefined;
      this.touch(d);
      this.touch(hit);
      return hit;
    }
    d = this.live(d);
    if (typeof hit === 'object' && this.walkByStat && this.stillThere(d, name, hit)) return hit;

    const names = this.walkNames(name, ahead.ahead());
    if (this.walkByStat) return this.lookupByStat(d, names);
    const { first } = this.walkFds(d, names);
    return first;
  }

  /**
   * One Walk RPC for `names` from `d`: the dentries it reaches hold control FDs. Returns the
   * first (what a lookup returns; undefined if `names[0]` is not there) and the last; fails as
   * the lookup of `names[0]` would otherwise.
   */
  private walkFds(d: GoferDentry, names: string[]): { first: GoferDentry | undefined; last: GoferDentry; all: boolean } {
    const { status, inodes } = this.conn.rpc('Walk', { dirFd: d.fd, names });
    const n = Math.min(inodes.length, names.length);
    let parent = d;
    let first: GoferDentry | undefined;
    let i = 0;
    for (; i < n && parent.type === FileType.DIRECTORY; i++) {
      parent = this.insert(parent, names[i]!, inodes[i]!.stat, inodes[i]!.fd);
      first ??= parent;
    }
    this.conn.close(inodes.slice(i).map((x) => x.fd)); // a gofer that sent more than was asked
    if (status === WalkStatus.NotExist && i < names.length && parent.type === FileType.DIRECTORY) {
      this.setNegative(parent, names[i]!);
    }
    this.evict(first);
    if (first === undefined && status !== WalkStatus.NotExist) fail(Errno.NOTDIR);
    return { first, last: parent, all: i === names.length };
  }

  /**
   * Directfs, a cached name no longer trusted (cache=shared, a new operation): one statx of it
   * from its parent's FD says whether it still holds the same inode; if so the dentry, and the FD
   * it may hold, is still it (gVisor's directfs revalidation). A Walk would open it again only to
   * close the copy, and walk on through every name after it the same way. A gofer over a ring
   * still Walks: there one RPC for the whole path costs less than one per name.
   */
  private stillThere(parent: GoferDentry, name: string, child: GoferDentry): boolean {
    const s = this.conn.rpc('WalkStat', { dirFd: parent.fd, names: [name] }).stats[0];
    if (s === undefined || !isNodeOf(child, s)) return false;
    this.remember(s);
    child.validated = this.clock.now;
    this.touch(child); // the parent was, by live()
    return true;
  }

  /** `name` and as much of what follows it as fits one request and its reply. */
  private walkNames(name: string, ahead: readonly string[]): string[] {
    const names = [name];
    let reqBytes = 32 + Buffer.byteLength(name);
    const maxNames = Math.min(MAX_WALK_NAMES, Math.floor((this.conn.windowBytes - 16) / WIRE_INODE_BYTES));
    for (const a of ahead) {
      reqBytes += 4 + Buffer.byteLength(a);
      if (names.length >= maxNames || reqBytes > this.conn.windowBytes || checkName(a) !== Errno.SUCCESS) break;
      names.push(a);
    }
    return names;
  }

  /**
   * Directfs: the file a lookup ends on is stat'ed by WalkStat, which opens nothing, so its dentry
   * holds no host FD until something needs one (it is then revived by name like an evicted one:
   * same inode, or ESTALE). A stat that misses the cache costs one statx, not an openat2 + statx +
   * close. The directories on the way are Walked instead, keeping their FDs: the next miss beneath
   * them needs one, and reviving it later would cost an openat2 + statx more.
   */
  private lookupByStat(d: GoferDentry, names: string[]): GoferDentry | undefined {
    let first: GoferDentry | undefined;
    if (names.length > 1) {
      const walked = this.walkFds(d, names.slice(0, -1));
      if (!walked.all || walked.last.type !== FileType.DIRECTORY) return walked.first;
      first = walked.first;
      d = this.live(walked.last); // eviction may have taken its FD already
      names = names.slice(-1);
    }
    const { stats } = this.conn.rpc('WalkStat', { dirFd: d.fd, names });
    let parent = d;
    const n = Math.min(stats.length, names.length);
    for (let i = 0; i < n && parent.type === FileType.DIRECTORY; i++) {
      parent = this.insert(parent, names[i]!, stats[i]!, -1);
      first ??= parent;
    }
    if (n < names.length && parent.type === FileType.DIRECTORY) this.setNegative(parent, names[n]!);
    this.evict(first);
    return first;
  }

  /** An open directory keeps its control FD: evicted, it could only be revived by a name the host may have reused. */
  pin(dir: Inode): void {
    this.live(this.dentry(dir)).opens++;
  }

  unpin(dir: Inode): void {
    this.dentry(dir).opens--;
  }

  stat(inode: Inode): Stat {
    const d = this.dentry(inode);
    const cached = this.attrs.get(d.ino);
    if (cached && this.trusted(cached.at)) return this.toStat(cached.stat);
    const s = this.conn.rpc('FStat', { fd: this.live(d).fd });
    this.remember(s);
    return this.toStat(s);
  }

  setStat(inode: Inode, change: StatChange): void {
    let mask = 0;
    if (change.size !== undefined) mask |= SETSTAT_SIZE;
    if (change.atim !== undefined) mask |= change.atim === 'now' ? SETSTAT_ATIME_NOW : SETSTAT_ATIME;
    if (change.mtim !== undefined) mask |= change.mtim === 'now' ? SETSTAT_MTIME_NOW : SETSTAT_MTIME;
    // The protocol carries no chmod or chown: no guest call makes one.
    if (change.mode !== undefined || change.uid !== undefined || change.gid !== undefined) fail(Errno.NOTSUP);
    if (mask === 0) return;
    const d = this.live(this.dentry(inode));
    this.attrs.delete(d.ino); // even a partial failure may have changed something
    const r = this.conn.rpc('SetStat', {
      fd: d.fd, mask, size: change.size ?? 0,
      atimeNs: typeof change.atim === 'bigint' ? change.atim : 0n,
      mtimeNs: typeof change.mtim === 'bigint' ? change.mtim : 0n,
    });
    if (r.failureMask !== 0) fail(r.failureErrno as Errno);
  }

  readlink(link: Inode): string {
    const d = this.dentry(link);
    if (d.type !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
    return d.target ??= this.conn.rpc('ReadLinkAt', { fd: this.live(d).fd }).target;
  }

  /** Reuses the file's shared handle for this access if it has one (no RPC), else opens it. */
  open(inode: Inode, access: OpenAccess): FileHandle {
    const d = this.live(this.dentry(inode));
    const want: HandleAccess = access.write ? (access.read ? 'rw' : 'w') : 'r';
    let fd = d.handles[want] >= 0 ? d.handles[want] : d.handles.rw;
    if (fd >= 0) {
      if (access.truncate) this.setStat(d, { size: 0 });
    } else {
      const flags = ACCESS_FLAGS[want] | (access.truncate ? OPEN_TRUNC : 0);
      fd = d.handles[want] = this.conn.rpc('OpenAt', { fd: d.fd, flags }).openFd;
      if (access.truncate) this.attrs.delete(d.ino);
    }
    d.opens++;
    return new GoferFileHandle(this.conn, this, d, fd);
  }

  create(dir: Inode, name: string, mode: number): Inode {
    const d = this.live(this.dentry(dir));
    const r = this.conn.rpc('OpenCreateAt', { dirFd: d.fd, name, mode, flags: OPEN_RDONLY });
    const child = this.added(d, name, r.child);
    if (child.handles.r < 0) child.handles.r = r.openFd; // the next read-only open needs no RPC
    else this.conn.close([r.openFd]);
    return child;
  }

  mkdir(dir: Inode, name: string, mode: number): Inode {
    const d = this.live(this.dentry(dir));
    return this.added(d, name, this.conn.rpc('MkdirAt', { dirFd: d.fd, name, mode }).child);
  }

  symlink(dir: Inode, name: string, target: string): Inode {
    const d = this.live(this.dentry(dir));
    const child = this.added(d, name, this.conn.rpc('SymlinkAt', { dirFd: d.fd, name, target }).child);
    child.target = target;
    return child;
  }

  link(dir: Inode, name: string, target: Inode): void {
    const d = this.live(this.dentry(dir));
    const t = this.holding(d, () => this.live(this.dentry(target)));
    if (t.type === FileType.DIRECTORY) fail(Errno.PERM);
    this.attrs.delete(t.ino); // nlink, ctime
    this.added(d, name, this.conn.rpc('LinkAt', { dirFd: d.fd, name, targetFd: t.fd }).child);
  }

  unlink(dir: Inode, name: string): void {
    this.remove(dir, name, 0);
  }

  rmdir(dir: Inode, name: string): void {
    this.remove(dir, name, UNLINK_REMOVEDIR);
  }

  rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void {
    const od = this.live(this.dentry(oldDir));
    const nd = this.holding(od, () => this.live(this.dentry(newDir)));
    const cachedChild = (dir: GoferDentry, name: string): GoferDentry | undefined => {
      const c = dir.children.get(name);
      return typeof c === 'object' ? c : undefined;
    };
    const moved = cachedChild(od, oldName);
    const replaced = cachedChild(nd, newName);
    this.staled(od, nd, moved, replaced);
    // Without the moved file's dentry its inode is unknown, so no cached attributes can be trusted;
    // nor without the replaced one's, unless the name is known to be free: its link count drops,
    // and another of its names may be cached.
    const target = nd.children.get(newName);
    const nothingReplaced = typeof target === 'number' && this.trusted(target);
    if (!moved || (!replaced && !nothingReplaced)) this.attrs.clear();
    this.conn.rpc('RenameAt', { oldDirFd: od.fd, oldName, newDirFd: nd.fd, newName, flags: 0 });
    if (od === nd && oldName === newName) return;
    // Two names of one file: POSIX rename does nothing and both stay.
    if (moved && replaced && moved.ino === replaced.ino && moved.type !== FileType.DIRECTORY) return;
    if (replaced) { this.unlinkChild(nd, newName); replaced.unlinked = moved !== undefined; }
    if (moved) {
      this.unlinkChild(od, oldName);
      this.setNegative(od, oldName);
      moved.parent = nd;
      moved.name = newName;
      this.setChild(nd, newName, moved);
    } else {
      // Not cached: what was at the old name is unknown here, so forget both names.
      this.unlinkChild(od, oldName);
      this.unlinkChild(nd, newName);
    }
  }

  readdir(dir: Inode): DirEntry[] {
    const d = this.live(this.dentry(dir));
    const { openFd } = this.conn.rpc('OpenAt', { fd: d.fd, flags: OPEN_RDONLY });
    const out: DirEntry[] = [];
    try {
      for (;;) {
        const { dirents } = this.conn.rpc('Getdents64', { fd: openFd, count: this.conn.windowBytes - 64 });
        if (dirents.length === 0) break;
        for (const e of dirents) {
          if (e.name !== '.' && e.name !== '..') out.push({ name: e.name, ino: e.ino, type: fileTypeOfDirent(e.type) });
        }
      }
    } finally {
      this.conn.close([openFd]);
      this.attrs.delete(d.ino); // atime
    }
    return out;
  }

  /**
   * Every xattr of the file (FListXattr, then one FGetXattr per name), for the overlay's copy-up;
   * never cached. ENOTSUP (a host filesystem without xattrs, or a node that is not a regular file
   * or directory) is none; a name gone between the two calls is skipped. Values are bytes.
   */
  listXattrs(inode: Inode): Map<string, Uint8Array> {
    const d = this.live(this.dentry(inode));
    const out = new Map<string, Uint8Array>();
    const window = this.conn.windowBytes - 64;
    // An open FD of the file serves f*xattr as it is; the control FD (O_PATH) must be reopened.
    const h = d.handles;
    const fd = h.r >= 0 ? h.r : h.rw >= 0 ? h.rw : h.w >= 0 ? h.w : d.fd;
    const names = unlessErrno(Errno.NOTSUP, () => this.conn.rpc('FListXattr', { fd, size: Math.min(XATTR_LIST_MAX, window) }).names);
    for (const name of names ?? []) {
      const got = unlessErrno(Errno.NOENT, () => this.conn.rpc('FGetXattr', { fd, name, size: Math.min(XATTR_SIZE_MAX, window) }).value);
      if (got !== undefined) out.set(name, got);
    }
    return out;
  }

  release(): void {
    const fds = this.rootDentry.takeFds();
    for (const d of this.lru) fds.push(...d.takeFds());
    this.lru.clear();
    this.pinned.clear();
    this.attrs.clear();
    this.rootDentry.children.clear();
    this.conn.close(fds);
    this.conn.release();
  }

  // ---- GoferFileOwner: what open files ask of the cache ----------------------------------------

  sizeOf(d: GoferDentry): number {
    return Number(this.stat(d).size);
  }

  changed(d: GoferDentry): void {
    this.attrs.delete(d.ino);
  }

  closed(d: GoferDentry): void {
    d.opens--;
    // A dentry is never evicted while open, but release() may have taken its FDs already.
  }

  // ---- the dentry cache -------------------------------------------------------------------------

  /** Whether something the gofer told us in operation `at` may still be used. */
  private trusted(at: number): boolean {
    return this.cache === 'exclusive' || at === this.clock.now;
  }

  private remember(s: WireStat): void {
    this.attrs.set(s.ino, { stat: s, at: this.clock.now });
  }

  /** A directory's entries changed through us: its attributes, and those of the files named, are stale. */
  private staled(...ds: (GoferDentry | undefined)[]): void {
    for (const d of ds) if (d) this.attrs.delete(d.ino);
  }

  private dentry(inode: Inode): GoferDentry {
    if (!(inode instanceof GoferDentry) || inode.owner !== this) fail(Errno.XDEV);
    let d = inode;
    while (d.alias) d = d.alias;
    return d;
  }

  /**
   * `f()`, during which `d` keeps its FD: an operation on two dentries takes the FD of the second
   * after the first's, and reviving the second may evict (Walk, then evict) the first's.
   */
  private holding<T>(d: GoferDentry, f: () => T): T {
    d.opens++;
    try {
      return f();
    } finally {
      d.opens--;
    }
  }

  /** `d` with a control FD (revived if it was evicted), marked recently used. */
  private live(d: GoferDentry): GoferDentry {
    if (d.fd < 0) d = this.revive(d);
    this.touch(d);
    return d;
  }

  private revive(d: GoferDentry): GoferDentry {
    if (d.unlinked || !d.parent || d === this.rootDentry) fail(Errno.STALE);
    const parent = this.live(this.dentry(d.parent));
    const { inodes } = this.conn.rpc('Walk', { dirFd: parent.fd, names: [d.name] });
    const got = inodes[0];
    this.conn.close(inodes.slice(1).map((x) => x.fd));
    if (!got) fail(Errno.STALE);
    const inTree = parent.children.get(d.name);
    if (got.stat.ino !== d.ino || typeof inTree === 'number' || (inTree && inTree.ino !== d.ino)) {
      this.conn.close([got.fd]);
      fail(Errno.STALE);
    }
    this.remember(got.stat);
    const target = inTree ?? d;
    if (target.fd < 0) { target.fd = got.fd; this.pinned.add(target); } else this.conn.close([got.fd]);
    target.validated = this.clock.now;
    if (inTree && inTree !== d) { d.alias = inTree; return inTree; }
    if (!inTree) {
      d.parent = parent;
      this.setChild(parent, d.name, d);
      this.lru.add(d);
    }
    this.evict(d);
    return d;
  }

  /**
   * Puts a node the gofer returned under `parent.children[name]`, reusing a cached dentry of the
   * same inode. `fd` is its new control FD, or -1 when only its attributes came (WalkStat).
   */
  private insert(parent: GoferDentry, name: string, stat: WireStat, fd: FdId): GoferDentry {
    const cached = parent.children.get(name);
    this.remember(stat);
    if (typeof cached === 'object' && isNodeOf(cached, stat)) {
      if (cached.fd >= 0) this.conn.close([fd]);
      else if (fd >= 0) { cached.fd = fd; this.pinned.add(cached); }
      cached.validated = this.clock.now;
      this.touch(cached);
      return cached;
    }
    if (cached !== undefined) this.unlinkChild(parent, name); // the host changed it behind our back
    const child = new GoferDentry(this, stat.ino, fileTypeOfMode(stat.mode), fd, parent, name, this.clock.now);
    // Marked used, as CLOCK marks a page it faults in: unmarked, it would be taken before the older
    // dentries the hand has just marked and moved behind it, and a sweep could lose its own names.
    this.touch(child);
    this.setChild(parent, name, child);
    this.lru.add(child);
    if (fd >= 0) this.pinned.add(child);
    return child;
  }

  /** A create/mkdir/symlink/link made `name`: replaces a negative entry. */
  private added(parent: GoferDentry, name: string, inode: WireInode): GoferDentry {
    this.staled(parent);
    const child = this.insert(parent, name, inode.stat, inode.fd);
    this.evict(child);
    return child;
  }

  private remove(dir: Inode, name: string, flags: number): void {
    const d = this.live(this.dentry(dir));
    const gone = d.children.get(name);
    this.staled(d, typeof gone === 'object' ? gone : undefined);
    if (typeof gone !== 'object') this.attrs.clear(); // another name of it may be cached: nlink changed
    this.conn.rpc('UnlinkAt', { dirFd: d.fd, name, flags });
    if (typeof gone === 'object') { this.unlinkChild(d, name); gone.unlinked = true; }
    this.setNegative(d, name);
  }

  private setChild(parent: GoferDentry, name: string, child: GoferDentry): void {
    this.unlinkChild(parent, name);
    parent.children.set(name, child);
    parent.positives++;
  }

  private setNegative(parent: GoferDentry, name: string): void {
    this.unlinkChild(parent, name);
    if (parent.negatives >= this.maxNegative) {
      for (const [n, c] of parent.children) if (typeof c === 'number') { this.unlinkChild(parent, n); break; }
    }
    parent.children.set(name, this.clock.now);
    parent.negatives++;
  }

  /** Forgets `name` in `parent` (positive or negative); the child dentry itself is left as it is. */
  private unlinkChild(parent: GoferDentry, name: string): void {
    const c = parent.children.get(name);
    if (c === undefined) return;
    parent.children.delete(name);
    if (typeof c === 'number') parent.negatives--; else parent.positives--;
  }

  /**
   * Second chance (CLOCK) rather than strict LRU order: a hit only sets bits, and eviction moves a
   * dentry it finds marked to the young end once. Reordering a Set on every hit cost more than
   * the rest of a cached stat.
   */
  private touch(d: GoferDentry): void {
    d.recent = RECENT_FD | RECENT_NAME;
  }

  /**
   * Applies both bounds, least recently used first; `keep` (what the caller is returning) and
   * files the guest has open are moved to the young end instead. Beyond maxCachedDentries a
   * dentry gives back its FDs and stays, FD-less, to be revived by name when an FD is needed.
   * Beyond maxCachedNames an FD-less leaf leaves the tree; a directory with cached children stays
   * (they need it to be found).
   */
  private evict(keep: GoferDentry | undefined): void {
    // Two passes at most: the first may only clear the marks.
    for (let budget = 2 * this.pinned.size; this.pinned.size > this.maxCached && budget-- > 0;) {
      const d = this.pinned.shift()!;
      if (d === keep || d.opens > 0 || (d.recent & RECENT_FD) !== 0) { d.recent &= ~RECENT_FD; this.pinned.add(d); continue; }
      this.conn.close(d.takeFds());
    }
    for (let budget = 2 * this.lru.size; this.lru.size > this.maxNames && budget-- > 0;) {
      const d = this.lru.shift()!;
      if (d === keep || d.positives > 0 || d.opens > 0 || this.pinned.has(d) || (d.recent & RECENT_NAME) !== 0) {
        d.recent &= ~RECENT_NAME;
        this.lru.add(d);
        continue;
      }
      if (d.parent && d.parent.children.get(d.name) === d) this.unlinkChild(d.parent, d.name);
      if (d.type === FileType.DIRECTORY) { d.children.clear(); d.negatives = 0; }
      this.attrs.delete(d.ino);
    }
  }

  private toStat(s: WireStat): Stat {
    return {
      dev: this.dev, ino: s.ino, type: fileTypeOfMode(s.mode), nlink: BigInt(s.nlink), size: s.size,
      atim: s.atimeNs, mtim: s.mtimeNs, ctim: s.ctimeNs, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid,
    };
  }
}

/** `s` describes the node `d` stands for: the same inode, of the same type. */
function isNodeOf(d: GoferDentry, s: WireStat): boolean {
  return s.ino === d.ino && fileTypeOfMode(s.mode) === d.type;
}

/** What `f` returns, or undefined where it fails with `errno`; other failures propagate. */
function unlessErrno<T>(errno: Errno, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof SyscallError && e.errno === errno) return undefined;
    throw e;
  }
}
