import { HELD, type ServerRing } from '../../actors/ring-server.js';
import {
  Advice, FDFLAGS_ALL, FDFLAG_NONBLOCK, FST_ATIM, FST_ATIM_NOW, FST_MTIM, FST_MTIM_NOW, FSTFLAGS_ALL,
  FileType, R, Whence,
} from '../../wasi/abi.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { StatChange } from '../../fs/vfs/filesystem.js';
import { DirectoryDescription, WOULD_BLOCK, type DirentRecord } from '../file-description.js';
import type { Task } from '../task.js';
import { writeFilestat } from './encode.js';
import { FRAME_SLACK } from './protocol.js';

/** Where each fd_* call is served. Every handler reads its whole request before writing the reply. */

export function fdAdvise(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); r.reader.u64(); r.reader.u64(); const advice = r.reader.u8();
  const e = t.fds.need(fd, R.FD_ADVISE);
  if (advice > Advice.NOREUSE) fail(Errno.INVAL);
  if (e.description.filetype === FileType.DIRECTORY) fail(Errno.BADF);
  return 0;
}

export function fdAllocate(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const offset = r.reader.u64(); const len = r.reader.u64();
  const e = t.fds.need(fd, R.FD_ALLOCATE);
  if (offset + len > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.FBIG);
  e.description.allocate(Number(offset), Number(len));
  return 0;
}

export function fdClose(t: Task, r: ServerRing): number {
  const fd = r.reader.u32();
  const e = t.fds.remove(fd);
  if (!t.fds.references(e.description)) e.description.close();
  return 0;
}

export function fdDatasync(t: Task, r: ServerRing): number {
  t.fds.need(r.reader.u32(), R.FD_DATASYNC).description.sync(true);
  return 0;
}

export function fdSync(t: Task, r: ServerRing): number {
  t.fds.need(r.reader.u32(), R.FD_SYNC).description.sync(false);
  return 0;
}

export function fdFdstatGet(t: Task, r: ServerRing): number {
  const e = t.fds.get(r.reader.u32());
  r.writer.u8(e.description.filetype).u32(e.description.fdflags).u64(e.rightsBase).u64(e.rightsInheriting);
  return 0;
}

export function fdFdstatSetFlags(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const flags = r.reader.u32();
  const e = t.fds.need(fd, R.FD_FDSTAT_SET_FLAGS);
  if ((flags & ~FDFLAGS_ALL) !== 0) fail(Errno.INVAL);
  e.description.fdflags = flags;
  return 0;
}

export function fdFdstatSetRights(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const base = r.reader.u64(); const inheriting = r.reader.u64();
  const e = t.fds.get(fd);
  // Rights only ever shrink: asking for one the fd lacks is ENOTCAPABLE.
  if ((base & ~e.rightsBase) !== 0n || (inheriting & ~e.rightsInheriting) !== 0n) fail(Errno.NOTCAPABLE);
  e.rightsBase = base;
  e.rightsInheriting = inheriting;
  return 0;
}

export function fdFilestatGet(t: Task, r: ServerRing): number {
  const e = t.fds.need(r.reader.u32(), R.FD_FILESTAT_GET);
  writeFilestat(r.writer, e.description.stat());
  return 0;
}

export function fdFilestatSetSize(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const size = r.reader.u64();
  const e = t.fds.need(fd, R.FD_FILESTAT_SET_SIZE);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.FBIG);
  e.description.setSize(Number(size));
  return 0;
}

/** fstflags → the times to set; setting a time and asking for "now" at once is EINVAL. */
export function timesChange(atim: bigint, mtim: bigint, fst: number): StatChange {
  if ((fst & ~FSTFLAGS_ALL) !== 0) fail(Errno.INVAL);
  if ((fst & FST_ATIM) && (fst & FST_ATIM_NOW)) fail(Errno.INVAL);
  if ((fst & FST_MTIM) && (fst & FST_MTIM_NOW)) fail(Errno.INVAL);
  const change: StatChange = {};
  if (fst & FST_ATIM_NOW) change.atim = 'now'; else if (fst & FST_ATIM) change.atim = atim;
  if (fst & FST_MTIM_NOW) change.mtim = 'now'; else if (fst & FST_MTIM) change.mtim = mtim;
  return change;
}

export function fdFilestatSetTimes(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const atim = r.reader.u64(); const mtim = r.reader.u64(); const fst = r.reader.u32();
  const e = t.fds.need(fd, R.FD_FILESTAT_SET_TIMES);
  e.description.setTimes(timesChange(atim, mtim, fst));
  return 0;
}

/** The most data one reply may carry. */
function maxData(r: ServerRing, asked: number): number {
  return Math.min(asked, r.writer.capacity - FRAME_SLACK);
}

