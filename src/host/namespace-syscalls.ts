/**
 * The host actor's privileged syscalls through koffi: unshare, mount, umount2, pivot_root, and the
 * socket calls that pass descriptors (socketpair, sendmsg/recvmsg with SCM_RIGHTS). Unlike
 * libc.ts, which speaks WASI errnos to the gofer, these fail with a HostSyscallError naming the
 * call and the Linux errno: they are reported to a person, not to a guest. x86_64 Linux values.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const CLONE_NEWNS = 0x00020000;
export const MS_RDONLY = 0x1, MS_NOSUID = 0x2, MS_NODEV = 0x4, MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20, MS_BIND = 0x1000, MS_REC = 0x4000, MS_PRIVATE = 0x40000;
export const MNT_DETACH = 0x2;
const SYS_pivot_root = 155;
const AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000, MSG_DONTWAIT = 0x40;
/** The kernel's cap on descriptors in one SCM_RIGHTS message. */
export const SCM_MAX_FD = 253;

const LINUX_ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY',
  17: 'EEXIST', 20: 'ENOTDIR', 22: 'EINVAL', 24: 'EMFILE', 28: 'ENOSPC', 30: 'EROFS', 38: 'ENOSYS',
  95: 'EOPNOTSUPP', 107: 'ENOTCONN',
};

/** A host syscall failed; `errno` is Linux's. */
export class HostSyscallError extends Error {
  override readonly name = 'HostSyscallError';
  readonly errnoName: string;
  constructor(readonly syscall: string, readonly errno: number, detail = '') {
    const n = LINUX_ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${syscall}${detail ? ` ${detail}` : ''}: ${n}`);
    this.errnoName = n;
  }
}

koffi.struct('asb_iovec', { base: 'void *', len: 'size_t' });
koffi.struct('asb_msghdr', {
  name: 'void *', namelen: 'uint32_t', iov: 'asb_iovec *', iovlen: 'size_t',
  control: 'void *', controllen: 'size_t', flags: 'int',
});

const c = {
  unshare: libc.func('int unshare(int flags)'),
  mount: libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: libc.func('int umount2(const char *target, int flags)'),
  pivotRoot: libc.func('long syscall(long nr, const char *new_root, const char *put_old)'),
  chdir: libc.func('int chdir(const char *path)'),
  socketpair: libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
  sendmsg: libc.func('intptr_t sendmsg(int fd, const asb_msghdr *msg, int flags)'),
  recvmsg: libc.func('intptr_t recvmsg(int fd, _Inout_ asb_msghdr *msg, int flags)'),
  close: libc.func('int close(int fd)'),
  statvfs: libc.func('int statvfs(const char *path, _Out_ uint8_t *buf)'),
};

function check(r: number | bigint, syscall: string, detail?: string): number {
  const n = Number(r);
  if (n < 0) throw new HostSyscallError(syscall, koffi.errno(), detail);
  return n;
}

export function unshare(flags: number): void {
  check(c.unshare(flags) as number, 'unshare');
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(c.mount(source, target, fstype, flags, data) as number, 'mount', target);
}

export function umount2(target: string, flags: number): void {
  check(c.umount2(target, flags) as number, 'umount2', target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(c.pivotRoot(SYS_pivot_root, newRoot, putOld) as number, 'pivot_root', newRoot);
}

// statvfs's f_flag (offset 72 on x86_64) uses the MS_* values for these bits.
const ST_KEEP = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | 0x400 /* noatime */ | 0x800 /* nodiratime */ | 0x1000 /* relatime */;

/** The restricting flags of the mount `path` is on, to carry over into a remount. */
export function mountFlagsOf(path: string): number {
  const buf = Buffer.alloc(112);
  check(c.statvfs(path, buf) as number, 'statvfs', path);
  return Number(buf.readBigUInt64LE(72)) & ST_KEEP;
}

export function chdir(path: string): void {
  check(c.chdir(path) as number, 'chdir', path);
}

export function closeFd(fd: number): void {
  check(c.close(fd) as number, 'close');
}

/** A connected pair of close-on-exec SOCK_SEQPACKET Unix sockets (message boundaries kept). */
export function socketpair(): [number, number] {
  const sv = [0, 0];
  check(c.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) as number, 'socketpair');
  return [sv[0]!, sv[1]!];
}

// One cmsghdr (16 bytes on x86_64) followed by the descriptors, padded to 8.
const CMSG_HDR = 16;
const cmsgSpace = (nfds: number): number => CMSG_HDR + Math.ceil((4 * nfds) / 8) * 8;

/** Sends `payload` (at least one byte) with `fds` attached (SCM_RIGHTS). The fds stay open here. */
export function sendFds(sock: number, payload: Buffer, fds: readonly number[]): void {
  if (fds.length > SCM_MAX_FD) throw new RangeError(`at most ${SCM_MAX_FD} fds per message`);
  const control = Buffer.alloc(fds.length ? cmsgSpace(fds.length) : 0);
  if (fds.length) {
    control.writeBigUInt64LE(BigInt(CMSG_HDR + 4 * fds.length), 0); // cmsg_len
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((fd, i) => control.writeInt32LE(fd, CMSG_HDR + 4 * i));
  }
  const data = payload.byteLength ? payload : Buffer.from([0]);
  const msg = { name: null, namelen: 0, iov: [{ base: data, len: data.byteLength }], iovlen: 1, control: fds.length ? control : null, controllen: control.byteLength, flags: 0 };
  const sent = check(c.sendmsg(sock, msg, 0) as number, 'sendmsg');
  if (sent !== data.byteLength) throw new HostSyscallError('sendmsg', 90, `short send ${sent}/${data.byteLength}`);
}

/**
 * Receives one message and the descriptors attached to it (close-on-exec). Non-blocking: EAGAIN
 * when nothing is queued. A message whose descriptors did not all fit is an error, and the ones
 * that did arrive are closed.
 */
export function recvFds(sock: number, maxBytes: number, maxFds: number): { payload: Buffer; fds: number[] } {
  const data = Buffer.alloc(maxBytes);
  const control = Buffer.alloc(cmsgSpace(maxFds));
  const msg = { name: null, namelen: 0, iov: [{ base: data, len: maxBytes }], iovlen: 1, control, controllen: control.byteLength, flags: 0 };
  const n = check(c.recvmsg(sock, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) as number, 'recvmsg');
  const controlLen = Number(msg.controllen);
  const flags = msg.flags;
  const fds: number[] = [];
  for (let off = 0; off + CMSG_HDR <= controlLen;) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < CMSG_HDR) break;
    if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let p = off + CMSG_HDR; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += Math.ceil(len / 8) * 8;
  }
  const MSG_TRUNC = 0x20, MSG_CTRUNC = 0x8;
  if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (const fd of fds) c.close(fd);
    throw new HostSyscallError('recvmsg', 90, 'message or descriptors truncated');
  }
  return { payload: data.subarray(0, n), fds };
}
