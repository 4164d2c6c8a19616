import { FDSTAT_SIZE } from '../wasi/abi.js';

/**
 * The task's copy of the fdstats the Sentry has told it, by fd number. wasi-libc asks for the
 * directory's fdstat before every open (to compute the new fd's rights): in a file-heavy program
 * that is one round trip in six, for an answer that only this task's own calls can change.
 *
 * Sound because an fd table belongs to one task, and an fd's fdstat changes only through that
 * task's fd_fdstat_set_flags, fd_fdstat_set_rights, fd_close and fd_renumber, or when a number is
 * reused by path_open or sock_accept: each of those forgets the numbers it touches, before its
 * request is sent, whatever the reply. The cache answers nothing the Sentry would refuse: only a
 * successful reply is kept, and rights are still checked by the Sentry on every other call.
 */
export class FdstatCache {
  private readonly records = new Map<number, Uint8Array>();

  /** Copies the record of `fd` to `out`; false if none is held. */
  copyTo(fd: number, out: Uint8Array, at: number): boolean {
    const rec = this.records.get(fd);
    if (rec === undefined) return false;
    out.set(rec, at);
    return true;
  }

  /** Keeps the record just written at `out[at…]` for `fd`. */
  keep(fd: number, out: Uint8Array, at: number): void {
    this.records.set(fd, out.slice(at, at + FDSTAT_SIZE));
  }

  forget(fd: number): void {
    this.records.delete(fd);
  }
}
