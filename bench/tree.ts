// stat over a 1,000-file, 3-level host tree: directfs vs gofer vs node:wasi, same .wasm, one run.
// Each round sweeps a tree no sandbox has seen (TREE/r<N>/dA/dB/fC), three times: the first sweep
// misses the dentry cache on every file (it measures the path to the host: the directfs-vs-gofer
// question), the next two hit it (what a workload that stats its files again sees). Every sandbox
// first sweeps WARMUP_TREES trees of its own that way, so neither figure is JIT warm-up: a miss
// runs code a hit never does, and one cold sweep left the next five 1.5–3× slower than the eighth.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox } from '../src/index.js';
import { nodeWasiRun, parseNs } from './fs.js';
import { median, ratioTarget, type GroupResult, type Row } from './report.js';

const STATTREE = new URL('../../test/fixtures/bench/stattree.wasm', import.meta.url);
const SWEEPS = '3';
const WARMUP_TREES = 6;

function makeTree(root: string): void {
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const d = join(root, `d${a}`, `d${b}`);
      mkdirSync(d, { recursive: true });
      for (let c = 0; c < 10; c++) writeFileSync(join(d, `f${c}`), 'x');
    }
  }
}

/** µs per stat of the first sweep (cold) and the median of the others (warm). */
function sweeps(stdout: string): { cold: number; warm: number } {
  const ns = parseNs(stdout, 'ns_per_stat');
  return { cold: ns[0]! / 1000, warm: median(ns.slice(1)) / 1000 };
}

export async function treeBench(rounds = 5): Promise<GroupResult> {
  const tree = mkdtempSync(join(tmpdir(), 'asb-bench-tree-'));
  const warmups = Array.from({ length: WARMUP_TREES }, (_, i) => `w${i}`);
  for (const sub of [...warmups, ...Array.from({ length: rounds }, (_, r) => `r${r}`)]) makeTree(join(tree, sub));
  const module = new WebAssembly.Module(readFileSync(STATTREE));
  const modes: Record<string, Sandbox> = {
    directfs: await createSandbox({ mounts: [{ hostPath: tree, guestPath: '/t' }] }),
    gofer: await createSandbox({ directfs: false, mounts: [{ hostPath: tree, guestPath: '/t' }] }),
    'directfs cache=shared': await createSandbox({ mounts: [{ hostPath: tree, guestPath: '/t', cache: 'shared' }] }),
    'gofer cache=shared': await createSandbox({ directfs: false, mounts: [{ hostPath: tree, guestPath: '/t', cache: 'shared' }] }),
  };
  const cold: Record<string, number[]> = {}, warm: Record<string, number[]> = {};
  const record = (name: string, stdout: string): void => {
    const s = sweeps(stdout);
    (cold[name] ??= []).push(s.cold);
    (warm[name] ??= []).push(s.warm);
  };
  const runIn = async (name: string, sb: Sandbox, sub: string, sweeps = SWEEPS): Promise<string> => {
    const res = await sb.run(STATTREE.pathname, { args: [`/t/${sub}`, sweeps] });
    if (res.exitCode !== 0) throw new Error(`stattree (${name}) exited ${res.exitCode}: ${res.stderr.toString()}`);
    return res.stdout.toString();
  };
  try {
    // The JIT of the Sentry and of each pooled task worker settles after some 10,000 syscalls,
    // misses included: each warm-up tree is new to every sandbox.
    for (const [name, sb] of Object.entries(modes)) for (const w of warmups) await runIn(name, sb, w);
    // Each round's modes take turns on one tree: the first to sweep it meets the host kernel's
    // caches cold for it, the rest find them warm (0–20% on a statx in a loop here). The order
    // rotates every round, so that no mode is always first or always last.
    type Sweep = (sub: string) => Promise<string>;
    const runs = Object.entries(modes).map(([name, sb]): [string, Sweep] => [name, (sub) => runIn(name, sb, sub)]);
    runs.push(['node:wasi', async (sub) => nodeWasiRun(module, ['stattree', `/t/${sub}`, SWEEPS], { '/t': tree })]);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < runs.length; i++) {
        const [name, run] = runs[(r + i) % runs.length]!;
        record(name, await run(`r${r}`));
      }
    }
  } finally {
    for (const sb of Object.values(modes)) await sb.close();
    rmSync(tree, { recursive: true, force: true });
  }
  const c = (k: string): number => median(cold[k]!);
  const w = (k: string): number => median(warm[k]!);
  const rows: Row[] = Object.keys(cold).flatMap((k) => [
    { name: `stat ${k}, cold`, medianUs: c(k), note: k === 'node:wasi' ? 'first sweep; the same .wasm on node:wasi' : `first sweep: every stat misses the cache (${rounds} runs)` },
    { name: `stat ${k}, warm`, medianUs: w(k), note: k === 'node:wasi' ? 'sweeps 2–3' : 'sweeps 2–3: the cache holds the tree' },
  ]);
  const ratios = {
    'cold gofer/directfs': c('gofer') / c('directfs'),
    'cold directfs/node:wasi': c('directfs') / c('node:wasi'),
    'warm gofer/directfs': w('gofer') / w('directfs'),
    'warm directfs/node:wasi': w('directfs') / w('node:wasi'),
    'gofer shared/directfs shared': w('gofer cache=shared') / w('directfs cache=shared'),
    'directfs shared/node:wasi': w('directfs cache=shared') / w('node:wasi'),
  };
  return {
    group: 'tree', rows, ratios,
    targets: [
      ratioTarget('tree: directfs stat ≥ 2× faster than gofer (cold: the host path)', ratios['cold gofer/directfs'], { atLeast: 2 }),
      ratioTarget('tree: directfs stat within 1.2× of node:wasi, cold', ratios['cold directfs/node:wasi'], { atMost: 1.2 }),
      ratioTarget('tree: directfs stat within 1.2× of node:wasi, warm', ratios['warm directfs/node:wasi'], { atMost: 1.2 }),
    ],
  };
}
