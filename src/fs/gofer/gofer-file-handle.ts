import { copyBytes } from '../../actors/byte-copy.js';
import { Errno, fail } from '../../wasi/errno.js';
import type { FileHandle } from '../vfs/filesystem.js';
import type { GoferConnection } from './gofer-connection.js';
import type { GoferDentry } from './gofer-dentry.js';
import type { FdId } from './protocol.js';

/** What a file handle needs from its filesystem: the attribute cache and the shared-handle count. */
export interface GoferFileOwner {
  /** The file's size, from the attribute cache when it is trusted. */
  sizeOf(d: GoferDentry): number;
  /** The file's data or times changed (or may have): its cached attributes are stale. */
  changed(d: GoferDentry): void;
  /** One guest open of `d` ended. */
  closed(d: GoferDentry): void;
}

/**
 * One guest open of a regular file on the gofer. The host FD is the dentry's shared handle, so
 * close costs no RPC; the handle lives as long as the dentry stays cached. PRead/PWrite are
 * chunked to the ring window.
 */
export class GoferFileHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly conn: GoferConnection, private readonly owner: GoferFileOwner,
    private readonly dentry: GoferDentry, private readonly fd: FdId,
  ) {}

  read(dst: Uint8Array, offset: number): number {
    const fd = this.live();
    const chunk = this.conn.windowBytes - 4;
    let total = 0;
    try {
      while (total < dst.byteLength) {
        const count = Math.min(chunk, dst.byteLength - total);
        const { data } = this.conn.rpc('PRead', { fd, offset: offset + total, count });
        if (data.byteLength > count) fail(Errno.IO);
        copyBytes(dst, data, total);
        total += data.byteLength;
        if (data.byteLength < count) break;
      }
    } finally {
      this.owner.changed(this.dentry); // atime
    }
    return total;
  }

  /** Chunked: a failure after the first chunk leaves the earlier chunks written (as a short write would). */
  write(src: Uint8Array, offset: number): number {
    const fd = this.live();
    const chunk = this.conn.windowBytes - 20;
    let total = 0;
    try {
      while (total < src.byteLength) {
        const data = src.subarray(total, total + chunk);
        const { written } = this.conn.rpc('PWrite', { fd, offset: offset + total, data });
        if (written === 0 || written > data.byteLength) fail(Errno.IO);
        total += written;
      }
    } finally {
      this.owner.changed(this.dentry);
    }
    return total;
  }

  size(): number {
    this.live();
    return this.owner.sizeOf(this.dentry);
  }

  sync(dataOnly: boolean): void {
    this.conn.rpc('FSync', { fd: this.live(), dataOnly });
  }

  allocate(offset: number, length: number): void {
    const fd = this.live();
    try {
      this.conn.rpc('FAllocate', { fd, mode: 0, offset, length });
    } finally {
      this.owner.changed(this.dentry);
    }
  }

  close(): void {
    this.live();
    this.closed = true;
    this.owner.closed(this.dentry);
  }

  private live(): FdId {
    if (this.closed) fail(Errno.BADF);
    return this.fd;
  }
}
