// A seeded fsstress-like workload (test/fixtures/bench/fsstress.c) over a pre-populated rootfs: the
// sandbox's rootfs overlay (memory, self, dir=, none) against node:wasi on a host tmpfs and on
// ext4, the same .wasm and the same seeds, interleaved in one run. Each run starts from a fresh
// copy of one seed tree (20 dirs × 20 files of 1–8 KB, a subdirectory each, relative symlinks) and
// a fresh sandbox; the figure is the guest's own clock around its op loop (ns_total), so sandbox
// start-up and the final tree walk are not in it. Warm-up rounds (other seeds) come first, as in
// bench/tree.ts: a sandbox's kernel is a worker kept warm between sandboxes of its kind
// (IdleWorkers), and the JIT needs some 80,000 syscalls to settle, so the measured rounds are what
// a test runner making sandbox after sandbox sees. Each mode's first run, in a process that has not
// run it before, is reported beside them as the cold figure (a one-shot CLI run). Every run of a
// seed must print the same trace and tree hashes in every mode: a difference throws (it is a
// file-system bug, or a workload that hashes something a file system may choose).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type SandboxOptions } from '../src/index.js';
import { nodeWasiRun, parseNs } from './fs.js';
import { median, ratioTarget, type GroupResult, type Row } from './report.js';

const FSSTRESS = new URL('../../test/fixtures/bench/fsstress.wasm', import.meta.url);
const OPS = 20000;
/** Rounds before the measured ones, with seeds WARMUP_SEED, WARMUP_SEED + 1, …; their hashes are checked too. */
const WARMUP_ROUNDS = 4;
const WARMUP_SEED = 101;
/** Host tmpfs for the node:wasi baseline. */
const SHM = '/dev/shm';

interface Outcome {
  trace: string;
  tree: string;
  /** The op loop, by the guest's clock. */
  loopMs: number;
  /** The whole run: sandbox creation (or instantiation) to exit, the tree discovery and final walk included. */
  wallMs: number;
  /** Sandbox modes: kernel counters over the whole run, per op. */
  perOp?: { syscalls: number; rpcs: number; parks: number; sentryUs: number };
}

interface RunContext {
  seed: number;
  /** A fresh copy of the seed tree on the host ext4 (the default) or tmpfs; removed after the run. */
  fresh(on?: 'ext4' | 'tmpfs'): string;
  /** A fresh empty directory on ext4 (for overlay media that keep their store in a host directory); removed after the run. */
  scratch(): string;
}

interface Mode {
  name: string;
  run(ctx: RunContext): Promise<Outcome>;
  /** The rootfs copy must be untouched after the run (the overlay kept every write). */
  keepsRootfs?: boolean;
}

const args = (seed: number): string[] => ['-n', String(OPS), '-s', String(seed), '/'];

function parseOutcome(stdout: string, wallMs: number): Outcome {
  const hash = (k: string): string => {
    const m = new RegExp(`^${k} (0x[0-9a-f]{16})$`, 'm').exec(stdout);
    if (!m) throw new Error(`fsstress printed no ${k}: ${JSON.stringify(stdout)}`);
    return m[1]!;
  };
  const ops = parseNs(stdout, 'ops')[0];
  if (ops !== OPS) throw new Error(`fsstress ran ${ops} ops, not ${OPS}`);
  return { trace: hash('trace_hash'), tree: hash('tree_hash'), loopMs: parseNs(stdout, 'ns_total')[0]! / 1e6, wallMs };
}

/** One run in a fresh sandbox whose rootfs is `opts.rootfs` (the guest sees it at /). */
async function inSandbox(ctx: RunContext, opts: SandboxOptions): Promise<Outcome> {
  const t0 = performance.now();
  const sb = await createSandbox(opts);
  try {
    const res = await sb.run(FSSTRESS.pathname, { args: args(ctx.seed) });
    const wallMs = performance.now() - t0;
    if (res.exitCode !== 0) throw new Error(`fsstress exited ${res.exitCode}${res.trap ? ` (trap: ${res.trap})` : ''}: ${res.stderr.toString()}`);
    const st = (await sb.stats()).kernel;
    const syscalls = Object.values(st.syscalls).reduce((a, b) => a + b, 0);
    // Time in the Sentry's handlers, from its sampled means: the rest of a call is the round trip.
    const sentryUs = Object.entries(st.syscalls).reduce((a, [name, n]) => a + n * (st.handlerMeanUs[name] ?? 0), 0);
    return { ...parseOutcome(res.stdout.toString(), wallMs), perOp: { syscalls: syscalls / OPS, rpcs: (st.mounts['/']?.rpcs ?? 0) / OPS, parks: st.parks / OPS, sentryUs: sentryUs / OPS } };
  } finally {
    await sb.close();
  }
}

let compiled: WebAssembly.Module | undefined;
const module = (): WebAssembly.Module => (compiled ??= new WebAssembly.Module(readFileSync(FSSTRESS)));

function inNodeWasi(ctx: RunContext, dir: string): Outcome {
  const t0 = performance.now();
  const stdout = nodeWasiRun(module(), ['fsstress', ...args(ctx.seed)], { '/': dir });
  return parseOutcome(stdout, performance.now() - t0);
}

