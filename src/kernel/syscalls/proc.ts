import type { ServerRing } from '../../actors/ring-server.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { Task } from '../task.js';

/** proc_exit: the task records its status here, then unwinds itself; the host never exits. */
export function procExit(t: Task, r: ServerRing): number {
  t.exitCode = r.reader.u32();
  return 0;
}

/** The null syscall: the cost of a ring round trip plus dispatch, nothing else. */
export function nullCall(): number {
  return 0;
}

/** There are no sockets in this sandbox yet: a valid fd is ENOTSOCK, a bad one EBADF. */
export function sockCall(t: Task, r: ServerRing): number {
  t.fds.get(r.reader.u32());
  return fail(Errno.NOTSOCK);
}
