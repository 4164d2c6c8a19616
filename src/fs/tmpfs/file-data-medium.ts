import { FreeLists, blockBytes, sizeClass } from './block-sizes.js';

/**
 * Where a tmpfs keeps the bytes of its regular files. The overlay's upper layer picks one per
 * sandbox (DESIGN §4): the JS heap (`memory`), or a host filestore file mapped into the Sentry
 * (`FileStore`: `self` and `dir=`).
 */
export interface FileDataMedium {
  readonly kind: 'memory' | 'filestore';
  /**
   * A zero-filled buffer of at least `bytes` bytes; its byteLength is the capacity. Fails with
   * ENOSPC (a SyscallError) when the medium is full, having changed nothing.
   */
  allocate(bytes: number): Uint8Array;
  /** Gives back a buffer `allocate` returned. Its contents are gone. */
  free(buffer: Uint8Array): void;
  /** Bytes the medium holds on the host (its allocated size), for stats. */
  readonly hostBytes: number;
  release(): void;
}

/** Heap chunks blocks are carved from; a block bigger than ARENA_MAX_BLOCK is its own buffer. */
const CHUNK_BYTES = 1 << 20;
const ARENA_MAX_BLOCK = 64 * 1024;

/**
 * File data on the JS heap, in power-of-two blocks carved from 1 MiB chunks and reused through
 * free lists (as FileStore does in its file). A buffer per file would make every write that grows
 * a file, and every copy-up, allocate and zero a new ArrayBuffer, and that external memory
 * drives V8 into mark-compacts; chunks are few and long-lived. Freed blocks are zeroed and kept
 * for the sandbox's life, so the heap holds at most about twice the upper layer's byte limit.
 */
export class MemoryMedium implements FileDataMedium {
  readonly kind = 'memory';
  readonly hostBytes = 0;
  private readonly freeLists = new FreeLists<Uint8Array>();
  private chunk = new Uint8Array(0);
  private used = 0;

  allocate(bytes: number): Uint8Array {
    if (bytes > ARENA_MAX_BLOCK) return new Uint8Array(bytes);
    if (bytes === 0) return new Uint8Array(0);
    const cls = sizeClass(bytes);
    const reused = this.freeLists.take(cls);
    if (reused !== undefined) return reused;
    const size = blockBytes(cls);
    if (this.used + size > this.chunk.byteLength) this.newChunk();
    const block = this.chunk.subarray(this.used, this.used + size);
    this.used += size;
    return block;
  }

  free(buffer: Uint8Array): void {
    // Own buffers (big ones, and empty ones) go to the garbage collector.
    if (buffer.buffer.byteLength !== CHUNK_BYTES || buffer.byteLength > ARENA_MAX_BLOCK || buffer.byteLength === 0) return;
    buffer.fill(0);
    this.freeLists.give(sizeClass(buffer.byteLength), buffer);
  }

  release(): void { /* the chunks go with the medium */ }

  /** Starts a new chunk; what is left of the old one joins the free lists, largest blocks first. */
  private newChunk(): void {
    for (let cls = sizeClass(ARENA_MAX_BLOCK); cls >= 0; cls--) {
      const size = blockBytes(cls);
      while (this.chunk.byteLength - this.used >= size) {
        this.freeLists.give(cls, this.chunk.subarray(this.used, this.used + size));
        this.used += size;
      }
    }
    this.chunk = new Uint8Array(CHUNK_BYTES);
    this.used = 0;
  }
}