/** The tree hash of a host directory as it stands (no ops), by node:wasi. */
function treeHashOf(dir: string): string {
  const stdout = nodeWasiRun(module(), ['fsstress', '-n', '0', '-s', '0', '/'], { '/': dir });
  const m = /^tree_hash (0x[0-9a-f]{16})$/m.exec(stdout);
  if (!m) throw new Error(`fsstress printed no tree_hash: ${JSON.stringify(stdout)}`);
  return m[1]!;
}

/**
 * The modes, run in this order (rotated each round). A new overlay medium is one line here.
 */
const MODES: Mode[] = [
  { name: 'overlay=memory', run: (c) => inSandbox(c, { rootfs: c.fresh(), overlay: 'memory' }), keepsRootfs: true },
  { name: 'overlay=none', run: (c) => inSandbox(c, { rootfs: c.fresh(), overlay: 'none' }) },
  { name: 'overlay=self', run: (c) => inSandbox(c, { rootfs: c.fresh(), overlay: 'self' }), keepsRootfs: true },
  { name: 'overlay=dir', run: (c) => inSandbox(c, { rootfs: c.fresh(), overlay: { dir: c.scratch() } }), keepsRootfs: true },
  { name: 'node:wasi tmpfs', run: async (c) => inNodeWasi(c, c.fresh('tmpfs')) },
  { name: 'node:wasi ext4', run: async (c) => inNodeWasi(c, c.fresh('ext4')) },
];

/** The seed tree: deterministic bytes, so its hashes are the same in every bench run. */
export function makeSeedTree(root: string): void {
  let x = 0x2545f491;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const nn = (i: number): string => String(i).padStart(2, '0');
  for (let d = 0; d < 20; d++) {
    const dir = join(root, `dir${nn(d)}`);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    for (let f = 0; f < 20; f++) {
      const bytes = Buffer.alloc(1024 + (next() % 7168));
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() >>> 24;
      writeFileSync(join(dir, `file${nn(f)}`), bytes);
    }
    writeFileSync(join(dir, 'sub', 'leaf'), `leaf ${d}\n`);
    // Relative and downward only: the workload may move a link anywhere, and must never follow
    // one out of its directory (absolute targets are refused by the sandbox anyway).
    symlinkSync(`file${nn((d * 7) % 20)}`, join(dir, 'link'));
    if (d % 4 === 0) symlinkSync('sub/leaf', join(dir, 'leaflink'));
  }
  symlinkSync('dir03/file05', join(root, 'toplink'));
  symlinkSync('dir07', join(root, 'dirlink'));
  symlinkSync('nowhere', join(root, 'dangling'));
}

function fsType(path: string): string {
  const magic = statfsSync(path).type;
  return magic === 0xef53 ? 'ext2/3/4' : magic === 0x01021994 ? 'tmpfs' : `0x${magic.toString(16)}`;
}

