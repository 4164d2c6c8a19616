/**
 * goferfs: the Sentry's client of one gofer (protocol.ts), as a FilesystemImpl. The cache is the
 * point (GVISOR-NOTES §1.5): a dentry tree mirroring the remote tree, bounded (LRU, default 1000
 * dentries, each pinning one remote control FD), with negative entries so a missing name costs one
 * RPC once, and multi-component Walks so a path costs one RPC, not one per component. Entries are
 * cached; attributes are not (stat is an FStat each time), as another process may change them.
 *
 * The VFS may hold an Inode after the cache evicted it. Such a dentry keeps its parent and name and
 * is revived on use by walking that name again; if the name now holds another file (ino differs)
 * or none, the answer is ESTALE, never a different file. If the name was looked up again meanwhile,
 * the revived dentry becomes an alias of the one in the tree, so the tree has one dentry per name.
 */
import { RingClient, type RingClientOptions } from '../../actors/ring-client.js';
import type { RingDescriptor } from '../../actors/ring-layout.js';
import { FileType } from '../../wasi/abi.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import type {
  DirEntry, FileHandle, FilesystemImpl, Inode, OpenAccess, Stat, StatChange,
} from '../vfs/filesystem.js';
import {
  CLOSE_BATCH, M, MAX_CLOSE_FDS, MAX_WALK_NAMES, OPEN_RDONLY, OPEN_RDWR, OPEN_TRUNC, OPEN_WRONLY,
  SETSTAT_ATIME, SETSTAT_ATIME_NOW, SETSTAT_MTIME, SETSTAT_MTIME_NOW, SETSTAT_SIZE,
  UNLINK_REMOVEDIR, WIRE_INODE_BYTES, WalkStatus, checkName, fileTypeOfDirent, fileTypeOfMode,
  type FdId, type Message, type MessageName, type ReqOf, type RespOf, type WireInode, type WireStat,
} from './protocol.js';

export interface GoferFilesystemOptions extends RingClientOptions {
  /** Dentries (remote control FDs) kept besides the root. Default 1000, like gVisor's dcache. */
  maxCachedDentries?: number;
  /** Negative entries kept per directory, oldest dropped first. Default 1000. */
  maxNegativePerDir?: number;
}

/** One ring to one gofer: typed RPCs, their counters, and the batch of FD ids waiting to be closed. */
class GoferConnection {
  readonly rpcCounts = Object.fromEntries(Object.keys(M).map((n) => [n, 0])) as Record<MessageName, number>;
  private readonly client: RingClient;
  private pendingClose: FdId[] = [];

  constructor(desc: RingDescriptor, options: RingClientOptions) {
    this.client = new RingClient(desc, options);
  }

  get windowBytes(): number { return this.client.windowBytes; }

  /**
   * One round trip. A non-zero status is thrown as that errno; a reply that does not decode, or a
   * gofer that died, is EIO. Byte fields of the reply are views into the window: copy them out
   * before the next RPC.
   */
  rpc<N extends MessageName>(name: N, req: ReqOf<N>): RespOf<N> {
    const m = M[name] as unknown as Message<ReqOf<N>, RespOf<N>>;
    this.rpcCounts[name]++;
    const c = this.client;
    try {
      m.req.put(c.writer.reset(), req);
      const status = c.call(m.id);
      if (status !== 0) fail(status as Errno);
      return m.resp.get(c.reader);
    } catch (e) {
      if (e instanceof SyscallError) throw e;
      fail(Errno.IO); // FrameError or RingClosedError
    }
  }

  /** Queues FD ids; they ride on the next Close, which is sent when the batch fills or `now`. */
  close(fds: readonly FdId[], now = false): void {
    for (const fd of fds) if (fd >= 0) this.pendingClose.push(fd);
    if (now || this.pendingClose.length >= CLOSE_BATCH) this.flushClose();
  }

  /** Close never fails at the gofer; if the gofer is gone, so are its FDs: nothing to report. */
  flushClose(): void {
    while (this.pendingClose.length > 0) {
      const fds = this.pendingClose.splice(0, MAX_CLOSE_FDS);
      try { this.rpc('Close', { fds }); } catch { /* see above */ }
    }
  }
}

class GoferDentry implements Inode {
  /** Remote control FD; -1 once evicted (revived on use) or released. */
  fd: FdId;
  /** Directories: cached names → child, or null for a name known not to exist. */
  readonly children = new Map<string, GoferDentry | null>();
  positives = 0;
  negatives = 0;
  /** The dentry that replaced this one in the tree after an eviction (see the file comment). */
  alias: GoferDentry | undefined;
  /** Its name was removed through this filesystem: it can never be revived. */
  unlinked = false;
  /** Symlink target, cached: a symlink's target never changes in place. */
  target: string | undefined;

