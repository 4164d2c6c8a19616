// stat, open+close, mkdir+rmdir on a mounted host directory: the sandbox versus node:wasi, same .wasm.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { createSandbox } from '../src/index.js';
import { median, ratioTarget, type GroupResult, type Row } from './report.js';

export const FSOPS = new URL('../../test/fixtures/bench/fsops.wasm', import.meta.url);
const OPS: Record<string, number> = { stat: 10000, openclose: 10000, mkdirrmdir: 1000 };
/** Timed rounds inside each run; the median is kept, so a run's first, cold round does not decide. */
const INNER = '3';

export function parseNs(stdout: string, key: string): number[] {
  const xs = [...stdout.matchAll(new RegExp(`^${key} ([0-9.]+)$`, 'gm'))].map((m) => Number(m[1]));
  if (xs.length === 0) throw new Error(`no ${key} in output: ${JSON.stringify(stdout)}`);
  return xs;
}

/** Runs a command under node:wasi on this thread, stdout captured through a temp file. */
export function nodeWasiRun(module: WebAssembly.Module, args: string[], preopens: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'asb-bench-out-'));
  const out = join(dir, 'stdout');
  const fd = openSync(out, 'w');
  try {
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens, stdout: fd, returnOnExit: true });
    const instance = new WebAssembly.Instance(module, wasi.getImportObject() as Record<string, Record<string, unknown>>);
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`node:wasi ${args.join(' ')} exited ${code}`);
  } finally { closeSync(fd); }
  const text = readFileSync(out, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return text;
}

export async function fsBench(rounds = 5): Promise<GroupResult> {
  const sbDir = mkdtempSync(join(tmpdir(), 'asb-bench-sb-'));
  const nwDir = mkdtempSync(join(tmpdir(), 'asb-bench-nw-'));
  const sandbox = await createSandbox({ mounts: [{ hostPath: sbDir, guestPath: '/data' }] });
  // The same mount with cache=shared: every path walked again and every stat asked of the gofer.
  const shared = await createSandbox({ mounts: [{ hostPath: sbDir, guestPath: '/data', cache: 'shared' }] });
  const bare = await createSandbox(); // /data in its in-memory root: the Sentry without the gofer hop
  const module = new WebAssembly.Module(readFileSync(FSOPS));
  const sb: Record<string, number[]> = {};
  const nw: Record<string, number[]> = {};
  const tm: Record<string, number[]> = {};
  const sh: Record<string, number[]> = {};
  const parks: Record<string, number[]> = {};
  const rpcs: Record<string, number[]> = {};
  const counters = async (s = sandbox) => { const st = await s.stats(); return { parks: st.kernel.parks, rpcs: st.kernel.mounts['/data']!.rpcs }; };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [op, n] of Object.entries(OPS)) {
        const args = [op, String(n), INNER];
        const runSb = async () => {
          const before = await counters();
          const res = await sandbox.run(FSOPS.pathname, { args });
          const after = await counters();
          (parks[op] ??= []).push((after.parks - before.parks) / (n * 3.1));
          (rpcs[op] ??= []).push((after.rpcs - before.rpcs) / (n * 3.1));
          if (res.exitCode !== 0) throw new Error(`fsops ${op} exited ${res.exitCode}: ${res.stderr.toString()}`);
          (sb[op] ??= []).push(median(parseNs(res.stdout.toString(), 'ns_per_op')) / 1000);
        };
        const runNw = () => { (nw[op] ??= []).push(median(parseNs(nodeWasiRun(module, ['fsops', ...args], { '/data': nwDir }), 'ns_per_op')) / 1000); };
        if (r % 2 === 0) { await runSb(); runNw(); } else { runNw(); await runSb(); }
        const resSh = await shared.run(FSOPS.pathname, { args });
        if (resSh.exitCode !== 0) throw new Error(`fsops ${op} (shared) exited ${resSh.exitCode}: ${resSh.stderr.toString()}`);
        (sh[op] ??= []).push(median(parseNs(resSh.stdout.toString(), 'ns_per_op')) / 1000);
        const res = await bare.run(FSOPS.pathname, { args });
        if (res.exitCode !== 0) throw new Error(`fsops ${op} (tmpfs) exited ${res.exitCode}: ${res.stderr.toString()}`);
        (tm[op] ??= []).push(median(parseNs(res.stdout.toString(), 'ns_per_op')) / 1000);
      }
    }
  } finally {
    await sandbox.close();
    await shared.close();
    await bare.close();
    rmSync(sbDir, { recursive: true, force: true });
    rmSync(nwDir, { recursive: true, force: true });
  }
  const rows: Row[] = [];
  const ratios: Record<string, number> = {};
  for (const op of Object.keys(OPS)) {
    const s = median(sb[op]!); const n = median(nw[op]!);
    rows.push({ name: `${op} sandbox`, medianUs: s, note: `${rounds} runs × ${OPS[op]} ops; gofer RPCs/op ${median(rpcs[op]!).toFixed(2)}, Sentry parks/op ${median(parks[op]!).toFixed(2)}` }, { name: `${op} node:wasi`, medianUs: n },
      { name: `${op} sandbox cache=shared`, medianUs: median(sh[op]!), note: 'host mount revalidated on every operation' },
      { name: `${op} sandbox tmpfs`, medianUs: median(tm[op]!), note: 'in-memory root, no gofer: for reference' });
    ratios[`${op} sandbox/node:wasi`] = s / n;
  }
  const t = (op: string) => ratioTarget(`fs: ${op} within 2× of node:wasi`, ratios[`${op} sandbox/node:wasi`]!, { atMost: 2 });
  return { group: 'fs', rows, ratios, targets: [t('stat'), t('openclose')], info: { hostDir: tmpdir() } };
}
