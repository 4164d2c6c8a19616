// stat over a 1,000-file, 3-level host tree: directfs vs gofer vs node:wasi, same .wasm, one run.
// The tree (1,000 files + 110 directories) is larger than the 1,000-dentry cache, so an in-order
// sweep misses on every file: this measures the path to the host, not the cache.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox } from '../src/index.js';
import { nodeWasiRun, parseNs } from './fs.js';
import { median, type GroupResult, type Row } from './report.js';

const STATTREE = new URL('../../test/fixtures/bench/stattree.wasm', import.meta.url);
const INNER = '3';

function makeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'asb-bench-tree-'));
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const d = join(root, `d${a}`, `d${b}`);
      mkdirSync(d, { recursive: true });
      for (let c = 0; c < 10; c++) writeFileSync(join(d, `f${c}`), 'x');
    }
  }
  return root;
}

export async function treeBench(rounds = 5): Promise<GroupResult> {
  const tree = makeTree();
  const module = new WebAssembly.Module(readFileSync(STATTREE));
  const modes: Record<string, Sandbox> = {
    directfs: await createSandbox({ mounts: [{ hostPath: tree, guestPath: '/t' }] }),
    gofer: await createSandbox({ directfs: false, mounts: [{ hostPath: tree, guestPath: '/t' }] }),
    'directfs cache=shared': await createSandbox({ mounts: [{ hostPath: tree, guestPath: '/t', cache: 'shared' }] }),
    'gofer cache=shared': await createSandbox({ directfs: false, mounts: [{ hostPath: tree, guestPath: '/t', cache: 'shared' }] }),
  };
  const us: Record<string, number[]> = { 'node:wasi': [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, sb] of Object.entries(modes)) {
        const res = await sb.run(STATTREE.pathname, { args: ['/t', INNER] });
        if (res.exitCode !== 0) throw new Error(`stattree (${name}) exited ${res.exitCode}: ${res.stderr.toString()}`);
        (us[name] ??= []).push(median(parseNs(res.stdout.toString(), 'ns_per_stat')) / 1000);
      }
      us['node:wasi']!.push(median(parseNs(nodeWasiRun(module, ['stattree', '/t', INNER], { '/t': tree }), 'ns_per_stat')) / 1000);
    }
  } finally {
    for (const sb of Object.values(modes)) await sb.close();
    rmSync(tree, { recursive: true, force: true });
  }
  const m = (k: string): number => median(us[k]!);
  const rows: Row[] = Object.keys(us).map((k) => ({ name: `stat ${k}`, medianUs: m(k), note: k === 'node:wasi' ? 'the same .wasm on node:wasi' : `${rounds} runs × ${INNER} sweeps of 1,000 files` }));
  const ratios = {
    'gofer/directfs': m('gofer') / m('directfs'),
    'directfs/node:wasi': m('directfs') / m('node:wasi'),
    'gofer shared/directfs shared': m('gofer cache=shared') / m('directfs cache=shared'),
    'directfs shared/node:wasi': m('directfs cache=shared') / m('node:wasi'),
  };
  return {
    group: 'tree', rows, ratios,
    targets: [
      { name: 'tree: directfs stat ≥ 2× faster than gofer', pass: ratios['gofer/directfs'] >= 2, detail: `${ratios['gofer/directfs'].toFixed(2)}×` },
      { name: 'tree: directfs stat within 1.2× of node:wasi', pass: ratios['directfs/node:wasi'] <= 1.2, detail: `${ratios['directfs/node:wasi'].toFixed(2)}×` },
    ],
  };
}
