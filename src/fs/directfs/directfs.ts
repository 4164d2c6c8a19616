import { errnoOf } from '../../wasi/errno.js';
import * as libc from '../../host/libc.js';
import { GoferFilesystem, type GoferFilesystemOptions } from '../gofer/gofer-filesystem.js';
import { GoferServer } from '../gofer/gofer-server.js';
import { DirectChannel } from './direct-channel.js';

/**
 * A host mount served by directfs (DESIGN §5): the Sentry works on the FDs the host actor donated,
 * with the gofer's own fd-relative code run in the Sentry's thread, and goferfs's dentry cache on
 * top. Takes ownership of `rootFd` and `procFd`.
 */
export function createDirectfs(rootFd: number, procFd: number, readOnly: boolean, dev: bigint, options: GoferFilesystemOptions): GoferFilesystem {
  let procSelfFd: number;
  try {
    procSelfFd = libc.openSelfFdDir(procFd);
  } catch (e) {
    libc.close(rootFd);
    throw new Error(`directfs: cannot open self/fd beneath the donated /proc: WASI errno ${errnoOf(e)}`);
  } finally {
    libc.close(procFd);
  }
  return new GoferFilesystem(new DirectChannel(new GoferServer(rootFd, { readOnly, procSelfFd })), dev, options);
}
