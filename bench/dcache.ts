// The goferfs dentry cache once it is full: a cold lookup + stat (directfs, in this thread, no
// rings) on a fresh 1,000-file tree while the cache is still filling, against the same on a tree
// swept after 11 others, when every new name evicts one (maxCachedNames 10,000). A long-lived
// sandbox walking a big tree lives at the second figure. Trees are on /dev/shm, so host file
// creation stays out of the way; the eviction queue (ClockQueue) is also timed against the Set
// used as a queue that it replaced.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDirectfs } from '../src/fs/directfs/directfs.js';
import type { GoferFilesystem } from '../src/fs/gofer/gofer-filesystem.js';
import type { Inode, PathAhead } from '../src/fs/vfs/filesystem.js';
import { ClockQueue, type ClockQueueMember } from '../src/fs/vfs/clock-queue.js';
import * as libc from '../src/host/libc.js';
import { median, ratioTarget, roundsOf, type GroupResult, type Row } from './report.js';

const TREES = 14;
const DIR = libc.O_PATH | libc.O_DIRECTORY | libc.O_CLOEXEC;

function makeTree(root: string): string[] {
  const files: string[] = [];
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const rel = `d${a}/d${b}`;
      mkdirSync(join(root, rel), { recursive: true });
      for (let c = 0; c < 10; c++) { writeFileSync(join(root, rel, `f${c}`), 'x'); files.push(`${rel}/f${c}`); }
    }
  }
  return files;
}

function resolve(gfs: GoferFilesystem, path: string): Inode {
  const parts = path.split('/');
  let cur = gfs.root();
  for (let i = 0; i < parts.length; i++) {
    const rest = parts.slice(i + 1);
    const ahead: PathAhead = { ahead: () => rest };
    cur = gfs.lookup(cur, parts[i]!, ahead);
  }
  return cur;
}

/** µs per cold lookup + stat of every file of `tree` (a directory under the mount root). */
function sweep(gfs: GoferFilesystem, tree: string, files: string[]): number {
  const t0 = performance.now();
  for (const f of files) gfs.stat(resolve(gfs, `${tree}/${f}`));
  return ((performance.now() - t0) * 1000) / files.length;
}

export async function dcacheBench(rounds = 3): Promise<GroupResult> {
  const host = mkdtempSync('/dev/shm/asb-bench-dcache-');
  const filling: number[] = [], full: number[] = [];
  let names = 0;
  try {
    let files: string[] = [];
    for (let t = 0; t < TREES; t++) files = makeTree(join(host, `t${t}`)); // the same names in each
    for (let r = 0; r < rounds; r++) {
      const gfs = createDirectfs(libc.openat(libc.AT_FDCWD, host, DIR), libc.openat(libc.AT_FDCWD, '/proc', DIR), true, 1n, {});
      try {
        // Trees 0–1 while the cache fills (the first also warms the JIT); 12–13 once it is full.
        for (let t = 0; t < TREES; t++) {
          const us = sweep(gfs, `t${t}`, files);
          if (t === 1) filling.push(us);
          if (t >= TREES - 2) full.push(us);
        }
        names = gfs.cachedNames;
      } finally {
        gfs.release();
      }
    }
  } finally {
    rmSync(host, { recursive: true, force: true });
  }

  // The eviction step alone: take the oldest of 10,000, add a new one.
  const set = new Set<ClockQueueMember>(), queue = new ClockQueue<ClockQueueMember>(1);
  for (let i = 0; i < 10_000; i++) { const o = { queued: 0 }; set.add(o); queue.add(o); }
  const steps = await roundsOf([
    { name: 'Set as a queue, 10,000', batch: 1, fn: () => { set.delete(set.values().next().value!); set.add({ queued: 0 }); } },
    { name: 'ClockQueue, 10,000', batch: 1, fn: () => { queue.shift(); queue.add({ queued: 0 }); } },
  ], rounds);

  const cold = median(filling), coldFull = median(full);
  const rows: Row[] = [
    { name: 'cold lookup+stat, cache filling', medianUs: cold },
    { name: `cold lookup+stat, cache full (${names} names)`, medianUs: coldFull },
    ...[...steps].map(([name, us]) => ({ name: `evict step: ${name}`, medianUs: us })),
  ];
  const fullOverFilling = coldFull / cold;
  const setOverQueue = steps.get('Set as a queue, 10,000')! / steps.get('ClockQueue, 10,000')!;
  return {
    group: 'dcache',
    rows,
    ratios: { 'cold stat, full/filling': fullOverFilling, 'evict step, Set/ClockQueue': setOverQueue },
    targets: [ratioTarget('a full dentry cache costs a cold stat ≤ 1.5× a filling one', fullOverFilling, { atMost: 1.5 })],
  };
}
