/**
 * Copies bytes to or from shared memory (ring windows) at full speed.
 *
 * V8 copies into or out of a SharedArrayBuffer in relaxed atomic words only when the two addresses
 * agree modulo 8; otherwise it moves one byte at a time. On these machines 8 KiB then takes ~4 µs
 * instead of ~0.5 (bench/ring.ts, "copy"), and a guest's buffer, a file offset and a frame field
 * agree only by chance. Copies between unshared buffers are fast at any alignment, so a
 * misaligned copy goes through a scratch buffer placed at the shared side's alignment: two fast
 * copies instead of one slow one.
 */

/** Below this a byte loop costs less than a second copy. */
const BOUNCE_MIN = 512;

let scratch = new Uint8Array(64 * 1024 + 16);

function scratchFor(n: number): Uint8Array {
  if (scratch.byteLength < n + 16) scratch = new Uint8Array(2 ** Math.ceil(Math.log2(n + 16)));
  return scratch;
}

const isShared = (a: Uint8Array): boolean => a.buffer instanceof SharedArrayBuffer;

/** `dst.set(src, at)`, without V8's byte-at-a-time path when one side is shared and the two are misaligned. */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  const n = src.byteLength;
  const dstAddr = dst.byteOffset + at;
  if (n < BOUNCE_MIN || ((dstAddr - src.byteOffset) & 7) === 0) { dst.set(src, at); return; }
  const dstShared = isShared(dst), srcShared = isShared(src);
  if (!dstShared && !srcShared) { dst.set(src, at); return; }
  if (n > dst.byteLength - at) throw new RangeError('offset is out of bounds'); // as dst.set would
  const s = scratchFor(n);
  if (srcShared) {
    // Out of shared memory at the source's alignment, then on from unshared memory.
    const a = src.byteOffset & 7;
    s.set(src, a);
    let from = a;
    if (dstShared && a !== (dstAddr & 7)) {
      // Shared to shared: realign inside the scratch (an unshared move) before the last copy.
      from = 8 + (dstAddr & 7);
      s.copyWithin(from, a, a + n);
    }
    dst.set(s.subarray(from, from + n), at);
    return;
  }
  const b = dstAddr & 7;
  s.set(src, b);
  dst.set(s.subarray(b, b + n), at);
}
