// The null syscall: raw (a RingClient on a real Sentry task ring) and from a guest (fd_prestat_get of the
// first preopen: the task keeps fdstats, so fd_fdstat_get would not reach the Sentry).
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { RingClient } from '../src/actors/ring-client.js';
import { Sys } from '../src/kernel/syscalls/protocol.js';
import { createSandbox } from '../src/index.js';
import { median, roundsOf, type GroupResult } from './report.js';
import { nodeWasiRun, parseNs } from './fs.js';

export const NULLCALL = new URL('../../test/fixtures/bench/nullcall.wasm', import.meta.url);
const BATCH = 200;
const GUEST_N = 50_000;

export async function syscallBench(rounds = 3): Promise<GroupResult> {
  const sandbox = await createSandbox();
  try {
    const raw = await sandbox.attachRawTask();
    const client = new RingClient(raw.ring);
    const m = await roundsOf([{
      name: 'raw Sys.NULL (main → Sentry)', batch: BATCH, fn: () => {
        for (let i = 0; i < BATCH; i++) { client.writer.reset(); if (client.call(Sys.NULL) !== 0) throw new Error('NULL failed'); }
      },
    }], rounds, 300);
    await raw.release();
    const rawUs = m.get('raw Sys.NULL (main → Sentry)')!;

    const wasmPath = NULLCALL.pathname;
    const guest: number[] = [];
    const native: number[] = [];
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    for (let r = 0; r < rounds; r++) {
      const res = await sandbox.run(wasmPath, { args: [String(GUEST_N), '3'] });
      if (res.exitCode !== 0) throw new Error(`nullcall exited ${res.exitCode}: ${res.stderr.toString()}`);
      guest.push(median(parseNs(res.stdout.toString(), 'ns_per_call')) / 1000);
      native.push(median(parseNs(nodeWasiRun(module, ['nullcall', String(GUEST_N), '3'], { '/': tmpdir() }), 'ns_per_call')) / 1000);
    }
    const guestUs = median(guest);
    const nodeUs = median(native);
    return {
      group: 'syscall',
      rows: [
        { name: 'raw Sys.NULL (main → Sentry)', medianUs: rawUs, note: `${client.parks} parks / ${client.calls} calls` },
        { name: 'guest fd_prestat_get (sandbox)', medianUs: guestUs, note: `timed in guest, ${GUEST_N} calls × 3 × ${rounds} runs` },
        { name: 'guest fd_prestat_get (node:wasi)', medianUs: nodeUs, note: 'same .wasm, same run' },
      ],
      ratios: { 'guest/raw': guestUs / rawUs, 'sandbox/node:wasi (fd_prestat_get)': guestUs / nodeUs },
      targets: [
        { name: 'syscall: raw null syscall ≤ 1.5 µs', pass: rawUs <= 1.5, detail: `${rawUs.toFixed(3)} µs` },
        { name: 'syscall: guest null syscall ≤ 1.5 µs', pass: guestUs <= 1.5, detail: `${guestUs.toFixed(3)} µs` },
      ],
    };
  } finally {
    await sandbox.close();
  }
}