  constructor(
    readonly owner: GoferFilesystem, readonly ino: bigint, readonly type: FileType, fd: FdId,
    public parent: GoferDentry | null, public name: string,
  ) {
    this.fd = fd;
  }
}

export class GoferFilesystem implements FilesystemImpl {
  readonly kind = 'gofer';
  readonly dev: bigint;
  /** The connection is read-only: the gofer answers EROFS to mutations. */
  readonly readOnly: boolean;
  private readonly conn: GoferConnection;
  private readonly rootDentry: GoferDentry;
  /** Every dentry holding a control FD except the root, least recently used first. */
  private readonly lru = new Set<GoferDentry>();
  private readonly maxCached: number;
  private readonly maxNegative: number;

  /** Mounts the gofer serving `ring` (one Mount RPC); `dev` is reported in stat. */
  constructor(ring: RingDescriptor, dev: bigint, options: GoferFilesystemOptions = {}) {
    this.conn = new GoferConnection(ring, options);
    this.dev = dev;
    this.maxCached = options.maxCachedDentries ?? 1000;
    this.maxNegative = options.maxNegativePerDir ?? 1000;
    const { root, readOnly } = this.conn.rpc('Mount', {});
    this.readOnly = readOnly;
    this.rootDentry = new GoferDentry(this, root.stat.ino, FileType.DIRECTORY, root.fd, null, '');
  }

  /** RPCs sent, per message name. */
  get rpcCounts(): Readonly<Record<MessageName, number>> { return this.conn.rpcCounts; }

  /** Dentries currently holding a control FD (the root excluded). */
  get cachedDentries(): number { return this.lru.size; }

  root(): Inode { return this.rootDentry; }

  parent(dir: Inode): Inode {
    return this.dentry(dir).parent ?? this.rootDentry;
  }

