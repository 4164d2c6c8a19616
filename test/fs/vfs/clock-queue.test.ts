// ClockQueue: a queue of distinct members that hands back its oldest. Random add/shift/clear
// sequences on two queues sharing members, against arrays kept in the same order, across the
// ring's growth and wrap-around.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClockQueue, type ClockQueueMember } from '../../../src/fs/vfs/clock-queue.js';

interface Member extends ClockQueueMember { id: number }

type Op = { kind: 'add'; q: 0 | 1; x: number } | { kind: 'shift'; q: 0 | 1 } | { kind: 'clear'; q: 0 | 1 };

const queueArb = fc.constantFrom<0 | 1>(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  // Twice as many adds as shifts, so the ring grows (and wraps) while it is being emptied.
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('add' as const), q: queueArb, x: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('shift' as const), q: queueArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), q: queueArb }) },
);

const members = (n: number): Member[] => Array.from({ length: n }, (_, id) => ({ id, queued: 0 }));

test('two queues sharing members each behave as an insertion-ordered set that gives up its oldest', () => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 600, size: 'max' }), (ops) => {
    const pool = members(301);
    const queues = [new ClockQueue<Member>(1), new ClockQueue<Member>(4)];
    const models: Member[][] = [[], []];
    for (const op of ops) {
      const q = queues[op.q]!;
      if (op.kind === 'add') {
        q.add(pool[op.x]!);
        if (!models[op.q]!.includes(pool[op.x]!)) models[op.q]!.push(pool[op.x]!);
      } else if (op.kind === 'shift') {
        assert.is(q.shift(), models[op.q]!.shift());
      } else {
        q.clear();
        models[op.q] = [];
      }
      for (const k of [0, 1] as const) {
        assert.is(queues[k]!.size, models[k]!.length);
        for (const x of [0, 1, 40, 300]) assert.is(queues[k]!.has(pool[x]!), models[k]!.includes(pool[x]!));
      }
    }
    assert.equal([...queues[0]!], models[0], 'iteration is oldest first');
    assert.equal([...queues[1]!], models[1]);
    for (const m of pool) assert.is(m.queued & ~5, 0, 'no bit but the two queues\' is ever set');
  }), { numRuns: 300 });
});

test('an existing member added again keeps its place; a shifted one comes back youngest', () => {
  const [a, b, c] = members(3) as [Member, Member, Member];
  const q = new ClockQueue<Member>(2);
  for (const x of [a, b, c]) q.add(x);
  q.add(a);
  assert.equal([...q], [a, b, c]);
  assert.is(q.shift(), a);
  assert.is(q.has(a), false);
  q.add(a);
  assert.equal([...q], [b, c, a]);
  assert.is(q.shift(), b);
  assert.is(q.shift(), c);
  assert.is(q.shift(), a);
  assert.is(q.shift(), undefined, 'empty');
  assert.is(q.size, 0);
  assert.equal([a.queued, b.queued, c.queued], [0, 0, 0]);
});

test('holds members across many growths with the oldest still first', () => {
  const pool = members(5000);
  const q = new ClockQueue<Member>(1);
  for (let i = 0; i < 10; i++) q.add(pool[i]!);
  for (let i = 0; i < 5; i++) q.shift(); // the ring now starts mid-array
  for (let i = 10; i < 5000; i++) q.add(pool[i]!);
  assert.is(q.size, 4995);
  assert.is(q.shift()!.id, 5);
  assert.equal([...q].slice(0, 3).map((m) => m.id), [6, 7, 8]);
  assert.is([...q].at(-1)!.id, 4999);
});

test('a bit that is not exactly one bit is refused', () => {
  for (const bit of [0, 3, -1, 0x8000_0000, 1.5]) assert.throws(() => new ClockQueue<Member>(bit), RangeError);
});

test.run();
