// FrameWriter: every field lands in the window as little-endian bytes, whether the writer stores a
// u64 through its 64-bit word view (an aligned offset in an 8-aligned window) or through DataView.
// Random field sequences against a reference encoder made of DataView calls alone.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameReader, FrameWriter } from '../../src/actors/frame.js';

type Field =
  | { kind: 'u8'; v: number } | { kind: 'u32'; v: number } | { kind: 'u64'; v: bigint }
  | { kind: 'i64'; v: bigint } | { kind: 'zeros'; n: number };

const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffff_ffff }) }),
  // Beyond 64 bits and negative too: both stores wrap modulo 2^64.
  { arbitrary: fc.record({ kind: fc.constant('u64' as const), v: fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }) }), weight: 3 },
  fc.record({ kind: fc.constant('i64' as const), v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
  fc.record({ kind: fc.constant('zeros' as const), n: fc.integer({ min: 0, max: 9 }) }),
);

/** The bytes `fields` encode to, by DataView alone. */
function reference(fields: readonly Field[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const f of fields) {
    if (f.kind === 'u8') { dv.setUint8(p, f.v); p += 1; }
    else if (f.kind === 'u32') { dv.setUint32(p, f.v, true); p += 4; }
    else if (f.kind === 'u64') { dv.setBigUint64(p, f.v, true); p += 8; }
    else if (f.kind === 'i64') { dv.setBigInt64(p, f.v, true); p += 8; }
    else p += f.n;
  }
  return out;
}

test('fields encode to the same bytes at every alignment of the window and of the field', () => {
  fc.assert(fc.property(fc.array(fieldArb, { maxLength: 40 }), fc.constantFrom(0, 3, 4, 8, 12), (fields, offset) => {
    const size = 40 * 9;
    const backing = new Uint8Array(new SharedArrayBuffer(offset + size + 8));
    backing.fill(0xaa); // the window may hold an old frame: every byte of a field must be written
    const window = backing.subarray(offset, offset + size);
    const w = new FrameWriter(window);
    for (const f of fields) {
      if (f.kind === 'zeros') w.zeros(f.n);
      else if (f.kind === 'u8') w.u8(f.v);
      else if (f.kind === 'u32') w.u32(f.v);
      else if (f.kind === 'u64') w.u64(f.v);
      else w.i64(f.v);
    }
    const want = reference(fields, size);
    assert.equal([...window.subarray(0, w.pos)], [...want.subarray(0, w.pos)]);
    assert.ok(backing.subarray(0, offset).every((b) => b === 0xaa), 'nothing written before the window');
    assert.ok(window.subarray(w.pos).every((b) => b === 0xaa) && backing.subarray(offset + size).every((b) => b === 0xaa), 'nor after the frame');
    // And read back as written (u64 modulo 2^64).
    const r = new FrameReader(window);
    r.reset(w.pos);
    for (const f of fields) {
      if (f.kind === 'zeros') { for (let i = 0; i < f.n; i++) r.u8(); }
      else if (f.kind === 'u8') assert.is(r.u8(), f.v);
      else if (f.kind === 'u32') assert.is(r.u32(), f.v);
      else if (f.kind === 'u64') assert.is(r.u64(), BigInt.asUintN(64, f.v));
      else assert.is(r.i64(), f.v);
    }
  }), { numRuns: 500 });
});

test('a u64 that does not fit the window is a frame overflow, and writes nothing', () => {
  const window = new Uint8Array(12).fill(7);
  const w = new FrameWriter(window);
  w.u32(1);
  assert.throws(() => w.u64(2n ** 64n - 1n).u64(5n), /frame overflow/);
  assert.equal([...window.subarray(4)], [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.throws(() => w.u64(1n), /frame overflow/);
  assert.is(w.pos, 12);
});

test.run();
