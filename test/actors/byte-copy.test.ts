import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyBytes } from '../../src/actors/byte-copy.js';

type Kind = 'plain' | 'shared';
const KINDS: Kind[] = ['plain', 'shared'];
const SIZES = [0, 1, 511, 512, 513, 4096, 8191, 70_000]; // 70,000 outgrows the first scratch buffer

function bufferOf(kind: Kind, n: number): Uint8Array {
  return new Uint8Array(kind === 'shared' ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
}

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

test('copies exactly the source bytes to dst[at…] for every alignment pair, size and buffer kind', () => {
  let cases = 0;
  for (const from of KINDS) for (const to of KINDS) for (const n of SIZES) {
    for (let srcOff = 0; srcOff < 8; srcOff++) for (let dstOff = 0; dstOff < 8; dstOff++) {
      const at = (srcOff * 3 + dstOff) % 5;
      const srcBuf = bufferOf(from, n + 16);
      srcBuf.set(pattern(n + 16, n + srcOff));
      const src = srcBuf.subarray(srcOff, srcOff + n);
      const dstBuf = bufferOf(to, n + 32);
      dstBuf.fill(0xee);
      const dst = dstBuf.subarray(dstOff, dstOff + at + n + 4);
      copyBytes(dst, src, at);
      const want = new Uint8Array(n + 32).fill(0xee);
      want.set(src, dstOff + at);
      assert.ok(Buffer.from(dstBuf.buffer).equals(want), `${from}→${to} n=${n} src+${srcOff} dst+${dstOff} at=${at}`);
      cases++;
    }
  }
  assert.is(cases, KINDS.length ** 2 * SIZES.length * 64);
});

test('a copy past the end of dst throws RangeError and leaves dst untouched, like set', () => {
  for (const to of KINDS) {
    const dst = bufferOf(to, 1024).subarray(3);
    const src = pattern(1000, 1);
    assert.throws(() => copyBytes(dst, src, 100), (e: unknown) => e instanceof RangeError);
    assert.ok(dst.every((b) => b === 0), `${to} destination unchanged`);
  }
});

test('a later, larger copy does not see an earlier copy\'s scratch bytes', () => {
  const shared = bufferOf('shared', 200_000);
  copyBytes(shared.subarray(1), pattern(100_000, 9));
  const fresh = pattern(150_000, 4);
  const dst = bufferOf('shared', 150_008).subarray(5);
  copyBytes(dst, fresh);
  assert.ok(Buffer.from(dst.buffer, dst.byteOffset, 150_000).equals(fresh));
});

test.run();
