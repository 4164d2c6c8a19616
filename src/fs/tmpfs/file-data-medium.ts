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
 * Chunks released media left, zeroed, for the next medium in this thread (a warm kernel's next
 * sandbox). A new chunk costs its page faults on first touch (~0.35 ms per MiB on these VMs,
 * 20 ms of an fsstress run) and external memory that drives V8 into mark-compacts; a reused
 * one costs a fill(0) at release. At most 64 MiB wait.
 */
const spareChunks: Uint8Array[] = [];
const MAX_SPARE_CHUNKS = 64;

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
  private freeLists = new FreeLists<Uint8Array>();
  private chunk: Uint8Array = new Uint8Array(0);
  private used = 0;
  /** Every chunk this medium carved from, given back on release. */
  private readonly chunks: Uint8Array[] = [];
  private released = false;

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

  /**
   * Zeroes the chunks into the spare list. Called once nothing can touch this medium's buffers
   * again (the Sentry has stopped serving): a buffer still used would alias the next sandbox's.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const c of this.chunks.splice(0)) {
      if (spareChunks.length >= MAX_SPARE_CHUNKS) break;
      c.fill(0);
      spareChunks.push(c);
    }
    this.freeLists = new FreeLists<Uint8Array>();
    this.chunk = new Uint8Array(0);
    this.used = 0;
  }

  /** Starts a new chunk; what is left of the old one joins the free lists, largest blocks first. */
  private newChunk(): void {
    for (let cls = sizeClass(ARENA_MAX_BLOCK); cls >= 0; cls--) {
      const size = blockBytes(cls);
      while (this.chunk.byteLength - this.used >= size) {
        this.freeLists.give(cls, this.chunk.subarray(this.used, this.used + size));
        this.used += size;
      }
    }
    this.chunk = spareChunks.pop() ?? new Uint8Array(CHUNK_BYTES);
    this.chunks.push(this.chunk);
    this.used = 0;
  }
}
