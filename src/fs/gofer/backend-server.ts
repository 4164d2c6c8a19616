import { copyBytes } from '../../actors/byte-copy.js';
import { FileType } from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { BackendStat, GoferBackend } from './gofer-backend.js';
import { ProtocolServer } from './protocol-server.js';
import {
  DIRENT_WIRE_OVERHEAD, M, OPEN_ACCMODE, OPEN_RDONLY, OPEN_TRUNC, WIRE_INODE_BYTES, WIRE_STAT_BYTES, WalkStatus,
  XATTR_LIST_MAX, XATTR_SIZE_MAX, checkName, checkXattrName,
  fileTypeOfMode, putPReadResp, type FdId, type ReqOf, type RespOf, type WireInode, type WireStat,
} from './protocol.js';

const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000;
const DT = { file: 8, directory: 4, symlink: 10 } as const;

interface Open<N> { node: N; type: FileType; pos: number; names?: string[] }

/**
 * The gofer protocol served from a GoferBackend: the same message table and rules as the host
 * gofer (ProtocolServer), over nodes instead of host FDs. Read-only: every mutating message is
 * registered so that it answers EROFS, never ENOTSUP.
 */
export class BackendServer<N> extends ProtocolServer {
  private readonly controls = new Map<FdId, N>();
  private readonly opens = new Map<FdId, Open<N>>();
  /** Stable inode numbers per node, so the Sentry's cache and hard-link checks see one file. */
  private readonly inos = new Map<N, bigint>();
  private readonly loadedNs = BigInt(Date.now()) * 1_000_000n;
  private nextId = 1;

  constructor(private readonly backend: GoferBackend<N>) {
    super(true);
    this.register();
  }

  stats(): { counts: Record<string, number>; controlFds: number; openFds: number } {
    return { counts: { ...this.counts }, controlFds: this.controls.size, openFds: this.opens.size };
  }

  release(): void {
    this.controls.clear();
    this.opens.clear();
  }

