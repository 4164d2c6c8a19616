import { Errno, fail } from '../wasi/errno.js';

/**
 * Bound-checked access to a guest's linear memory. Views are refreshed when memory grows (growth
 * detaches the old ArrayBuffer). Any pointer or length reaching past the end is EFAULT.
 */
export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  private u8cache = new Uint8Array(0);
  private dvcache = new DataView(new ArrayBuffer(0));

  attach(memory: WebAssembly.Memory): void { this.memory = memory; this.refresh(); }

  private refresh(): void {
    const buf = this.memory?.buffer;
    if (buf === undefined) fail(Errno.FAULT);
    if (this.u8cache.buffer !== buf) {
      this.u8cache = new Uint8Array(buf);
      this.dvcache = new DataView(buf);
    }
  }

  get u8(): Uint8Array { this.refresh(); return this.u8cache; }
  get view(): DataView { this.refresh(); return this.dvcache; }

  /** Checks [ptr, ptr+len) lies in memory; returns ptr as unsigned. */
  check(ptr: number, len: number): number {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > this.u8.byteLength) fail(Errno.FAULT);
    return p;
  }

  bytes(ptr: number, len: number): Uint8Array {
    const p = this.check(ptr, len);
    return this.u8cache.subarray(p, p + (len >>> 0));
  }

  u32(ptr: number): number { return this.view.getUint32(this.check(ptr, 4), true); }
  setU32(ptr: number, v: number): void { this.view.setUint32(this.check(ptr, 4), v, true); }
  setU64(ptr: number, v: bigint): void { this.view.setBigUint64(this.check(ptr, 8), BigInt.asUintN(64, v), true); }

  /** Reads an iovec array: (buf, len) pairs, each checked. */
  iovecs(ptr: number, count: number): Array<{ ptr: number; len: number }> {
    const base = this.check(ptr, (count >>> 0) * 8);
    const v = this.dvcache;
    const out: Array<{ ptr: number; len: number }> = [];
    for (let i = 0; i < count >>> 0; i++) {
      const p = v.getUint32(base + i * 8, true);
      const len = v.getUint32(base + i * 8 + 4, true);
      this.check(p, len);
      out.push({ ptr: p, len });
    }
    return out;
  }
}
