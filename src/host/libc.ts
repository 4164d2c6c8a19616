/**
 * Thin typed bindings to the Linux syscalls the host-side actors make (gofer today; the host actor's
 * unshare/mount/pivot_root/sendmsg later), through koffi into glibc. Each wrapper returns the
 * result or throws the WASI errno of the failure (`fail(errnoFromLinux(errno))`), so callers speak
 * errnos only. x86_64 Linux values throughout. Buffers are passed by pointer, never copied: a
 * Uint8Array over a SharedArrayBuffer (a ring window) works, so PRead lands in the window directly.
 */
import koffi from 'koffi';
import { Errno, errnoFromLinux, fail } from '../wasi/errno.js';

const libc = koffi.load('libc.so.6');

// ---- constants ----------------------------------------------------------------------------------

export const AT_FDCWD = -100;

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000, O_PATH = 0o10000000;

export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;

export const RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;

export const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;

export const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

export const F_DUPFD_CLOEXEC = 1030;

export const S_IFMT = 0o170000, S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFDIR = 0o040000;
export const S_IFBLK = 0o060000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFSOCK = 0o140000;

export const DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

export const SYS_openat2 = 437;
export const PATH_MAX = 4096;

const STATX_BASIC_STATS = 0x7ff;

// ---- raw bindings -------------------------------------------------------------------------------
// openat, fcntl and syscall are variadic in C. They are declared here with fixed parameters: on
// x86_64 the integer registers are the same either way, glibc's syscall() is assembly that never
// calls va_arg, and koffi's fixed-signature calls skip the per-call type parsing of variadic ones.

const c = {
  openat: libc.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)'),
  openat2: libc.func('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)'),
  close: libc.func('int close(int fd)'),
  fcntl: libc.func('int fcntl(int fd, int cmd, int arg)'),
  statx: libc.func('int statx(int dirfd, const char *path, int flags, uint32_t mask, void *buf)'),
  fstatfs: libc.func('int fstatfs(int fd, void *buf)'),
  mkdirat: libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  unlinkat: libc.func('int unlinkat(int dirfd, const char *path, int flags)'),
  renameat2: libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, uint32_t flags)'),
  linkat: libc.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)'),
  symlinkat: libc.func('int symlinkat(const char *target, int newdirfd, const char *linkpath)'),
  readlinkat: libc.func('intptr_t readlinkat(int dirfd, const char *path, void *buf, size_t size)'),
  pread: libc.func('intptr_t pread64(int fd, void *buf, size_t count, int64_t offset)'),
  pwrite: libc.func('intptr_t pwrite64(int fd, const void *buf, size_t count, int64_t offset)'),
  lseek: libc.func('int64_t lseek64(int fd, int64_t offset, int whence)'),
  ftruncate: libc.func('int ftruncate64(int fd, int64_t length)'),
  fsync: libc.func('int fsync(int fd)'),
  fdatasync: libc.func('int fdatasync(int fd)'),
  fallocate: libc.func('int fallocate64(int fd, int mode, int64_t offset, int64_t len)'),
  getdents64: libc.func('intptr_t getdents64(int fd, void *buf, size_t count)'),
  utimensat: libc.func('int utimensat(int dirfd, const char *path, void *times, int flags)'),
  flistxattr: libc.func('intptr_t flistxattr(int fd, void *list, size_t size)'),
  fgetxattr: libc.func('intptr_t fgetxattr(int fd, const char *name, void *value, size_t size)'),
};

/** The Linux errno of the last failed call on this thread (koffi saves it right after the call). */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws the WASI errno of the call that just failed. */
function failErrno(): never {
  fail(errnoFromLinux(lastErrno()));
}

/** Checks a C result: negative means failure and errno says why. */
function check(r: number): number {
  if (r < 0) failErrno();
  return r;
}

/** koffi ends a C string at the first NUL, which would silently shorten a name: refuse it instead. */
function cstr(s: string): string {
  if (s.includes('\0')) fail(Errno.INVAL);
  return s;
}

// ---- files and descriptors ----------------------------------------------------------------------