  private register(): void {
    for (const m of Object.values(M)) if (m.mutates) this.on(m as typeof M.SetStat, () => fail(Errno.ROFS));
    this.on(M.Mount, () => ({ root: this.addControl(this.backend.root()), readOnly: true }));
    this.on(M.FStat, ({ fd }) => this.wireStat(this.node(fd)));
    this.on(M.Walk, (q, window) => this.walk(q, window));
    this.on(M.WalkStat, (q, window) => this.walkStat(q, window));
    this.on(M.OpenAt, (q) => this.openAt(q));
    this.on(M.Close, ({ fds }) => { for (const id of fds) { this.controls.delete(id); this.opens.delete(id); } return {}; });
    this.on(M.FSync, ({ fd }) => { this.open(fd); return {}; });
    this.onRaw(M.PRead, ({ fd, offset, count }, w) => {
      const f = this.open(fd);
      if (f.type !== FileType.REGULAR_FILE) fail(f.type === FileType.DIRECTORY ? Errno.ISDIR : Errno.BADF);
      putPReadResp(w, count, (dst) => {
        const data = this.backend.read(f.node, offset, Math.min(count, dst.byteLength));
        const n = Math.min(data.byteLength, dst.byteLength, count);
        copyBytes(dst, data.subarray(0, n));
        return n;
      });
    });
    this.on(M.ReadLinkAt, ({ fd }) => {
      const node = this.control(fd);
      if (this.typeOf(node) !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
      return { target: this.backend.readlink(node) };
    });
    this.on(M.FStatFS, () => ({ type: 0x61736221n, bsize: 4096n, blocks: 0n, bfree: 0n, bavail: 0n, files: BigInt(this.inos.size), ffree: 0n, namelen: 255n }));
    this.on(M.Getdents64, (q, window) => this.getdents(q, window));
    // A backend has no extended attributes: an empty list, and every name missing (ENODATA → NOENT).
    this.on(M.FListXattr, ({ fd, size }) => {
      this.node(fd);
      if (size > XATTR_LIST_MAX) fail(Errno.INVAL);
      return { names: [] };
    });
    this.on(M.FGetXattr, ({ fd, name, size }) => {
      this.node(fd);
      const bad = checkXattrName(name);
      if (bad !== Errno.SUCCESS) fail(bad);
      if (size > XATTR_SIZE_MAX) fail(Errno.INVAL);
      return fail(Errno.NOENT);
    });
  }

  private walk({ dirFd, names }: ReqOf<'Walk'>, window: number): RespOf<'Walk'> {
    let cur = this.dir(dirFd);
    names.forEach(safeName);
    if (5 + names.length * WIRE_INODE_BYTES > window) fail(Errno.INVAL);
    const inodes: WireInode[] = [];
    let status = WalkStatus.Success;
    for (let i = 0; i < names.length; i++) {
      const child = this.backend.lookup(cur, names[i]!);
      if (child === undefined) { status = WalkStatus.NotExist; break; }
      const inode = this.addControl(child);
      inodes.push(inode);
      const type = fileTypeOfMode(inode.stat.mode);
      if (type === FileType.SYMBOLIC_LINK) { status = WalkStatus.Symlink; break; }
      if (type !== FileType.DIRECTORY && i + 1 < names.length) { status = WalkStatus.NotDirectory; break; }
      cur = child;
    }
    return { status, inodes };
  }

  private walkStat({ dirFd, names }: ReqOf<'WalkStat'>, window: number): RespOf<'WalkStat'> {
    let cur = this.dir(dirFd);
    if (4 + names.length * WIRE_STAT_BYTES > window) fail(Errno.INVAL);
    const rest = names[0] === '' ? names.slice(1) : names;
    rest.forEach(safeName);
    const stats: WireStat[] = rest !== names ? [this.wireStat(cur)] : [];
    for (const name of rest) {
      const child = this.backend.lookup(cur, name);
      if (child === undefined) break;
      const stat = this.wireStat(child);
      stats.push(stat);
      if (fileTypeOfMode(stat.mode) !== FileType.DIRECTORY) break;
      cur = child;
    }
    return { stats };
  }

  private openAt({ fd, flags }: ReqOf<'OpenAt'>): RespOf<'OpenAt'> {
    if ((flags & ~(OPEN_ACCMODE | OPEN_TRUNC)) !== 0 || (flags & OPEN_ACCMODE) === OPEN_ACCMODE) fail(Errno.INVAL);
    if (flags !== OPEN_RDONLY) fail(Errno.ROFS);
    const node = this.control(fd);
    const type = this.typeOf(node);
    if (type !== FileType.REGULAR_FILE && type !== FileType.DIRECTORY) fail(Errno.LOOP);
    const id = this.nextId++;
    this.opens.set(id, { node, type, pos: 0 });
    return { openFd: id };
  }

  private getdents({ fd, count }: ReqOf<'Getdents64'>, window: number): RespOf<'Getdents64'> {
    const f = this.open(fd);
    if (f.type !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    f.names ??= ['.', '..', ...this.backend.readdir(f.node)];
    let budget = Math.min(Math.abs(count), window) - 8;
    const dirents: RespOf<'Getdents64'>['dirents'] = [];
    while (f.pos < f.names.length) {
      const name = f.names[f.pos]!;
      const cost = DIRENT_WIRE_OVERHEAD + Buffer.byteLength(name);
      if (cost > budget) { if (dirents.length === 0) fail(Errno.INVAL); break; }
      budget -= cost;
      const node = name === '.' || name === '..' ? f.node : this.backend.lookup(f.node, name);
      f.pos++;
      if (node === undefined) continue; // gone since readdir
      const st = name === '.' || name === '..' ? { type: 'directory' as const } : this.backend.stat(node);
      dirents.push({ ino: this.inoOf(node), off: BigInt(f.pos), type: DT[st.type], name });
    }
    return { dirents };
  }

  // ---- ids and nodes ----------------------------------------------------------------------------

  private addControl(node: N): WireInode {
    const id = this.nextId++;
    this.controls.set(id, node);
    return { fd: id, stat: this.wireStat(node) };
  }

  private control(fd: FdId): N {
    const n = this.controls.get(fd);
    if (n === undefined) fail(Errno.BADF);
    return n;
  }

  private node(fd: FdId): N {
    return this.controls.get(fd) ?? this.open(fd).node;
  }

  private open(fd: FdId): Open<N> {
    return this.opens.get(fd) ?? fail(Errno.BADF);
  }

  private dir(fd: FdId): N {
    const n = this.control(fd);
    if (this.typeOf(n) !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    return n;
  }

  private typeOf(node: N): FileType {
    const t = this.backend.stat(node).type;
    return t === 'file' ? FileType.REGULAR_FILE : t === 'directory' ? FileType.DIRECTORY : FileType.SYMBOLIC_LINK;
  }

  private inoOf(node: N): bigint {
    let ino = this.inos.get(node);
    if (ino === undefined) { ino = BigInt(this.inos.size + 2); this.inos.set(node, ino); }
    return ino;
  }

  private wireStat(node: N): WireStat {
    const s: BackendStat = this.backend.stat(node);
    const kind = s.type === 'file' ? S_IFREG : s.type === 'directory' ? S_IFDIR : S_IFLNK;
    const perm = (s.mode ?? (s.type === 'file' ? 0o444 : s.type === 'directory' ? 0o555 : 0o777)) & 0o7777;
    const size = Math.max(0, Math.floor(s.size));
    const t = s.mtimeMs === undefined ? this.loadedNs : BigInt(Math.floor(s.mtimeMs)) * 1_000_000n;
    return {
      ino: this.inoOf(node), dev: 0n, mode: kind | perm, nlink: s.type === 'directory' ? 2 : 1, uid: 0, gid: 0,
      size: BigInt(size), blocks: BigInt(Math.ceil(size / 512)), atimeNs: t, mtimeNs: t, ctimeNs: t,
    };
  }
}

function safeName(name: string): void {
  const e = checkName(name);
  if (e !== Errno.SUCCESS) fail(e);
}
