import { randomFillSync } from 'node:crypto';
import { copyBytes } from '../actors/byte-copy.js';
import { RingClosedError, type RingClient } from '../actors/ring-client.js';
import { FrameError } from '../actors/frame.js';
import { ClockId, EVENT_SIZE, FDSTAT_SIZE, FILESTAT_SIZE, SUBSCRIPTION_SIZE } from '../wasi/abi.js';
import { Errno, SyscallError, fail } from '../wasi/errno.js';
import { FdstatCache } from './fdstat-cache.js';
import { GuestMemory } from './guest-memory.js';
import { FRAME_SLACK, Sys } from './syscalls/protocol.js';

/** Thrown through the guest's frames to end it: proc_exit, or a signal raised by proc_raise. */
export class ProcExit {
  constructor(readonly code: number, readonly signal?: number) {}
}

/** Highest WASI signal number (SIGSYS). */
const MAX_SIGNAL = 30;

type ImportFn = (...args: never[]) => number | undefined;

/**
 * The wasi_snapshot_preview1 imports of one task. Each call either stays here (pure and local) or
 * becomes one request on the task's ring; nothing reaches the host.
 */
export function createWasiImports(ring: RingClient, mem: GuestMemory, args: readonly string[], env: readonly string[]): Record<string, ImportFn> {
  const w = ring.writer;
  const rd = ring.reader;
  const chunk = ring.windowBytes - FRAME_SLACK;
  const argBytes = args.map((a) => Buffer.from(`${a}\0`));
  const envBytes = env.map((e) => Buffer.from(`${e}\0`));
  const fdstats = new FdstatCache();

  /** Sends what `w` holds; a non-zero status is the call's errno. */
  const call = (code: Sys): void => {
    const status = ring.call(code);
    if (status !== 0) fail(status as Errno);
  };
  const path = (ptr: number, len: number): void => { w.bytes(mem.bytes(ptr, len)); };

  const listSizes = (list: Buffer[], countPtr: number, sizePtr: number): number => {
    mem.setU32(countPtr, list.length);
    mem.setU32(sizePtr, list.reduce((n, b) => n + b.byteLength, 0));
    return 0;
  };
  const listGet = (list: Buffer[], ptrs: number, buf: number): number => {
    const total = list.reduce((n, b) => n + b.byteLength, 0);
    mem.check(ptrs, list.length * 4);
    mem.check(buf, total);
    let at = buf >>> 0;
    list.forEach((b, i) => { mem.setU32(ptrs + i * 4, at); mem.u8.set(b, at); at += b.byteLength; });
    return 0;
  };

  const impl: Record<string, (...a: never[]) => number | undefined> = {
    args_sizes_get: (c: number, s: number) => listSizes(argBytes, c, s),
    args_get: (p: number, b: number) => listGet(argBytes, p, b),
    environ_sizes_get: (c: number, s: number) => listSizes(envBytes, c, s),
    environ_get: (p: number, b: number) => listGet(envBytes, p, b),

    clock_res_get: (id: number, out: number) => {
      if (id === ClockId.REALTIME || id === ClockId.MONOTONIC) mem.setU64(out, 1000n);
      else if (id === ClockId.PROCESS_CPUTIME || id === ClockId.THREAD_CPUTIME) mem.setU64(out, 1000n);
      else fail(Errno.INVAL);
      return 0;
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      mem.check(out, 8);
      let t: bigint;
      if (id === ClockId.REALTIME) t = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
      else if (id === ClockId.MONOTONIC) t = process.hrtime.bigint();
      else if (id === ClockId.PROCESS_CPUTIME || id === ClockId.THREAD_CPUTIME) {
        const u = process.cpuUsage();
        t = BigInt(u.user + u.system) * 1000n;
      } else return fail(Errno.INVAL);
      mem.setU64(out, t);
      return 0;
    },
    random_get: (buf: number, len: number) => {
      const dst = mem.bytes(buf, len);
      for (let at = 0; at < dst.byteLength; at += 65536) randomFillSync(dst, at, Math.min(65536, dst.byteLength - at));
      return 0;
    },
    sched_yield: () => 0,
    proc_exit: (code: number) => {
      w.reset().u32(code >>> 0);
      try { ring.call(Sys.PROC_EXIT); } catch { /* ending anyway */ }
      throw new ProcExit(code >>> 0);
    },
    proc_raise: (sig: number) => {
      if (sig === 0) return 0;
      if (sig < 0 || sig > MAX_SIGNAL) fail(Errno.INVAL);
      // Every signal's default action ends the process; the status is the shell's 128 + n.
      throw new ProcExit(128 + sig, sig);
    },

    fd_advise: (fd: number, offset: bigint, len: bigint, advice: number) => {
      w.reset().u32(fd).u64(offset).u64(len).u8(advice); call(Sys.FD_ADVISE); return 0;
    },
    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      w.reset().u32(fd).u64(offset).u64(len); call(Sys.FD_ALLOCATE); return 0;
    },
    fd_close: (fd: number) => { fdstats.forget(fd); w.reset().u32(fd); call(Sys.FD_CLOSE); return 0; },
    fd_datasync: (fd: number) => { w.reset().u32(fd); call(Sys.FD_DATASYNC); return 0; },
    fd_sync: (fd: number) => { w.reset().u32(fd); call(Sys.FD_SYNC); return 0; },
    fd_fdstat_get: (fd: number, out: number) => {
      mem.check(out, FDSTAT_SIZE);
      if (fdstats.copyTo(fd, mem.u8, out >>> 0)) return 0;
      w.reset().u32(fd); call(Sys.FD_FDSTAT_GET);
      const type = rd.u8(); const flags = rd.u32(); const base = rd.u64(); const inh = rd.u64();
      const v = mem.view; const p = out >>> 0;
      v.setUint8(p, type); v.setUint8(p + 1, 0); v.setUint16(p + 2, flags, true); v.setUint32(p + 4, 0, true);
      v.setBigUint64(p + 8, base, true); v.setBigUint64(p + 16, inh, true);
      fdstats.keep(fd, mem.u8, p);
      return 0;
    },
    fd_fdstat_set_flags: (fd: number, flags: number) => {
      fdstats.forget(fd); w.reset().u32(fd).u32(flags & 0xffff); call(Sys.FD_FDSTAT_SET_FLAGS); return 0;
    },
    fd_fdstat_set_rights: (fd: number, base: bigint, inh: bigint) => {
      fdstats.forget(fd); w.reset().u32(fd).u64(base).u64(inh); call(Sys.FD_FDSTAT_SET_RIGHTS); return 0;
    },
    fd_filestat_get: (fd: number, out: number) => {
      mem.check(out, FILESTAT_SIZE);
      w.reset().u32(fd); call(Sys.FD_FILESTAT_GET);
      copyOut(out, FILESTAT_SIZE);
      return 0;
    },
    fd_filestat_set_size: (fd: number, size: bigint) => { w.reset().u32(fd).u64(size); call(Sys.FD_FILESTAT_SET_SIZE); return 0; },
    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, fst: number) => {
      w.reset().u32(fd).u64(atim).u64(mtim).u32(fst & 0xffff); call(Sys.FD_FILESTAT_SET_TIMES); return 0;
    },
    fd_pread: (fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      mem.check(out, 4);
      const total = readInto(mem.iovecs(iovs, n), (len) => { w.reset().u32(fd).u32(len).u64(offset); call(Sys.FD_PREAD); return true; },
        (got) => { offset += BigInt(got); });
      mem.setU32(out, total);
      return 0;
    },
    fd_read: (fd: number, iovs: number, n: number, out: number) => {
      mem.check(out, 4);
      const total = readInto(mem.iovecs(iovs, n), (len) => { w.reset().u32(fd).u32(len); call(Sys.FD_READ); return true; }, undefined, true);
      mem.setU32(out, total);
      return 0;
    },
    fd_pwrite: (fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      mem.check(out, 4);
      const total = writeFrom(mem.iovecs(iovs, n), (data) => {
        w.reset().u32(fd).u64(offset); w.bytes(data); call(Sys.FD_PWRITE);
        const k = rd.u32(); offset += BigInt(k); return k;
      });
      mem.setU32(out, total);
      return 0;
    },
    fd_write: (fd: number, iovs: number, n: number, out: number) => {
      mem.check(out, 4);
      const total = writeFrom(mem.iovecs(iovs, n), (data) => { w.reset().u32(fd); w.bytes(data); call(Sys.FD_WRITE); return rd.u32(); });
      mem.setU32(out, total);
      return 0;
    },
    fd_prestat_get: (fd: number, out: number) => {
      mem.check(out, 8);
      w.reset().u32(fd); call(Sys.FD_PRESTAT_GET);
      const tag = rd.u8(); const len = rd.u32();
      mem.view.setUint32(out >>> 0, tag, true); mem.setU32(out + 4, len);
      return 0;
    },
    fd_prestat_dir_name: (fd: number, buf: number, len: number) => {
      const dst = mem.bytes(buf, len);
      w.reset().u32(fd); call(Sys.FD_PRESTAT_DIR_NAME);
      const name = rd.bytesView();
      if (name.byteLength > dst.byteLength) fail(Errno.NAMETOOLONG);
      dst.set(name);
      return 0;
    },
    fd_readdir: (fd: number, buf: number, len: number, cookie: bigint, out: number) => {
      const dst = mem.bytes(buf, len);
      mem.check(out, 4);
      w.reset().u32(fd).u32(len >>> 0).u64(cookie); call(Sys.FD_READDIR);
      const data = rd.bytesView();
      const n = Math.min(data.byteLength, dst.byteLength);
      copyBytes(dst, data.subarray(0, n));
      mem.setU32(out, n);
      return 0;
    },
    fd_renumber: (from: number, to: number) => {
      fdstats.forget(from); fdstats.forget(to); w.reset().u32(from).u32(to); call(Sys.FD_RENUMBER); return 0;
    },
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
      mem.check(out, 8);
      w.reset().u32(fd).i64(offset).u8(whence & 0xff); if (whence >>> 0 > 255) fail(Errno.INVAL);
      call(Sys.FD_SEEK);
      mem.setU64(out, rd.u64());
      return 0;
    },
    fd_tell: (fd: number, out: number) => {
      mem.check(out, 8);
      w.reset().u32(fd); call(Sys.FD_TELL); mem.setU64(out, rd.u64()); return 0;
    },

    path_create_directory: (fd: number, p: number, l: number) => { w.reset().u32(fd); path(p, l); call(Sys.PATH_CREATE_DIRECTORY); return 0; },
    path_filestat_get: (fd: number, flags: number, p: number, l: number, out: number) => {
      mem.check(out, FILESTAT_SIZE);
      w.reset().u32(fd).u32(flags); path(p, l); call(Sys.PATH_FILESTAT_GET);
      copyOut(out, FILESTAT_SIZE);
      return 0;
    },
    path_filestat_set_times: (fd: number, flags: number, p: number, l: number, atim: bigint, mtim: bigint, fst: number) => {
      w.reset().u32(fd).u32(flags); path(p, l); w.u64(atim).u64(mtim).u32(fst & 0xffff);
      call(Sys.PATH_FILESTAT_SET_TIMES); return 0;
    },
    path_link: (oldFd: number, oldFlags: number, op: number, ol: number, newFd: number, np: number, nl: number) => {
      w.reset().u32(oldFd).u32(oldFlags); path(op, ol); w.u32(newFd); path(np, nl); call(Sys.PATH_LINK); return 0;
    },
    path_open: (fd: number, dirflags: number, p: number, l: number, oflags: number, base: bigint, inh: bigint, fdflags: number, out: number) => {
      mem.check(out, 4);
      w.reset().u32(fd).u32(dirflags); path(p, l); w.u32(oflags & 0xffff).u64(base).u64(inh).u32(fdflags & 0xffff);
      call(Sys.PATH_OPEN);
      const opened = rd.u32();
      fdstats.forget(opened);
      mem.setU32(out, opened);
      return 0;
    },
    path_readlink: (fd: number, p: number, l: number, buf: number, len: number, out: number) => {
      const dst = mem.bytes(buf, len);
      mem.check(out, 4);
      w.reset().u32(fd); path(p, l); w.u32(len >>> 0); call(Sys.PATH_READLINK);
      const data = rd.bytesView();
      copyBytes(dst, data.subarray(0, Math.min(data.byteLength, dst.byteLength)));
      mem.setU32(out, Math.min(data.byteLength, dst.byteLength));
      return 0;
    },
    path_remove_directory: (fd: number, p: number, l: number) => { w.reset().u32(fd); path(p, l); call(Sys.PATH_REMOVE_DIRECTORY); return 0; },
    path_rename: (fd: number, op: number, ol: number, newFd: number, np: number, nl: number) => {
      w.reset().u32(fd); path(op, ol); w.u32(newFd); path(np, nl); call(Sys.PATH_RENAME); return 0;
    },
    path_symlink: (op: number, ol: number, fd: number, np: number, nl: number) => {
      w.reset(); path(op, ol); w.u32(fd); path(np, nl); call(Sys.PATH_SYMLINK); return 0;
    },
    path_unlink_file: (fd: number, p: number, l: number) => { w.reset().u32(fd); path(p, l); call(Sys.PATH_UNLINK_FILE); return 0; },

    poll_oneoff: (inPtr: number, outPtr: number, n: number, neventsPtr: number) => {
      const count = n >>> 0;
      mem.check(neventsPtr, 4);
      if (count === 0) fail(Errno.INVAL);
      const subs = mem.bytes(inPtr, count * SUBSCRIPTION_SIZE);
      const events = mem.bytes(outPtr, count * EVENT_SIZE);
      if (count * SUBSCRIPTION_SIZE + 4 > chunk) fail(Errno.INVAL);
      w.reset().u32(count);
      w.window.set(subs, w.reserve(subs.byteLength));
      call(Sys.POLL_ONEOFF);
      const got = Math.min(Math.floor(rd.remaining / EVENT_SIZE), count);
      events.set(rd.window.subarray(rd.pos, rd.pos + got * EVENT_SIZE));
      mem.setU32(neventsPtr, got);
      return 0;
    },

    sock_accept: (fd: number, flags: number, out: number) => {
      mem.check(out, 4); w.reset().u32(fd).u32(flags); call(Sys.SOCK_ACCEPT);
      const accepted = rd.u32();
      fdstats.forget(accepted);
      mem.setU32(out, accepted);
      return 0;
    },
    sock_recv: (fd: number, iovs: number, n: number, flags: number, outLen: number, outFlags: number) => {
      mem.iovecs(iovs, n); mem.check(outLen, 4); mem.check(outFlags, 2);
      w.reset().u32(fd).u32(0).u32(flags); call(Sys.SOCK_RECV); return 0;
    },
    sock_send: (fd: number, iovs: number, n: number, flags: number, out: number) => {
      mem.iovecs(iovs, n); mem.check(out, 4);
      w.reset().u32(fd).u32(0).u32(flags); call(Sys.SOCK_SEND); return 0;
    },
    sock_shutdown: (fd: number, how: number) => { w.reset().u32(fd).u8(how); call(Sys.SOCK_SHUTDOWN); return 0; },
  };

  function copyOut(out: number, size: number): void {
    if (rd.remaining < size) fail(Errno.IO);
    mem.u8.set(rd.window.subarray(rd.pos, rd.pos + size), out >>> 0);
  }

  /**
   * Fills iovecs from replies carrying `bytes` (plus, with `moreFlag`, a u8 saying another request
   * may find more now). Stops at a short reply, so a blocking read waits at most once.
   */
  function readInto(iovs: Array<{ ptr: number; len: number }>, request: (len: number) => boolean, advance?: (got: number) => void, moreFlag = false): number {
    let total = 0;
    // No buffers still asks the Sentry, so a bad fd or a missing right is reported.
    if (iovs.every((v) => v.len === 0)) { request(0); return 0; }
    for (const iov of iovs) {
      let filled = 0;
      while (filled < iov.len) {
        const want = Math.min(iov.len - filled, chunk);
        request(want);
        const data = rd.bytesView();
        const more = moreFlag ? rd.u8() === 1 : true;
        const got = Math.min(data.byteLength, want);
        copyBytes(mem.u8, data.subarray(0, got), iov.ptr + filled);
        filled += got; total += got;
        advance?.(got);
        if (got < want || (moreFlag && !more)) return total;
      }
    }
    return total;
  }

  /** Sends iovecs in window-sized requests; stops at a short write. */
  function writeFrom(iovs: Array<{ ptr: number; len: number }>, send: (data: Uint8Array) => number): number {
    const nonEmpty = iovs.filter((v) => v.len > 0);
    if (nonEmpty.length === 0) return send(new Uint8Array(0));
    // Gather small iovecs into one request: printf's two-iovec writes cost one round trip, not two.
    const sum = nonEmpty.reduce((n, v) => n + v.len, 0);
    if (sum <= chunk) {
      const data = new Uint8Array(sum);
      let at = 0;
      for (const v of nonEmpty) { data.set(mem.u8.subarray(v.ptr, v.ptr + v.len), at); at += v.len; }
      return send(data);
    }
    let total = 0;
    for (const v of nonEmpty) {
      for (let off = 0; off < v.len;) {
        const n = Math.min(chunk, v.len - off);
        const k = send(mem.u8.subarray(v.ptr + off, v.ptr + off + n));
        total += k; off += k;
        if (k < n) return total;
      }
    }
    return total;
  }

  const wrapped: Record<string, ImportFn> = {};
  for (const [name, fn] of Object.entries(impl)) {
    wrapped[name] = (...a: never[]) => {
      try {
        return fn(...a);
      } catch (e) {
        if (e instanceof SyscallError) return e.errno;
        if (e instanceof FrameError) return Errno.IO;
        if (e instanceof ProcExit || e instanceof RingClosedError) throw e;
        throw e;
      }
    };
  }
  return wrapped;
}
