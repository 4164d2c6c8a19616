import { SyscallError } from '../../../src/wasi/errno.js';

/** The errno `fn` fails with; 0 if it returns. Anything but a SyscallError is rethrown. */
export function errnoOfCall(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
}
