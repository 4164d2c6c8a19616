import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Supervisor } from '../../src/actors/actor.js';
import { FrameError, FrameReader } from '../../src/actors/frame.js';
import { RingClient, RingClosedError, shutdownRing } from '../../src/actors/ring-client.js';
import { DoorbellSlot, RING_HEADER_BYTES, RingSlot, RingState, createDoorbell, createRing, createSpinBudget } from '../../src/actors/ring-layout.js';

const echoWorker = new URL('./echo-worker.js', import.meta.url);
const SLOW_CALL = 77, SLOW_CALL_SAYS_SO = 78; // echo-worker.ts

async function startEcho(rings = 1) {
  const supervisor = new Supervisor();
  const doorbell = createDoorbell();
  const spin = createSpinBudget(2);
  const descs = Array.from({ length: rings }, () => createRing(doorbell, spin, 8192));
  const actor = supervisor.spawn('echo', echoWorker, { workerData: { doorbell, spin, rings: descs } });
  await actor.control.stats();
  return { supervisor, actor, descs };
}

test('round trips carry the bytes and the status, at 0, 64 and window-sized payloads', async () => {
  const { supervisor, descs } = await startEcho();
  const c = new RingClient(descs[0]!);
  for (const size of [0, 64, 4096, c.windowBytes - 4]) {
    const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
    c.writer.reset().bytes(payload);
    assert.is(c.call(42), 42);
    assert.equal(c.reader.bytes(), payload, `payload of ${size} bytes`);
  }
  await supervisor.stopAll();
});

test('one server loop serves many rings', async () => {
  const { supervisor, descs } = await startEcho(3);
  const clients = descs.map((d) => new RingClient(d));
  for (let round = 0; round < 50; round++) {
    clients.forEach((c, i) => {
      c.writer.reset().bytes(Uint8Array.of(i, round));
      assert.is(c.call(i + 1), i + 1);
      assert.equal([...c.reader.bytes()], [i, round]);
    });
  }
  await supervisor.stopAll();
});

test('a frame lying about its length gets an error status, and the server keeps serving', async () => {
  const { supervisor, actor, descs } = await startEcho();
  const c = new RingClient(descs[0]!);
  // Claims a 1 MB field inside an 8 KiB window.
  c.writer.reset().u32(1_000_000);
  assert.is(c.call(5), 28, 'EINVAL for a field longer than the frame');
  // A frame longer than the window itself, posted by hand the way a hostile peer would.
  const header = new Int32Array(descs[0]!.buffer, 0, RING_HEADER_BYTES / 4);
  header[RingSlot.LENGTH] = 1 << 30;
  header[RingSlot.CODE] = 8;
  Atomics.store(header, RingSlot.STATE, RingState.REQUEST);
  const doorbell = new Int32Array(descs[0]!.doorbell);
  Atomics.add(doorbell, DoorbellSlot.SEQ, 1);
  Atomics.notify(doorbell, DoorbellSlot.SEQ);
  while (Atomics.load(header, RingSlot.STATE) === RingState.REQUEST) Atomics.wait(header, RingSlot.STATE, RingState.REQUEST, 50);
  assert.is(header[RingSlot.CODE], 28, 'EINVAL for a frame longer than the window');
  c.writer.reset().bytes(Uint8Array.of(1, 2, 3));
  assert.is(c.call(6), 6);
  assert.equal([...c.reader.bytes()], [1, 2, 3]);
  c.writer.reset().bytes(Uint8Array.of(9));
  assert.is(c.call(99), 29, 'a handler that throws is answered with EIO');
  c.writer.reset().bytes(Uint8Array.of(4));
  assert.is(c.call(7), 7, 'still serving after the handler failure');
  assert.ok(actor.alive);
  await supervisor.stopAll();
});

test('the reader rejects lengths beyond the window or the frame', () => {
  const r = new FrameReader(new Uint8Array(16));
  const frameError = (e: unknown): boolean => e instanceof FrameError;
  assert.throws(() => r.reset(17), frameError);
  assert.throws(() => r.reset(-1), frameError);
  r.reset(4);
  assert.throws(() => r.u64(), frameError);
  new DataView(r.window.buffer).setUint32(0, 100, true);
  r.reset(16);
  assert.throws(() => r.bytes(), frameError);
});

test('a server that expects a slow reply makes its client park at once; otherwise the client spins', async () => {
  const { supervisor, descs } = await startEcho();
  // A spin far longer than any wait below: only the server's word can make this client park.
  const c = new RingClient(descs[0]!, { spinNs: 60e9 });
  c.writer.reset().u32(50);
  assert.is(c.call(SLOW_CALL), 0, 'no park within 50 ms when the server says nothing');
  assert.is(c.parks, 0);
  c.writer.reset().u32(10_000);
  assert.is(c.call(SLOW_CALL_SAYS_SO), 1, 'parked once the server called expectDelay');
  assert.is(c.parks, 1);
  c.writer.reset().u32(50);
  assert.is(c.call(SLOW_CALL), 0, 'the mark lasts one call');
  await supervisor.stopAll();
});

test('shutting a ring down wakes a parked client with RingClosedError instead of a hang', async () => {
  const supervisor = new Supervisor();
  const doorbell = createDoorbell();
  const desc = createRing(doorbell, createSpinBudget(1));
  // No server at all: the call parks; a supervisor then shuts the ring down from another thread.
  const c = new RingClient(desc, { spinNs: 0 });
  setTimeout(() => shutdownRing(desc), 20);
  c.writer.reset();
  let error: unknown;
  try { await c.callAsync(1); } catch (e) { error = e; }
  assert.instance(error, RingClosedError);
  assert.throws(() => c.call(1), (e: unknown) => e instanceof RingClosedError);
  await supervisor.stopAll();
});

test.run();
