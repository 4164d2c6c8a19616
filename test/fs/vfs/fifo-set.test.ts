// FifoSet: a set that hands back its oldest member. Random add/shift/clear sequences against an
// array kept in the same order, across the ring's growth and wrap-around.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FifoSet } from '../../../src/fs/vfs/fifo-set.js';

type Op = { kind: 'add'; x: number } | { kind: 'shift' } | { kind: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  // Twice as many adds as shifts, so the ring grows (and wraps) while it is being emptied.
  { weight: 40, arbitrary: fc.integer({ min: 0, max: 300 }).map((x) => ({ kind: 'add' as const, x })) },
  { weight: 20, arbitrary: fc.constant({ kind: 'shift' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

test('behaves as an insertion-ordered set that gives up its oldest member', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 600, size: 'max' }), (ops) => {
    const set = new FifoSet<number>();
    let model: number[] = [];
    for (const op of ops) {
      if (op.kind === 'add') {
        set.add(op.x);
        if (!model.includes(op.x)) model.push(op.x);
      } else if (op.kind === 'shift') {
        assert.is(set.shift(), model.shift());
      } else {
        set.clear();
        model = [];
      }
      assert.is(set.size, model.length);
      for (const x of [0, 1, 40, 300]) assert.is(set.has(x), model.includes(x));
    }
    assert.equal([...set], model, 'iteration is oldest first');
  }), { numRuns: 300 });
});

test('an existing member added again keeps its place; a shifted one comes back youngest', () => {
  const set = new FifoSet<string>();
  for (const x of ['a', 'b', 'c']) set.add(x);
  set.add('a');
  assert.equal([...set], ['a', 'b', 'c']);
  assert.is(set.shift(), 'a');
  set.add('a');
  assert.equal([...set], ['b', 'c', 'a']);
  assert.is(set.shift(), 'b');
  assert.is(set.shift(), 'c');
  assert.is(set.shift(), 'a');
  assert.is(set.shift(), undefined, 'empty');
  assert.is(set.size, 0);
});

test('holds members across many growths with the oldest still first', () => {
  const set = new FifoSet<number>();
  for (let i = 0; i < 10; i++) set.add(i);
  for (let i = 0; i < 5; i++) set.shift(); // the ring now starts mid-array
  for (let i = 10; i < 5000; i++) set.add(i);
  assert.is(set.size, 4995);
  assert.is(set.shift(), 5);
  assert.equal([...set].slice(0, 3), [6, 7, 8]);
  assert.is([...set].at(-1), 4999);
});

test.run();
