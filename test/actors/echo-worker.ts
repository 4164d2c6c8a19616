// A ring server that echoes each request back, for the ring tests and bench.
import { workerData } from 'node:worker_threads';
import { RingServer } from '../../src/actors/ring-server.js';
import { exposeControl } from '../../src/actors/control.js';
import { RingSlot, type RingDescriptor } from '../../src/actors/ring-layout.js';

/** Request codes of slow calls, without and with `expectDelay`; ring.test.ts sends them. */
const SLOW_CALL = 77, SLOW_CALL_SAYS_SO = 78;

const { doorbell, spin, rings } = workerData as { doorbell: SharedArrayBuffer; spin: SharedArrayBuffer; rings: RingDescriptor[] };
const server = new RingServer(doorbell, spin, (ring, code) => {
  if (code === 99) throw new Error('handler bug');
  if (code === SLOW_CALL || code === SLOW_CALL_SAYS_SO) {
    // A slow reply: replies 1 if the client parked within `wait` ms of the request, else 0.
    if (code === SLOW_CALL_SAYS_SO) server.expectDelay();
    const wait = ring.reader.u32();
    const deadline = performance.now() + wait;
    while (Atomics.load(ring.state, RingSlot.CLIENT_PARKED) === 0 && performance.now() < deadline);
    return Atomics.load(ring.state, RingSlot.CLIENT_PARKED);
  }
  const data = ring.reader.bytesView().slice();
  ring.writer.bytes(data);
  return code;
}, { malformedStatus: 28, failureStatus: 29 });
for (const r of rings) server.attach(r);
server.start();
exposeControl({
  stats: () => ({ requests: server.requests, parks: server.parks }),
  stop: () => server.stop(),
});