export function fdPread(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const len = r.reader.u32(); const offset = r.reader.u64();
  const e = t.fds.need(fd, R.FD_READ | R.FD_SEEK);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.INVAL);
  const d = e.description;
  r.writer.bytesFilled(maxData(r, len), (dst) => d.pread(dst, Number(offset)));
  return 0;
}

export function fdPrestatGet(t: Task, r: ServerRing): number {
  const e = t.fds.get(r.reader.u32());
  if (e.preopenName === undefined) fail(Errno.BADF);
  r.writer.u8(0).u32(e.preopenName.byteLength);
  return 0;
}

export function fdPrestatDirName(t: Task, r: ServerRing): number {
  const e = t.fds.get(r.reader.u32());
  if (e.preopenName === undefined) fail(Errno.BADF);
  r.writer.bytes(e.preopenName);
  return 0;
}

export function fdPwrite(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const offset = r.reader.u64(); const data = r.reader.bytesView();
  const e = t.fds.need(fd, R.FD_WRITE | R.FD_SEEK);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.INVAL);
  const n = e.description.pwrite(data, Number(offset));
  r.writer.u32(n);
  return 0;
}

export function fdRead(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const asked = r.reader.u32();
  const e = t.fds.need(fd, R.FD_READ);
  const len = maxData(r, asked);
  const d = e.description;
  const attempt = (): number => {
    const n = r.writer.bytesFilled(len, (dst) => d.read(dst));
    if (n === WOULD_BLOCK) return d.fdflags & FDFLAG_NONBLOCK ? Errno.AGAIN : HELD;
    r.writer.u8(d.filetype === FileType.REGULAR_FILE && n === len ? 1 : 0);
    return 0;
  };
  const status = attempt();
  return status === HELD ? t.hold(attempt) : status;
}

export function fdReaddir(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const bufLen = r.reader.u32(); const cookie = r.reader.u64();
  const e = t.fds.need(fd, R.FD_READDIR);
  const d = e.description;
  if (!(d instanceof DirectoryDescription)) fail(Errno.NOTDIR);
  const limit = maxData(r, bufLen);
  const { list, start } = d.entries(cookie);
  const w = r.writer;
  const lenAt = w.reserve(4);
  const begin = w.pos;
  const view = new DataView(w.window.buffer, w.window.byteOffset, w.window.byteLength);
  for (let i = start; i < list.length; i++) {
    const room = limit - (w.pos - begin);
    if (room <= 0) break;
    const ent = list[i]!;
    const size = DIRENT_BYTES + ent.name.byteLength;
    if (size <= room) {
      putDirent(view, w.reserve(size), i + 1, ent);
      w.window.set(ent.name, w.pos - ent.name.byteLength);
      continue;
    }
    // As much of the entry as fits: a cut entry tells the guest to call again with a larger buffer.
    const rec = new Uint8Array(size);
    putDirent(new DataView(rec.buffer), 0, i + 1, ent);
    rec.set(ent.name, DIRENT_BYTES);
    w.window.set(rec.subarray(0, room), w.reserve(room));
  }
  view.setUint32(lenAt, w.pos - begin, true);
  return 0;
}

/** A WASI dirent's fixed part: d_next u64, d_ino u64, d_namlen u32, d_type u8, 3 bytes of padding. */
const DIRENT_BYTES = 24;

function putDirent(v: DataView, at: number, next: number, ent: DirentRecord): void {
  v.setBigUint64(at, BigInt(next), true);
  v.setBigUint64(at + 8, ent.ino, true);
  v.setUint32(at + 16, ent.name.byteLength, true);
  v.setUint32(at + 20, ent.type, true); // d_type, and zeros for the padding
}

export function fdRenumber(t: Task, r: ServerRing): number {
  const from = r.reader.u32(); const to = r.reader.u32();
  const old = t.fds.renumber(from, to);
  if (old !== undefined && !t.fds.references(old.description)) old.description.close();
  return 0;
}

export function fdSeek(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const offset = r.reader.i64(); const whence = r.reader.u8();
  // A pure position query needs only FD_TELL (wasi-libc's ftell is seek(0, CUR)).
  const right = offset === 0n && whence === Whence.CUR ? R.FD_TELL : R.FD_SEEK;
  const e = t.fds.need(fd, right);
  if (whence > Whence.END) fail(Errno.INVAL);
  r.writer.u64(e.description.seek(offset, whence as Whence));
  return 0;
}

export function fdTell(t: Task, r: ServerRing): number {
  const e = t.fds.need(r.reader.u32(), R.FD_TELL);
  r.writer.u64(e.description.tell());
  return 0;
}

export function fdWrite(t: Task, r: ServerRing): number {
  const fd = r.reader.u32(); const data = r.reader.bytesView();
  const e = t.fds.need(fd, R.FD_WRITE);
  const n = e.description.write(data);
  r.writer.u32(n);
  return 0;
}
