// Benchmarks: node dist/bench/index.js [ring|syscall|fs|tree|dcache|fsstress|all]. Targets are reported, never asserted.
import { printGroup, printTargets, writeJson, type GroupResult } from './report.js';

// node:wasi (the fs and syscall baselines) warns that it is experimental; that is known.
process.removeAllListeners('warning');
process.on('warning', (w) => { if (w.name !== 'ExperimentalWarning') console.warn(`${w.name}: ${w.message}`); });

const GROUPS: Record<string, () => Promise<GroupResult>> = {
  ring: async () => (await import('./ring.js')).ringBench(),
  syscall: async () => (await import('./syscall.js')).syscallBench(),
  fs: async () => (await import('./fs.js')).fsBench(),
  tree: async () => (await import('./tree.js')).treeBench(),
  dcache: async () => (await import('./dcache.js')).dcacheBench(),
  fsstress: async () => (await import('./fsstress.js')).fsstressBench(),
};
const which = process.argv[2] ?? 'all';
const names = which === 'all' ? Object.keys(GROUPS) : [which];
if (!names.every((n) => n in GROUPS)) {
  console.error(`usage: node dist/bench/index.js [${Object.keys(GROUPS).join('|')}|all]`);
  process.exit(2);
}
const results: GroupResult[] = [];
for (const n of names) {
  const g = await GROUPS[n]!();
  printGroup(g);
  results.push(g);
}
printTargets(results);
console.log(`\nwrote ${writeJson(results)}`);
