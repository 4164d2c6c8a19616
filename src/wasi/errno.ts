/**
 * WASI preview1 errno values (wasi_snapshot_preview1 `errno` enum). Everything a guest can observe
 * as an error is one of these; the kernel and the filesystems speak nothing else.
 */
export const enum Errno {
  SUCCESS = 0, TOOBIG = 1, ACCES = 2, ADDRINUSE = 3, ADDRNOTAVAIL = 4, AFNOSUPPORT = 5, AGAIN = 6,
  ALREADY = 7, BADF = 8, BADMSG = 9, BUSY = 10, CANCELED = 11, CHILD = 12, CONNABORTED = 13,
  CONNREFUSED = 14, CONNRESET = 15, DEADLK = 16, DESTADDRREQ = 17, DOM = 18, DQUOT = 19, EXIST = 20,
  FAULT = 21, FBIG = 22, HOSTUNREACH = 23, IDRM = 24, ILSEQ = 25, INPROGRESS = 26, INTR = 27,
  INVAL = 28, IO = 29, ISCONN = 30, ISDIR = 31, LOOP = 32, MFILE = 33, MLINK = 34, MSGSIZE = 35,
  MULTIHOP = 36, NAMETOOLONG = 37, NETDOWN = 38, NETRESET = 39, NETUNREACH = 40, NFILE = 41,
  NOBUFS = 42, NODEV = 43, NOENT = 44, NOEXEC = 45, NOLCK = 46, NOLINK = 47, NOMEM = 48, NOMSG = 49,
  NOPROTOOPT = 50, NOSPC = 51, NOSYS = 52, NOTCONN = 53, NOTDIR = 54, NOTEMPTY = 55,
  NOTRECOVERABLE = 56, NOTSOCK = 57, NOTSUP = 58, NOTTY = 59, NXIO = 60, OVERFLOW = 61,
  OWNERDEAD = 62, PERM = 63, PIPE = 64, PROTO = 65, PROTONOSUPPORT = 66, PROTOTYPE = 67, RANGE = 68,
  ROFS = 69, SPIPE = 70, SRCH = 71, STALE = 72, TIMEDOUT = 73, TXTBSY = 74, XDEV = 75, NOTCAPABLE = 76,
}

/**
 * A guest-visible failure. Instances are preallocated per errno and never carry a stack: they are
 * thrown on hot paths (a failed lookup is as common as a successful one), so throwing must be cheap.
 */
export class SyscallError {
  private constructor(readonly errno: Errno) {}
  private static readonly table: SyscallError[] = Array.from({ length: 77 }, (_, i) => new SyscallError(i as Errno));
  static of(errno: Errno): SyscallError {
    return SyscallError.table[errno] ?? new SyscallError(errno);
  }
}

/** Throws the preallocated error for `errno`. */
export function fail(errno: Errno): never {
  throw SyscallError.of(errno);
}

/** What `f` returns, or undefined where it fails with ENOENT (a name that is not there); other failures propagate. */
export function unlessNoent<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.NOENT) return undefined;
    throw e;
  }
}

/** Maps anything thrown inside the kernel to an errno; a non-errno throw is a kernel bug → EIO. */
export function errnoOf(e: unknown): Errno {
  return e instanceof SyscallError ? e.errno : Errno.IO;
}

/** Linux errno → WASI errno, for host syscalls made through koffi. */
const LINUX_TO_WASI: Record<number, Errno> = {
  1: Errno.PERM, 2: Errno.NOENT, 3: Errno.SRCH, 4: Errno.INTR, 5: Errno.IO, 6: Errno.NXIO,
  7: Errno.TOOBIG, 8: Errno.NOEXEC, 9: Errno.BADF, 10: Errno.CHILD, 11: Errno.AGAIN, 12: Errno.NOMEM,
  13: Errno.ACCES, 14: Errno.FAULT, 16: Errno.BUSY, 17: Errno.EXIST, 18: Errno.XDEV, 19: Errno.NODEV,
  20: Errno.NOTDIR, 21: Errno.ISDIR, 22: Errno.INVAL, 23: Errno.NFILE, 24: Errno.MFILE,
  25: Errno.NOTTY, 26: Errno.TXTBSY, 27: Errno.FBIG, 28: Errno.NOSPC, 29: Errno.SPIPE, 30: Errno.ROFS,
  31: Errno.MLINK, 32: Errno.PIPE, 33: Errno.DOM, 34: Errno.RANGE, 35: Errno.DEADLK,
  36: Errno.NAMETOOLONG, 37: Errno.NOLCK, 38: Errno.NOSYS, 39: Errno.NOTEMPTY, 40: Errno.LOOP,
  61: Errno.NOENT, 75: Errno.OVERFLOW, 84: Errno.ILSEQ, 95: Errno.NOTSUP, 110: Errno.TIMEDOUT,
  116: Errno.STALE, 122: Errno.DQUOT,
};

export function errnoFromLinux(linuxErrno: number): Errno {
  return LINUX_TO_WASI[linuxErrno] ?? Errno.IO;
}
