// Ring round trip (main thread ⇄ echo worker) versus a postMessage echo, same payloads.
import { Worker } from 'node:worker_threads';
import { copyBytes } from '../src/actors/byte-copy.js';
import { RingClient } from '../src/actors/ring-client.js';
import { createDoorbell, createRing, createSpinBudget } from '../src/actors/ring-layout.js';
import { roundsOf, type GroupResult, type Job, type Row } from './report.js';

const SIZES = [0, 64, 4096];
const RING_BATCH = 200;
const PM_BATCH = 4;
const COPY_BYTES = 8192;
const COPY_BATCH = 100;
const PM_ECHO = "require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));";

export async function ringBench(rounds = 3): Promise<GroupResult> {
  const doorbell = createDoorbell();
  const spin = createSpinBudget(2);
  const desc = createRing(doorbell, spin);
  const ringWorker = new Worker(new URL('../test/actors/echo-worker.js', import.meta.url), { workerData: { doorbell, spin, rings: [desc] } });
  const pmWorker = new Worker(PM_ECHO, { eval: true });
  await Promise.all([new Promise((r) => ringWorker.once('online', r)), new Promise((r) => pmWorker.once('online', r))]);
  const client = new RingClient(desc);
  let reply: ((m: unknown) => void) | undefined;
  pmWorker.on('message', (m) => { const r = reply; reply = undefined; r?.(m); });
  const pmEcho = (m: Uint8Array): Promise<unknown> => new Promise((r) => { reply = r; pmWorker.postMessage(m); });

  const jobs: Job[] = [];
  for (const n of SIZES) {
    const payload = new Uint8Array(n).fill(7);
    jobs.push({
      name: `ring ${n} B`, batch: RING_BATCH, fn: () => {
        for (let i = 0; i < RING_BATCH; i++) {
          client.writer.reset().bytes(payload);
          if (client.call(1) !== 1 || client.reader.bytesView().byteLength !== n) throw new Error('bad ring echo');
        }
      },
    });
    jobs.push({
      name: `postMessage ${n} B`, batch: PM_BATCH, fn: async () => {
        for (let i = 0; i < PM_BATCH; i++) if ((await pmEcho(payload) as Uint8Array).byteLength !== n) throw new Error('bad echo');
      },
    });
  }
  // "copy": a guest buffer and a ring window rarely agree modulo 8; V8 then copies into shared
  // memory byte by byte, which copyBytes avoids.
  const shared = new Uint8Array(new SharedArrayBuffer(COPY_BYTES + 16), 8);
  const guest = new Uint8Array(COPY_BYTES + 16).fill(3).subarray(3, 3 + COPY_BYTES);
  jobs.push({ name: `copy 8 KiB misaligned: set`, batch: COPY_BATCH, fn: () => { for (let i = 0; i < COPY_BATCH; i++) shared.set(guest); } });
  jobs.push({ name: `copy 8 KiB misaligned: copyBytes`, batch: COPY_BATCH, fn: () => { for (let i = 0; i < COPY_BATCH; i++) copyBytes(shared, guest); } });
  try {
    const m = await roundsOf(jobs, rounds, 250);
    const rows: Row[] = [...m].map(([name, medianUs]) => ({ name, medianUs }));
    const ratios: Record<string, number> = {};
    for (const n of SIZES) ratios[`postMessage/ring ${n} B`] = m.get(`postMessage ${n} B`)! / m.get(`ring ${n} B`)!;
    ratios['copy 8 KiB misaligned: set/copyBytes'] = m.get('copy 8 KiB misaligned: set')! / m.get('copy 8 KiB misaligned: copyBytes')!;
    const r64 = m.get('ring 64 B')!;
    const x64 = ratios['postMessage/ring 64 B']!;
    return {
      group: 'ring', rows, ratios,
      info: { clientParks: client.parks, clientCalls: client.calls },
      targets: [
        { name: 'ring: 64 B round trip ≤ 1 µs median', pass: r64 <= 1, detail: `${r64.toFixed(3)} µs` },
        { name: 'ring: 64 B ≥ 50× faster than postMessage', pass: x64 >= 50, detail: `${x64.toFixed(0)}×` },
      ],
    };
  } finally {
    await Promise.all([ringWorker.terminate(), pmWorker.terminate()]);
  }
}