  lookup(dir: Inode, name: string, ahead: readonly string[]): Inode {
    let d = this.dentry(dir);
    if (d.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (d.fd < 0) d = this.revive(d);
    const hit = d.children.get(name);
    if (hit === null) fail(Errno.NOENT);
    if (hit) { this.touch(hit); return hit; }

    // Walk `name` and what follows it in one RPC, as much as fits the window both ways.
    const names = [name];
    let reqBytes = 32 + Buffer.byteLength(name);
    const maxNames = Math.min(MAX_WALK_NAMES, Math.floor((this.conn.windowBytes - 16) / WIRE_INODE_BYTES));
    for (const a of ahead) {
      reqBytes += 4 + Buffer.byteLength(a);
      if (names.length >= maxNames || reqBytes > this.conn.windowBytes || checkName(a) !== Errno.SUCCESS) break;
      names.push(a);
    }
    const { status, inodes } = this.conn.rpc('Walk', { dirFd: this.fdOf(d), names });
    const n = Math.min(inodes.length, names.length);
    let parent = d;
    let first: GoferDentry | undefined;
    let i = 0;
    for (; i < n && parent.type === FileType.DIRECTORY; i++) {
      parent = this.insert(parent, names[i]!, inodes[i]!);
      first ??= parent;
    }
    this.conn.close(inodes.slice(i).map((x) => x.fd)); // a gofer that sent more than was asked
    if (status === WalkStatus.NotExist && i < names.length && parent.type === FileType.DIRECTORY) {
      this.setNegative(parent, names[i]!);
    }
    this.evict(first);
    return first ?? fail(status === WalkStatus.NotExist ? Errno.NOENT : Errno.NOTDIR);
  }

  stat(inode: Inode): Stat {
    return this.toStat(this.conn.rpc('FStat', { fd: this.fdOf(this.dentry(inode)) }));
  }

  setStat(inode: Inode, change: StatChange): void {
    let mask = 0;
    if (change.size !== undefined) mask |= SETSTAT_SIZE;
    if (change.atim !== undefined) mask |= change.atim === 'now' ? SETSTAT_ATIME_NOW : SETSTAT_ATIME;
    if (change.mtim !== undefined) mask |= change.mtim === 'now' ? SETSTAT_MTIME_NOW : SETSTAT_MTIME;
    if (mask === 0) return;
    const r = this.conn.rpc('SetStat', {
      fd: this.fdOf(this.dentry(inode)), mask, size: change.size ?? 0,
      atimeNs: typeof change.atim === 'bigint' ? change.atim : 0n,
      mtimeNs: typeof change.mtim === 'bigint' ? change.mtim : 0n,
    });
    if (r.failureMask !== 0) fail(r.failureErrno as Errno);
  }

  readlink(link: Inode): string {
    const d = this.dentry(link);
    if (d.type !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
    return d.target ??= this.conn.rpc('ReadLinkAt', { fd: this.fdOf(d) }).target;
  }

  open(inode: Inode, access: OpenAccess): FileHandle {
    const acc = access.write ? (access.read ? OPEN_RDWR : OPEN_WRONLY) : OPEN_RDONLY;
    const flags = acc | (access.truncate ? OPEN_TRUNC : 0);
    const { openFd } = this.conn.rpc('OpenAt', { fd: this.fdOf(this.dentry(inode)), flags });
    return new GoferFileHandle(this.conn, openFd);
  }

  create(dir: Inode, name: string, mode: number): Inode {
    const d = this.dentry(dir);
    const r = this.conn.rpc('OpenCreateAt', { dirFd: this.fdOf(d), name, mode, flags: OPEN_RDONLY });
    this.conn.close([r.openFd]); // the interface wants the inode; the open FD goes with the next batch
    return this.added(d, name, r.child);
  }

  mkdir(dir: Inode, name: string, mode: number): Inode {
    const d = this.dentry(dir);
    return this.added(d, name, this.conn.rpc('MkdirAt', { dirFd: this.fdOf(d), name, mode }).child);
  }

  symlink(dir: Inode, name: string, target: string): Inode {
    const d = this.dentry(dir);
    const child = this.added(d, name, this.conn.rpc('SymlinkAt', { dirFd: this.fdOf(d), name, target }).child);
    child.target = target;
    return child;
  }

  link(dir: Inode, name: string, target: Inode): void {
    const d = this.dentry(dir);
    const t = this.dentry(target);
    if (t.type === FileType.DIRECTORY) fail(Errno.PERM);
    this.added(d, name, this.conn.rpc('LinkAt', { dirFd: this.fdOf(d), name, targetFd: this.fdOf(t) }).child);
  }

  unlink(dir: Inode, name: string): void {
    this.remove(dir, name, 0);
  }

  rmdir(dir: Inode, name: string): void {
    this.remove(dir, name, UNLINK_REMOVEDIR);
  }

  rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void {
    const od = this.dentry(oldDir), nd = this.dentry(newDir);
    this.conn.rpc('RenameAt', { oldDirFd: this.fdOf(od), oldName, newDirFd: this.fdOf(nd), newName, flags: 0 });
    if (od === nd && oldName === newName) return;
    const moved = od.children.get(oldName) ?? undefined; // a negative entry here means we knew nothing
    const replaced = nd.children.get(newName) ?? undefined;
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
    const { openFd } = this.conn.rpc('OpenAt', { fd: this.fdOf(this.dentry(dir)), flags: OPEN_RDONLY });
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
    }
    return out;
  }

  release(): void {
    const fds = [this.rootDentry.fd, ...[...this.lru].map((d) => d.fd)];
    for (const d of this.lru) d.fd = -1;
    this.lru.clear();
    this.rootDentry.fd = -1;
    this.rootDentry.children.clear();
    this.conn.close(fds, true);
  }

  // ---- the dentry cache -------------------------------------------------------------------------

  private dentry(inode: Inode): GoferDentry {
    if (!(inode instanceof GoferDentry) || inode.owner !== this) fail(Errno.XDEV);
    let d = inode;
    while (d.alias) d = d.alias;
    return d;
  }

  /** The control FD of `d`, reviving it if it was evicted. */
  private fdOf(d: GoferDentry): FdId {
    if (d.fd < 0) d = this.revive(d);
    this.touch(d);
    return d.fd;
  }

  private revive(d: GoferDentry): GoferDentry {
    if (d.unlinked || !d.parent || d === this.rootDentry) fail(Errno.STALE);
    const parent = this.dentry(d.parent);
    const { inodes } = this.conn.rpc('Walk', { dirFd: this.fdOf(parent), names: [d.name] });
    const got = inodes[0];
    this.conn.close(inodes.slice(1).map((x) => x.fd));
    if (!got) fail(Errno.STALE);
    const inTree = parent.children.get(d.name);
    if (got.stat.ino !== d.ino || inTree === null || (inTree && inTree.ino !== d.ino)) {
      this.conn.close([got.fd]);
      fail(Errno.STALE);
    }
    if (inTree) { this.conn.close([got.fd]); d.alias = inTree; return inTree; }
    d.fd = got.fd;
    d.parent = parent;
    this.setChild(parent, d.name, d);
    this.lru.add(d);
    this.evict(d);
    return d;
  }

  /** Puts an inode the gofer returned under `parent.children[name]`, reusing a cached dentry. */
  private insert(parent: GoferDentry, name: string, inode: WireInode): GoferDentry {
    const type = fileTypeOfMode(inode.stat.mode);
    const cached = parent.children.get(name);
    if (cached && cached.ino === inode.stat.ino && cached.type === type) {
      this.conn.close([inode.fd]);
      this.touch(cached);
      return cached;
    }
    if (cached) this.unlinkChild(parent, name); // the host changed it behind our back
    const child = new GoferDentry(this, inode.stat.ino, type, inode.fd, parent, name);
    this.setChild(parent, name, child);
    this.lru.add(child);
    return child;
  }

  /** A create/mkdir/symlink/link made `name`: replaces a negative entry. */
  private added(parent: GoferDentry, name: string, inode: WireInode): GoferDentry {
    const child = this.insert(parent, name, inode);
    this.evict(child);
    return child;
  }

  private remove(dir: Inode, name: string, flags: number): void {
    const d = this.dentry(dir);
    this.conn.rpc('UnlinkAt', { dirFd: this.fdOf(d), name, flags });
    const gone = d.children.get(name);
    if (gone) { this.unlinkChild(d, name); gone.unlinked = true; }
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
      for (const [n, c] of parent.children) if (c === null) { this.unlinkChild(parent, n); break; }
    }
    parent.children.set(name, null);
    parent.negatives++;
  }

