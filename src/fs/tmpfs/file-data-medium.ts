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

/** File data on the JS heap: each buffer is its own ArrayBuffer, collected when dropped. */
export class MemoryMedium implements FileDataMedium {
  readonly kind = 'memory';
  readonly hostBytes = 0;
  allocate(bytes: number): Uint8Array { return new Uint8Array(bytes); }
  free(): void { /* the garbage collector's */ }
  release(): void { /* nothing held */ }
}