export async function fsstressBench(rounds = 5): Promise<GroupResult> {
  if (!existsSync(SHM)) throw new Error(`fsstress bench: no ${SHM} (the node:wasi tmpfs baseline needs a host tmpfs)`);
  const ext4 = mkdtempSync(join(tmpdir(), 'asb-bench-fsstress-'));
  const shm = mkdtempSync(join(SHM, 'asb-bench-fsstress-'));
  const seedTree = join(ext4, 'seed');
  const outcomes: Record<string, Outcome[]> = Object.fromEntries(MODES.map((m) => [m.name, []]));
  const cold: Record<string, Outcome> = {};
  const hashes: Record<number, { trace: string; tree: string; by: string }> = {};
  let runs = 0;
  try {
    makeSeedTree(seedTree);
    // A memory overlay must leave its rootfs exactly as the seed tree is.
    const pristine = treeHashOf(seedTree);
    for (let r = -WARMUP_ROUNDS; r < rounds; r++) {
      const seed = r < 0 ? WARMUP_SEED + WARMUP_ROUNDS + r : r + 1;
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(i + r + WARMUP_ROUNDS) % MODES.length]!;
        const made: string[] = [];
        const ctx: RunContext = {
          seed,
          fresh: (on = 'ext4') => {
            const dir = join(on === 'tmpfs' ? shm : ext4, `run${runs}-${made.length}`);
            cpSync(seedTree, dir, { recursive: true, verbatimSymlinks: true });
            made.push(dir);
            return dir;
          },
          scratch: () => {
            const dir = join(ext4, `run${runs}-${made.length}`);
            mkdirSync(dir);
            made.push(dir);
            return dir;
          },
        };
        runs++;
        try {
          const o = await mode.run(ctx);
          if (mode.keepsRootfs && made[0] !== undefined && treeHashOf(made[0]) !== pristine) {
            throw new Error(`fsstress: ${mode.name} changed its rootfs ${made[0]} (seed ${seed})`);
          }
          const want = hashes[seed] ??= { trace: o.trace, tree: o.tree, by: mode.name };
          if (o.trace !== want.trace || o.tree !== want.tree) {
            throw new Error(`fsstress seed ${seed}: ${mode.name} printed trace ${o.trace} tree ${o.tree}, ` +
              `${want.by} printed trace ${want.trace} tree ${want.tree} (rerun both with -v and diff the logs)`);
          }
          if (r >= 0) outcomes[mode.name]!.push(o);
          cold[mode.name] ??= o;
        } finally {
          for (const d of made) rmSync(d, { recursive: true, force: true });
          // Write back now what this run left dirty, so the kernel's flusher threads do not take a
          // core from the next run (the ext4 modes write tens of MB; these machines have two cores).
          execFileSync('sync');
        }
      }
    }
  } finally {
    rmSync(ext4, { recursive: true, force: true });
    rmSync(shm, { recursive: true, force: true });
  }

  const loop = (name: string): number => median(outcomes[name]!.map((o) => o.loopMs));
  const wall = (name: string): number => median(outcomes[name]!.map((o) => o.wallMs));
  const rows: Row[] = [];
  for (const m of MODES) {
    const os = outcomes[m.name]!;
    const po = os[0]?.perOp ? ` · syscalls/op ${median(os.map((o) => o.perOp!.syscalls)).toFixed(2)}, host RPCs/op ${median(os.map((o) => o.perOp!.rpcs)).toFixed(2)}, Sentry parks/op ${median(os.map((o) => o.perOp!.parks)).toFixed(2)}, in Sentry handlers ${median(os.map((o) => o.perOp!.sentryUs)).toFixed(1)} µs/op (sampled; whole run)` : '';
    rows.push({ name: `${m.name}, op loop`, medianUs: (loop(m.name) * 1000) / OPS, note: `µs/op; median ${loop(m.name).toFixed(0)} ms per ${OPS}-op loop (${os.length} runs)${po}` });
  }
  for (const m of MODES) {
    const c = cold[m.name]!;
    rows.push({ name: `${m.name}, op loop, cold`, medianUs: (c.loopMs * 1000) / OPS, note: `µs/op; ${c.loopMs.toFixed(0)} ms: the mode's first run in this process (seed ${WARMUP_SEED}, one run, not a median)` });
  }
  for (const m of MODES) {
    rows.push({ name: `${m.name}, whole run`, medianUs: (wall(m.name) * 1000) / OPS, note: `µs/op; median ${wall(m.name).toFixed(0)} ms: ${m.name.startsWith('node:wasi') ? 'instantiate' : 'createSandbox'} to exit, with tree discovery and the final walk` });
  }
  const ratios = {
    'none/memory': loop('overlay=none') / loop('overlay=memory'),
    'node:wasi tmpfs/memory': loop('node:wasi tmpfs') / loop('overlay=memory'),
    'node:wasi ext4/none': loop('node:wasi ext4') / loop('overlay=none'),
    'none/memory, cold': cold['overlay=none']!.loopMs / cold['overlay=memory']!.loopMs,
    'node:wasi tmpfs/memory, cold': cold['node:wasi tmpfs']!.loopMs / cold['overlay=memory']!.loopMs,
  };
  return {
    group: 'fsstress', rows, ratios,
    targets: [
      ratioTarget('fsstress: overlay=memory ≥ 20× faster than overlay=none (op loop, warm)', ratios['none/memory'], { atLeast: 20 }),
      ratioTarget('fsstress: overlay=memory ≥ 20× faster than overlay=none (op loop, cold)', ratios['none/memory, cold'], { atLeast: 20 }),
      ratioTarget('fsstress: overlay=memory ≥ 2× faster than node:wasi on tmpfs (op loop, warm)', ratios['node:wasi tmpfs/memory'], { atLeast: 2 }),
      ratioTarget('fsstress: overlay=memory ≥ 2× faster than node:wasi on tmpfs (op loop, cold)', ratios['node:wasi tmpfs/memory, cold'], { atLeast: 2 }),
      { name: 'fsstress: equal trace and tree hashes in every mode', pass: true, detail: Object.entries(hashes).map(([s, h]) => `seed ${s}: ${h.trace}/${h.tree}`).join(', ') },
    ],
    info: {
      ops: OPS, rounds, warmupRounds: WARMUP_ROUNDS, modes: MODES.map((m) => m.name),
      loopMs: Object.fromEntries(MODES.map((m) => [m.name, loop(m.name)])),
      loopMsByRun: Object.fromEntries(MODES.map((m) => [m.name, outcomes[m.name]!.map((o) => Math.round(o.loopMs))])),
      coldLoopMs: Object.fromEntries(MODES.map((m) => [m.name, Math.round(cold[m.name]!.loopMs)])),
      wallMs: Object.fromEntries(MODES.map((m) => [m.name, wall(m.name)])),
      hashes, ext4Dir: `${tmpdir()} (${fsType(tmpdir())})`, tmpfsDir: `${SHM} (${fsType(SHM)})`,
      // The sandbox runs the guest and the Sentry on two threads that spin for each other: on a
      // machine with few cores, other load shows up in its figures and not in node:wasi's.
      cores: availableParallelism(), loadavgAfter: loadavg(),
    },
  };
}
