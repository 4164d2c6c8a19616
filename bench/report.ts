// Shared bits of the benchmarks: median, tinybench runs, tables, targets, JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';

export interface Row { name: string; medianUs: number; note?: string }
export interface Target { name: string; pass: boolean; detail: string }
export interface GroupResult { group: string; rows: Row[]; ratios: Record<string, number>; targets: Target[]; info?: Record<string, unknown> }

/** A target on a ratio: `value` at least or at most `bound`, reported with two decimals. */
export function ratioTarget(name: string, value: number, bound: { atLeast: number } | { atMost: number }): Target {
  const pass = 'atLeast' in bound ? value >= bound.atLeast : value <= bound.atMost;
  return { name, pass, detail: `${value.toFixed(2)}×` };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times each task with tinybench; one tinybench iteration runs `batch` operations, so the timer's
 * own cost vanishes even for sub-microsecond operations. Returns the median µs per operation.
 */
export interface Job { name: string; batch: number; fn: () => unknown }
export async function runBench(jobs: Job[], timeMs = 300): Promise<Map<string, number>> {
  const bench = new Bench({ time: timeMs, warmupTime: 100, throws: true });
  for (const j of jobs) bench.add(j.name, j.fn);
  await bench.run();
  const out = new Map<string, number>();
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`bench ${t.name}: ${r.state}`);
    out.set(t.name, (r.latency.p50 * 1000) / jobs.find((j) => j.name === t.name)!.batch);
  }
  return out;
}

/** Runs `rounds` × all jobs (interleaved) and keeps each job's median over the rounds. */
export async function roundsOf(jobs: Job[], rounds: number, timeMs?: number): Promise<Map<string, number>> {
  const seen = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [k, v] of await runBench(jobs, timeMs)) seen.set(k, [...(seen.get(k) ?? []), v]);
  }
  return new Map([...seen].map(([k, v]) => [k, median(v)]));
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function printGroup(g: GroupResult): void {
  console.log(`\n== ${g.group} ==`);
  const w = Math.max(...g.rows.map((r) => r.name.length), 8);
  console.log(`${'case'.padEnd(w)}  ${'median µs'.padStart(10)}  note`);
  for (const r of g.rows) console.log(`${r.name.padEnd(w)}  ${fmt(r.medianUs).padStart(10)}  ${r.note ?? ''}`);
  for (const [k, v] of Object.entries(g.ratios)) console.log(`  ratio ${k}: ${fmt(v)}×`);
}

export function printTargets(groups: GroupResult[]): void {
  console.log('\n== targets ==');
  for (const g of groups) for (const t of g.targets) console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}  (${t.detail})`);
}

export function writeJson(groups: GroupResult[]): string {
  const url = new URL('../../bench/results/', import.meta.url);
  mkdirSync(url, { recursive: true });
  const file = new URL('latest.json', url);
  const doc = { date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, groups };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file.pathname;
}

export { fmt };
