// A ring server that echoes each request back, for the ring tests and bench.
import { workerData } from 'node:worker_threads';
import { RingServer } from '../../src/actors/ring-server.js';
import { exposeControl } from '../../src/actors/control.js';
import type { RingDescriptor } from '../../src/actors/ring-layout.js';

const { doorbell, spin, rings } = workerData as { doorbell: SharedArrayBuffer; spin: SharedArrayBuffer; rings: RingDescriptor[] };
const server = new RingServer(doorbell, spin, (ring, code) => {
  if (code === 99) throw new Error('handler bug');
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
