// A thread woken onto its peer's CPU moves off it, and keeps every CPU it was allowed before.
import { availableParallelism } from 'node:os';
import koffi from 'koffi';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { currentCpu, leaveSharedCpu } from '../../src/actors/cpu-placement.js';

const libc = koffi.load('libc.so.6');
const setaffinity = libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)');
const getaffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)');

function affinity(): number[] {
  const m = new Uint8Array(128);
  assert.is(getaffinity(0, 128, m), 0);
  const cpus: number[] = [];
  for (let c = 0; c < 1024; c++) if ((m[c >> 3]! & (1 << (c & 7))) !== 0) cpus.push(c);
  return cpus;
}

function pin(cpus: number[]): void {
  const m = new Uint8Array(128);
  for (const c of cpus) m[c >> 3]! |= 1 << (c & 7);
  assert.is(setaffinity(0, 128, m), 0);
}

test('leaves the peer CPU for another allowed one, and restores the full mask', () => {
  const all = affinity();
  if (all.length < 2 || availableParallelism() < 2) {
    assert.is(leaveSharedCpu(currentCpu()), false, 'one CPU: nowhere to go');
    return;
  }
  try {
    const shared = all[0]!;
    pin([shared]);
    assert.is(currentCpu(), shared);
    pin(all); // allowed everywhere again, but still running on `shared`
    if (currentCpu() !== shared) return; // the scheduler moved us already: nothing left to show
    assert.is(leaveSharedCpu(shared), true);
    assert.is.not(currentCpu(), shared);
    assert.equal(affinity(), all, 'no placement is pinned');
  } finally {
    pin(all);
  }
});

test('stays put when the peer is elsewhere or unknown', () => {
  const here = currentCpu();
  assert.ok(here >= 0);
  assert.is(leaveSharedCpu(-1), false);
  assert.is(leaveSharedCpu(here + 1), false);
  assert.is(leaveSharedCpu(100_000), false);
});

test.run();
