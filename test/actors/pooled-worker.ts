// An actor whose stop answers what the test told it: whether it released everything (IdleWorkers).
import { threadId } from 'node:worker_threads';
import { exposeControl } from '../../src/actors/control.js';

let clean = true;
let stops = 0;
exposeControl({
  stats: () => ({ threadId, stops }),
  setClean: (c: boolean) => { clean = c; },
  stop: async () => { stops++; return clean; },
});