  /** Forgets `name` in `parent` (positive or negative); the child dentry itself is left as it is. */
  private unlinkChild(parent: GoferDentry, name: string): void {
    const c = parent.children.get(name);
    if (c === undefined) return;
    parent.children.delete(name);
    if (c === null) parent.negatives--; else parent.positives--;
  }

  private touch(d: GoferDentry): void {
    if (d === this.rootDentry || d.fd < 0) return;
    this.lru.delete(d);
    this.lru.add(d);
  }

  /**
   * Closes the least recently used dentries beyond the bound. Only leaves go: a directory with
   * cached children is moved to the young end instead, since its children need it to be found.
   */
  private evict(keep: GoferDentry | undefined): void {
    let budget = this.lru.size;
    while (this.lru.size > this.maxCached && budget-- > 0) {
      const d = this.lru.values().next().value as GoferDentry;
      this.lru.delete(d);
      if (d === keep || d.positives > 0) { this.lru.add(d); continue; }
      if (d.parent && d.parent.children.get(d.name) === d) this.unlinkChild(d.parent, d.name);
      d.children.clear();
      d.negatives = 0;
      this.conn.close([d.fd]);
      d.fd = -1;
    }
  }

  private toStat(s: WireStat): Stat {
    return {
      dev: this.dev, ino: s.ino, type: fileTypeOfMode(s.mode), nlink: BigInt(s.nlink), size: s.size,
      atim: s.atimeNs, mtim: s.mtimeNs, ctim: s.ctimeNs,
    };
  }
}

/** An open regular file on the gofer: PRead/PWrite chunked to the ring window. */
class GoferFileHandle implements FileHandle {
  private closed = false;

  constructor(private readonly conn: GoferConnection, private readonly fd: FdId) {}

  read(dst: Uint8Array, offset: number): number {
    const chunk = this.conn.windowBytes - 4;
    let total = 0;
    while (total < dst.byteLength) {
      const count = Math.min(chunk, dst.byteLength - total);
      const { data } = this.conn.rpc('PRead', { fd: this.live(), offset: offset + total, count });
      if (data.byteLength > count) fail(Errno.IO);
      dst.set(data, total);
      total += data.byteLength;
      if (data.byteLength < count) break;
    }
    return total;
  }

  /** Chunked: a failure after the first chunk leaves the earlier chunks written (as a short write would). */
  write(src: Uint8Array, offset: number): number {
    const chunk = this.conn.windowBytes - 20;
    let total = 0;
    while (total < src.byteLength) {
      const data = src.subarray(total, total + chunk);
      const { written } = this.conn.rpc('PWrite', { fd: this.live(), offset: offset + total, data });
      if (written === 0 || written > data.byteLength) fail(Errno.IO);
      total += written;
    }
    return total;
  }

  size(): number {
    return Number(this.conn.rpc('FStat', { fd: this.live() }).size);
  }

  sync(dataOnly: boolean): void {
    this.conn.rpc('FSync', { fd: this.live(), dataOnly });
  }

  allocate(offset: number, length: number): void {
    this.conn.rpc('FAllocate', { fd: this.live(), mode: 0, offset, length });
  }

  /** Sent at once (the host file is closed when the guest closes it), with any queued closes. */
  close(): void {
    const fd = this.live();
    this.closed = true;
    this.conn.close([fd], true);
  }

  private live(): FdId {
    if (this.closed) fail(Errno.BADF);
    return this.fd;
  }
}
