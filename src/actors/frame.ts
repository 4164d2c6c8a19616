import { isUtf8 } from 'node:buffer';
import { copyBytes } from './byte-copy.js';

/**
 * Encoding of ring payloads. The peer may scribble on shared memory at any time, so the reader
 * reads each field once, checks every length against the frame, and throws `FrameError` on a lie;
 * servers answer that with an error status instead of crashing.
 */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** This machine stores a BigUint64Array element little-endian, as frames are encoded. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export class FrameWriter {
  pos = 0;
  private readonly view: DataView;
  private readonly buf: Buffer;
  /**
   * The window as 64-bit words, where it starts 8-aligned on a little-endian machine: a u64 at an
   * aligned offset is one element store, where DataView.setBigUint64 costs ~13 ns (a filestat,
   * the reply of every stat, is eight of them).
   */
  private readonly words: BigUint64Array | undefined;
  /** window.byteLength, kept: on a SharedArrayBuffer's view that getter is a ~20 ns call, per field. */
  private readonly size: number;
  constructor(readonly window: Uint8Array) {
    this.size = window.byteLength;
    this.view = new DataView(window.buffer, window.byteOffset, window.byteLength);
    this.buf = Buffer.from(window.buffer, window.byteOffset, window.byteLength);
    this.words = LITTLE_ENDIAN && window.byteOffset % 8 === 0
      ? new BigUint64Array(window.buffer, window.byteOffset, window.byteLength >> 3)
      : undefined;
  }
  reset(): this { this.pos = 0; return this; }
  get capacity(): number { return this.size; }
  get remaining(): number { return this.size - this.pos; }
  private need(n: number): number {
    const p = this.pos;
    if (p + n > this.size) throw new FrameError(`frame overflow: ${p}+${n} > ${this.size}`);
    this.pos = p + n;
    return p;
  }
  u8(v: number): this { this.view.setUint8(this.need(1), v); return this; }
  u16(v: number): this { this.view.setUint16(this.need(2), v, true); return this; }
  /** `n` zero bytes (padding: the window may still hold the request). */
  zeros(n: number): this { const p = this.need(n); this.window.fill(0, p, p + n); return this; }
  u32(v: number): this { this.view.setUint32(this.need(4), v, true); return this; }
  i32(v: number): this { this.view.setInt32(this.need(4), v, true); return this; }
  /** Unsigned 64-bit from a JS number (sizes, offsets up to 2^53). */
  u64n(v: number): this {
    const p = this.need(8);
    this.view.setUint32(p, v >>> 0, true);
    this.view.setUint32(p + 4, Math.floor(v / 0x1_0000_0000), true);
    return this;
  }
  // setBig(U)Int64 wraps modulo 2^64 itself (ToBigUint64): a BigInt.asUintN first only allocated.
  u64(v: bigint): this {
    const p = this.need(8);
    // An element store wraps modulo 2^64 exactly as setBigUint64 does.
    if ((p & 7) === 0 && this.words !== undefined) this.words[p >> 3] = v;
    else this.view.setBigUint64(p, v, true);
    return this;
  }
  i64(v: bigint): this { this.view.setBigInt64(this.need(8), v, true); return this; }
  /** u32 length, then the bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.byteLength);
    copyBytes(this.window, b, this.need(b.byteLength));
    return this;
  }
  /** u32 length, then UTF-8. */
  string(s: string): this {
    const lenAt = this.need(4);
    const written = this.buf.write(s, this.pos, 'utf8');
    if (Buffer.byteLength(s) !== written) throw new FrameError('frame overflow: string');
    this.view.setUint32(lenAt, written, true);
    this.pos += written;
    return this;
  }
  /**
   * u32 length, then up to `max` bytes that `fill` writes straight into the window (no copy).
   * `fill` returns the count, or null to leave the frame as it was.
   */
  bytesFilled<N extends number | null>(max: number, fill: (dst: Uint8Array) => N): N {
    const start = this.pos;
    const at = this.need(4 + max) + 4;
    const n = fill(this.window.subarray(at, at + max));
    if (n === null) { this.pos = start; return n; }
    this.view.setUint32(start, n as number, true);
    this.pos = at + (n as number);
    return n;
  }
  /** Reserves `n` bytes for the caller to fill in place; returns their offset in the window. */
  reserve(n: number): number { return this.need(n); }
}

export class FrameReader {
  pos = 0;
  limit = 0;
  private readonly view: DataView;
  private readonly buf: Buffer;
  /** window.byteLength, kept (see FrameWriter.size). */
  private readonly size: number;
  constructor(readonly window: Uint8Array) {
    this.size = window.byteLength;
    this.view = new DataView(window.buffer, window.byteOffset, window.byteLength);
    this.buf = Buffer.from(window.buffer, window.byteOffset, window.byteLength);
  }
  /** Starts reading a frame of `length` bytes; a length beyond the window is a lie. */
  reset(length: number): this {
    if (!(length >= 0 && length <= this.size)) throw new FrameError(`bad frame length ${length}`);
    this.pos = 0;
    this.limit = length;
    return this;
  }
  get remaining(): number { return this.limit - this.pos; }
  private take(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.limit) throw new FrameError(`frame underflow: ${p}+${n} > ${this.limit}`);
    this.pos = p + n;
    return p;
  }
  u8(): number { return this.view.getUint8(this.take(1)); }
  u32(): number { return this.view.getUint32(this.take(4), true); }
  i32(): number { return this.view.getInt32(this.take(4), true); }
  u64n(): number {
    const p = this.take(8);
    const v = this.view.getUint32(p, true) + this.view.getUint32(p + 4, true) * 0x1_0000_0000;
    if (v > Number.MAX_SAFE_INTEGER) throw new FrameError('u64 beyond 2^53');
    return v;
  }
  u64(): bigint { return this.view.getBigUint64(this.take(8), true); }
  i64(): bigint { return this.view.getBigInt64(this.take(8), true); }
  /** A view into the window (valid until the window is handed back); copy it to keep it. */
  bytesView(): Uint8Array {
    const n = this.u32();
    const p = this.take(n);
    return this.window.subarray(p, p + n);
  }
  bytes(): Uint8Array {
    const v = this.bytesView();
    const out = new Uint8Array(v.byteLength);
    copyBytes(out, v);
    return out;
  }
  string(): string {
    const n = this.u32();
    const p = this.take(n);
    return this.buf.toString('utf8', p, p + n);
  }
  /**
   * A string field that must be valid UTF-8 (a WASI path), or undefined if it is not. An ASCII
   * string, nearly every path, is checked and decoded without a view or a validator call.
   */
  utf8(): string | undefined {
    const n = this.u32();
    const p = this.take(n);
    const w = this.window;
    for (let i = p; i < p + n; i++) if (w[i]! >= 0x80) return isUtf8(w.subarray(p, p + n)) ? this.buf.toString('utf8', p, p + n) : undefined;
    return this.buf.toString('latin1', p, p + n);
  }
}
