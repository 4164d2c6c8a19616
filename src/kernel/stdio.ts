import { copyBytes } from '../actors/byte-copy.js';
import { FileType } from '../wasi/abi.js';
import { Errno, fail } from '../wasi/errno.js';
import type { Stat } from '../fs/vfs/filesystem.js';
import { FileDescription, WOULD_BLOCK, type ReadReadiness } from './file-description.js';

const EPOCH: Stat = { dev: 0n, ino: 0n, type: FileType.UNKNOWN, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };

/**
 * Standard input: bytes the host feeds in over the control plane. A read with nothing buffered
 * would block; the Sentry holds the call until data or end-of-file arrives.
 */
export class StdinDescription extends FileDescription {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  /** Called when data or EOF arrives, so held reads and polls can be answered. */
  onReadable: (() => void) | undefined;

  constructor(readonly filetype: FileType) { super(); }

  feed(data: Uint8Array): void {
    if (this.ended || data.byteLength === 0) return;
    this.chunks.push(data);
    this.buffered += data.byteLength;
    this.onReadable?.();
  }

  end(): void {
    this.ended = true;
    this.onReadable?.();
  }

  override read(dst: Uint8Array): number | typeof WOULD_BLOCK {
    if (this.buffered === 0) return this.ended ? 0 : WOULD_BLOCK;
    const want = Math.min(dst.byteLength, this.buffered);
    let n = 0;
    while (n < want) {
      const c = this.chunks[0]!;
      const take = Math.min(c.byteLength, want - n);
      copyBytes(dst, c.subarray(0, take), n);
      n += take;
      if (take === c.byteLength) this.chunks.shift(); else this.chunks[0] = c.subarray(take);
    }
    this.buffered -= n;
    return n;
  }

  override pollRead(): ReadReadiness {
    return { ready: this.buffered > 0 || this.ended, nbytes: BigInt(this.buffered), hangup: this.ended && this.buffered === 0 };
  }

  override stat(): Stat { return { ...EPOCH, type: this.filetype }; }
  override setTimes(): void { /* like a pipe: accepted, nothing to keep */ }
}

/** Standard output or error: every write goes to the host's sink for this task. */
export class OutputDescription extends FileDescription {
  constructor(readonly filetype: FileType, private readonly sink: (data: Uint8Array) => void) { super(); }

  override write(data: Uint8Array): number {
    if (data.byteLength > 0) this.sink(data.slice());
    return data.byteLength;
  }

  override read(): number { return fail(Errno.BADF); }
  override stat(): Stat { return { ...EPOCH, type: this.filetype }; }
  override setTimes(): void { /* like a pipe */ }
}