export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check(c.openat(dirfd, cstr(path), flags, mode) as number);
}

const openHow = Buffer.alloc(24);
// struct open_how is three u64s (flags, mode, resolve); ours fit their low halves, so they are
// written as u32s, not as BigInts made per call: a directfs walk opens each new directory.
const openHow32 = new Uint32Array(openHow.buffer, openHow.byteOffset, 6);
/** openat2(2): `resolve` is a RESOLVE_* mask. ENOSYS on kernels before 5.6. */
export function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  openHow32[0] = flags;
  openHow32[2] = mode;
  openHow32[4] = resolve;
  return check(Number(c.openat2(SYS_openat2, dirfd, cstr(path), openHow, openHow.byteLength)));
}

export function close(fd: number): void {
  check(c.close(fd) as number);
}

/**
 * This process's fd directory, reached through `proc` (an FD on a procfs root the host actor
 * donated): "self" is resolved for the caller, so it names our own fd table.
 */
export function openSelfFdDir(proc: number): number {
  return openat(proc, 'self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/** A new close-on-exec descriptor for the same open file. */
export function dupCloexec(fd: number): number {
  return check(c.fcntl(fd, F_DUPFD_CLOEXEC, 0) as number);
}

/**
 * Grows this process's fd table to at least `slots` entries now, by duplicating `fd` high and
 * closing the copy. In a multi-threaded process each growth of the table waits for an RCU grace
 * period (milliseconds here): left to happen while serving, the doublings up to ~1000 cached
 * host FDs stall single syscalls of the guest for that long. The table never shrinks, so once is
 * enough. Best effort: under a lower RLIMIT_NOFILE the table cannot grow past it anyway.
 */
export function reserveFdTable(fd: number, slots: number): void {
  for (let n = slots; n >= 256; n >>= 1) {
    const copy = c.fcntl(fd, F_DUPFD_CLOEXEC, n - 1) as number;
    if (copy >= 0) { c.close(copy); return; }
  }
}

export function lseek(fd: number, offset: number, whence: number): number {
  return check(Number(c.lseek(fd, offset, whence)));
}

// ---- metadata -----------------------------------------------------------------------------------

/** What statx(2) reports, in the widths the kernel gives. Times are nanoseconds since the epoch. */
export interface HostStat {
  dev: bigint;
  ino: bigint;
  /** File type and permission bits (S_IFMT | 0o7777). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const statxBuf = Buffer.alloc(256);
// Typed views, so each field is one load and each u64 one BigInt, not Buffer's readBigUInt64LE
// (two BigInts and a shift per field): a directfs stat that misses the cache decodes one of these.
const statx32 = new Uint32Array(statxBuf.buffer, statxBuf.byteOffset, 64);
const statxU64 = new BigUint64Array(statxBuf.buffer, statxBuf.byteOffset, 32);
const statxI64 = new BigInt64Array(statxBuf.buffer, statxBuf.byteOffset, 32);

function makedev(major: number, minor: number): bigint {
  // glibc's makedev: the 64-bit dev_t splits major and minor into low and high parts.
  if (major >>> 0 < 0x1000 && minor >>> 0 < 0x100) return BigInt((major << 8) | minor); // the common case, without BigInt arithmetic
  const ma = BigInt(major >>> 0), mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

const nsParts = new Uint32Array(2);
const nsValue = new BigInt64Array(nsParts.buffer);

/**
 * The statx_timestamp at 32-bit slot `at`, in nanoseconds. BigInt arithmetic would make four
 * BigInts a time, twelve a stat: for seconds in [0, 2^32) (1970–2106) the 64-bit sum is formed
 * exactly from doubles below 2^53 and read back as one BigInt instead.
 */
function statxTime(at: number): bigint {
  const nsec = statx32[at + 2]!;
  if (statx32[at + 1] !== 0) return statxI64[at >> 1]! * 1_000_000_000n + BigInt(nsec);
  // sec = sh·2^16 + sl, so sec·10^9 + nsec = (sh·10^9)·2^16 + (sl·10^9 + nsec), each term exact.
  const sec = statx32[at]!, sh = sec >>> 16, sl = sec & 0xffff;
  const high = sh * 1e9, low = sl * 1e9 + nsec;
  const highLo = high % 65536; // high·2^16 = (high − highLo)/2^16 · 2^32 + highLo·2^16
  const sumLo = highLo * 65536 + low;
  const lo32 = sumLo % 4294967296;
  nsParts[0] = lo32;
  nsParts[1] = (high - highLo) / 65536 + (sumLo - lo32) / 4294967296;
  return nsValue[0]!;
}

/** statx(2); with `path` '' and AT_EMPTY_PATH it stats `dirfd` itself (O_PATH descriptors too). */
export function statx(dirfd: number, path: string, flags: number): HostStat {
  check(c.statx(dirfd, cstr(path), flags, STATX_BASIC_STATS, statxBuf) as number);
  const w = statx32, mode = w[7]! & 0xffff;
  // struct statx byte offsets (include/uapi/linux/stat.h), read as slot = offset / width: nlink 16,
  // uid 20, gid 24, mode 28, ino 32, size 40, blocks 48, atime 64, ctime 96, mtime 112, dev 136/140.
  return {
    nlink: w[4]!, uid: w[5]!, gid: w[6]!, mode,
    ino: statxU64[4]!, size: statxU64[5]!, blocks: statxU64[6]!,
    atimeNs: statxTime(16), ctimeNs: statxTime(24), mtimeNs: statxTime(28),
    dev: makedev(w[34]!, w[35]!),
  };
}

/** fstat of a descriptor, O_PATH ones included. */
export function fstat(fd: number): HostStat {
  return statx(fd, '', AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

export interface HostStatFs {
  type: bigint;
  bsize: bigint;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  namelen: bigint;
}

const statfsBuf = Buffer.alloc(120);
export function fstatfs(fd: number): HostStatFs {
  const b = statfsBuf;
  check(c.fstatfs(fd, b) as number);
  // struct statfs on x86_64: longs and fsblkcnt_t, all 8 bytes; f_fsid at 56, f_namelen at 64.
  return {
    type: b.readBigInt64LE(0), bsize: b.readBigInt64LE(8), blocks: b.readBigUInt64LE(16),
    bfree: b.readBigUInt64LE(24), bavail: b.readBigUInt64LE(32), files: b.readBigUInt64LE(40),
    ffree: b.readBigUInt64LE(48), namelen: b.readBigInt64LE(64),
  };
}

/** A utimensat(2) time: nanoseconds since the epoch, the host's clock ('now'), or unchanged ('omit'). */
export type HostTime = bigint | 'now' | 'omit';

const timesBuf = Buffer.alloc(32);
function putTime(at: number, t: HostTime): void {
  if (typeof t === 'string') {
    timesBuf.writeBigInt64LE(0n, at);
    timesBuf.writeBigInt64LE(BigInt(t === 'now' ? UTIME_NOW : UTIME_OMIT), at + 8);
  } else {
    // Floor division, so a time before 1970 keeps 0 <= tv_nsec < 1e9.
    let sec = t / 1_000_000_000n, ns = t % 1_000_000_000n;
    if (ns < 0n) { sec -= 1n; ns += 1_000_000_000n; }
    timesBuf.writeBigInt64LE(sec, at);
    timesBuf.writeBigInt64LE(ns, at + 8);
  }
}

/** utimensat(2). With path '' and AT_EMPTY_PATH it sets the times of `dirfd` itself, even O_PATH. */
export function utimensat(dirfd: number, path: string, atime: HostTime, mtime: HostTime, flags: number): void {
  putTime(0, atime);
  putTime(16, mtime);
  check(c.utimensat(dirfd, cstr(path), timesBuf, flags) as number);
}

// ---- extended attributes ----------------------------------------------------------------------

/**
 * flistxattr(2) into `buf`: the bytes filled, NUL-terminated names one after another. Needs an FD
 * opened for I/O (an O_PATH one is EBADF). ERANGE when the list is longer than `buf`.
 */
export function flistxattr(fd: number, buf: Uint8Array): number {
  return check(Number(c.flistxattr(fd, buf, buf.byteLength)));
}

/**
 * fgetxattr(2) into `buf`: the value's length. A missing name is Linux ENODATA, which arrives as
 * WASI NOENT (WASI has no ENODATA); ERANGE when the value is longer than `buf`.
 */
export function fgetxattr(fd: number, name: string, buf: Uint8Array): number {
  return check(Number(c.fgetxattr(fd, cstr(name), buf, buf.byteLength)));
}

/** Splits a flistxattr(2) list into its names (UTF-8). */
export function parseXattrList(buf: Uint8Array, length: number): string[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, length);
  const out: string[] = [];
  for (let p = 0; p < length;) {
    let end = b.indexOf(0, p);
    if (end < 0) end = length;
    if (end > p) out.push(b.toString('utf8', p, end));
    p = end + 1;
  }
  return out;
}

// ---- directory entries --------------------------------------------------------------------------

export function mkdirat(dirfd: number, path: string, mode: number): void {
  check(c.mkdirat(dirfd, cstr(path), mode) as number);
}

export function unlinkat(dirfd: number, path: string, flags: number): void {
  check(c.unlinkat(dirfd, cstr(path), flags) as number);
}

export function renameat2(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags = 0): void {
  check(c.renameat2(olddirfd, cstr(oldpath), newdirfd, cstr(newpath), flags) as number);
}

export function renameat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string): void {
  renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
}

export function linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): void {
  check(c.linkat(olddirfd, cstr(oldpath), newdirfd, cstr(newpath), flags) as number);
}

export function symlinkat(target: string, newdirfd: number, linkpath: string): void {
  check(c.symlinkat(cstr(target), newdirfd, cstr(linkpath)) as number);
}

const linkBuf = Buffer.alloc(PATH_MAX);
/** readlinkat(2); with path '' it reads the symlink an O_PATH|O_NOFOLLOW `dirfd` refers to. */
export function readlinkat(dirfd: number, path: string): string {
  const n = check(Number(c.readlinkat(dirfd, cstr(path), linkBuf, linkBuf.byteLength)));
  return linkBuf.toString('utf8', 0, n);
}

/** One entry of struct linux_dirent64. */
export interface HostDirent {
  ino: bigint;
  /** Opaque position of the next entry. */
  off: bigint;
  /** DT_* */
  type: number;
  name: string;
}

/** getdents64(2) into `buf`; returns the bytes filled (0 at the end). Parse with `parseDirents64`. */
export function getdents64(fd: number, buf: Uint8Array): number {
  return check(Number(c.getdents64(fd, buf, buf.byteLength)));
}

export function parseDirents64(buf: Uint8Array, length: number): HostDirent[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, length);
  const out: HostDirent[] = [];
  for (let p = 0; p + 19 <= length;) {
    // u64 d_ino, i64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated, padded).
    const reclen = b.readUInt16LE(p + 16);
    if (reclen < 19 || p + reclen > length) break;
    const nameEnd = b.indexOf(0, p + 19);
    out.push({
      ino: b.readBigUInt64LE(p), off: b.readBigInt64LE(p + 8), type: b.readUInt8(p + 18),
      name: b.toString('utf8', p + 19, nameEnd < 0 || nameEnd > p + reclen ? p + reclen : nameEnd),
    });
    p += reclen;
  }
  return out;
}

// ---- data ---------------------------------------------------------------------------------------

export function pread(fd: number, buf: Uint8Array, offset: number): number {
  return check(Number(c.pread(fd, buf, buf.byteLength, offset)));
}

export function pwrite(fd: number, buf: Uint8Array, offset: number): number {
  return check(Number(c.pwrite(fd, buf, buf.byteLength, offset)));
}

export function ftruncate(fd: number, length: number): void {
  check(c.ftruncate(fd, length) as number);
}

export function fsync(fd: number): void {
  check(c.fsync(fd) as number);
}

export function fdatasync(fd: number): void {
  check(c.fdatasync(fd) as number);
}

export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  check(c.fallocate(fd, mode, offset, length) as number);
}
