import { fallocate, close } from '../../host/libc.js';
import { mapShared, type SharedMapping } from '../../host/memory-map.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import { FreeLists, blockBytes, sizeClass } from './block-sizes.js';
import type { FileDataMedium } from './file-data-medium.js';

const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
/**
 * Blocks this big give their disk blocks back when freed (and take them again when reused).
 * Smaller ones are zeroed and keep theirs: at 64 KiB, fsstress's files (64–128 KiB) made every
 * resize a punch and a fallocate, ~75 ms of a 600 ms run.
 */
const PUNCH_FROM = 1 << 20;
/** The file grows in steps of this much, so growth is one fallocate per MiB, not per file. */
const GROW_STEP = 1 << 20;

/**
 * File data of a tmpfs kept in one host file mapped into the Sentry (gVisor's filestore): the
 * `self` and `dir=` overlay mediums. Blocks are powers of two, carved from the end of the file
 * and kept on a free list per size when released. Every byte the Sentry touches has been
 * fallocated first, so a full host disk fails the allocation with ENOSPC instead of a SIGBUS on
 * a page fault: a write either fits or changes nothing.
 */
export class FileStore implements FileDataMedium {
  readonly kind = 'filestore';
  private readonly map: SharedMapping;
  /** Free blocks by size class, as offsets in the file. */
  private readonly freeLists = new FreeLists<number>();
  /** End of the carved region, and of the fallocated region (the file's size). */
  private end = 0;
  private committed = 0;
  private released = false;

  /**
   * `fd` becomes the store's; `reserve` is the address space mapped once up front (the file
   * itself starts empty), so the store never remaps and buffers handed out stay valid.
   */
  constructor(private readonly fd: number, private readonly reserve: number) {
    this.map = mapShared(fd, reserve);
  }

  get hostBytes(): number { return this.committed; }

  allocate(bytes: number): Uint8Array {
    if (bytes === 0) return new Uint8Array(0);
    const cls = sizeClass(bytes);
    const size = blockBytes(cls);
    const reused = this.freeLists.take(cls);
    if (reused !== undefined) {
      if (size >= PUNCH_FROM) this.commitRange(reused, size, () => this.freeLists.give(cls, reused));
      return this.map.bytes.subarray(reused, reused + size);
    }
    const offset = this.end;
    if (offset + size > this.reserve) fail(Errno.NOSPC);
    if (offset + size > this.committed) {
      const target = Math.min(this.reserve, Math.ceil((offset + size) / GROW_STEP) * GROW_STEP);
      this.commitRange(this.committed, target - this.committed, () => {});
      this.committed = target;
    }
    this.end = offset + size;
    return this.map.bytes.subarray(offset, offset + size);
  }

  free(buffer: Uint8Array): void {
    const size = buffer.byteLength;
    if (size === 0 || this.released) return;
    if (size >= PUNCH_FROM) {
      // Zeroes the block and returns its disk blocks; a failure only leaves them allocated.
      try { fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, buffer.byteOffset, size); } catch { buffer.fill(0); }
    } else {
      buffer.fill(0);
    }
    this.freeLists.give(sizeClass(size), buffer.byteOffset);
  }

  /** Allocates disk blocks for a range (ENOSPC when the host disk is full), undoing via `undo`. */
  private commitRange(offset: number, length: number, undo: () => void): void {
    try {
      fallocate(this.fd, 0, offset, length);
    } catch (e) {
      undo();
      if (e instanceof SyscallError && (e.errno === Errno.NOSPC || e.errno === Errno.DQUOT)) fail(Errno.NOSPC);
      throw e;
    }
  }

  /** Unmaps and closes the store. Nothing may touch a buffer it handed out after this. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.map.unmap();
    close(this.fd);
  }
}

/**
 * Address space to map for an upper layer of `sizeBytes`: blocks are powers of two, so a file may
 * take up to twice its size, and freed blocks of one size don't serve another.
 */
export function filestoreReserve(sizeBytes: number): number {
  return Math.ceil((4 * sizeBytes + 64 * GROW_STEP) / GROW_STEP) * GROW_STEP;
}
