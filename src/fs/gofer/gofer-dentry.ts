import { FileType } from '../../wasi/abi.js';
import type { ClockQueueMember } from '../vfs/clock-queue.js';
import type { Inode } from '../vfs/filesystem.js';
import { NO_CHILDREN } from '../vfs/no-children.js';
import type { FdId } from './protocol.js';

/** The access an open host FD was made with. */
export type HandleAccess = 'r' | 'w' | 'rw';

/**
 * One cached remote file node. It mirrors a name the gofer walked (or the mount root) and pins the
 * gofer's control FD for it, plus, once the guest has opened the file, the open FDs every later
 * open shares (gVisor's shared handles: a second open of a cached file costs no RPC).
 */
export class GoferDentry implements Inode, ClockQueueMember {
  /** Remote control FD; -1 once evicted (revived on use) or released. */
  fd: FdId;
  /**
   * Directories: cached names → child, or, for a name known not to exist, the operation in which
   * the gofer said so.
   */
  readonly children: Map<string, GoferDentry | number>;
  positives = 0;
  negatives = 0;
  /** The dentry that replaced this one in the tree after an eviction (see GoferFilesystem). */
  alias: GoferDentry | undefined;
  /** Its name was removed through this filesystem: it can never be revived. */
  unlinked = false;
  /** Symlink target, cached: a symlink's target never changes in place. */
  target: string | undefined;
  /** The operation in which the gofer last confirmed this name → inode. */
  validated: number;
  /** Open host FDs by access, shared by every guest open of this file; -1 when not open. */
  readonly handles: Record<HandleAccess, FdId> = { r: -1, w: -1, rw: -1 };
  /** Bits set on each use, cleared by eviction passes (GoferFilesystem.touch). */
  recent = 0;
  /** The eviction queues it is in, a bit each (GoferFilesystem's `lru` and `pinned`). */
  queued = 0;
  /** Guest opens: of the file (sharing `handles`), or descriptors naming the directory (pin). A dentry with any is never evicted. */
  opens = 0;

  constructor(
    readonly owner: object, readonly ino: bigint, readonly type: FileType, fd: FdId,
    public parent: GoferDentry | null, public name: string, validated: number,
  ) {
    this.fd = fd;
    this.validated = validated;
    // Most dentries are files: they share one empty map rather than each allocating its own.
    this.children = type === FileType.DIRECTORY ? new Map() : NO_CHILDREN;
  }

  /** Every host FD this dentry holds, which it forgets: the caller closes them. */
  takeFds(): FdId[] {
    const fds = [this.fd, this.handles.r, this.handles.w, this.handles.rw].filter((fd) => fd >= 0);
    this.fd = this.handles.r = this.handles.w = this.handles.rw = -1;
    return fds;
  }
}
