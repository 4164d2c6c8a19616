import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Supervisor, type WorkerActor } from '../../src/actors/actor.js';
import { IdleWorkers } from '../../src/actors/idle-workers.js';

interface Pooled { stats(): { threadId: number; stops: number }; setClean(c: boolean): void; stop(): Promise<boolean> }
const SCRIPT = new URL('./pooled-worker.js', import.meta.url);

const spawn = (s: Supervisor, idle: IdleWorkers<Pooled>, kind = 'a'): WorkerActor<Pooled> => s.spawn<Pooled>('pooled', SCRIPT, {}, { from: idle, kind });
const retire = (s: Supervisor, a: WorkerActor<Pooled>, idle: IdleWorkers<Pooled>, kind = 'a'): Promise<void> => s.retire(a, { from: idle, kind }, () => a.control.stop());
const exited = (a: WorkerActor<Pooled>): Promise<boolean> => new Promise((resolve) => {
  a.worker.once('exit', () => resolve(true));
  setTimeout(() => resolve(false), 3000).unref();
});

test('a clean stop keeps the worker; the next spawn gets that same thread, already stopped once', async () => {
  const idle = new IdleWorkers<Pooled>(2, 60_000);
  const s = new Supervisor();
  const a = spawn(s, idle);
  const { threadId } = await a.control.stats();
  await retire(s, a, idle);
  assert.is(idle.size, 1);
  assert.not.ok(a.alive, 'the retired actor is no longer its owner\'s');
  const b = spawn(s, idle);
  assert.is(idle.size, 0);
  assert.equal(await b.control.stats(), { threadId, stops: 1 });
  await s.stopAll();
  await idle.drain();
});

test('an unclean stop, a full pool and the idle timeout each terminate a worker', async () => {
  const idle = new IdleWorkers<Pooled>(1, 200);
  const s = new Supervisor();
  const unclean = spawn(s, idle);
  await unclean.control.setClean(false);
  const uncleanExit = exited(unclean);
  await retire(s, unclean, idle);
  assert.ok(await uncleanExit, 'a worker that did not release everything is not kept');
  assert.is(idle.size, 0);

  const [x, y] = [spawn(s, idle), spawn(s, idle)];
  await Promise.all([x.control.stats(), y.control.stats()]);
  const xExit = exited(x);
  const yExit = exited(y);
  // An idle worker and its timer never hold the process open: hold it here while they run.
  const hold = setTimeout(() => undefined, 5000);
  await retire(s, x, idle);
  await retire(s, y, idle);
  assert.ok(await xExit, 'the pool holds one: the one kept first is terminated');
  assert.is(idle.size, 1);
  assert.ok(await yExit, 'the kept one ends after the idle timeout');
  assert.is(idle.size, 0);
  clearTimeout(hold);
  await s.stopAll();
});

test('a taker gets only an idle worker of its own kind; a full pool drops the least recently kept', async () => {
  const idle = new IdleWorkers<Pooled>(2, 60_000);
  const s = new Supervisor();
  const [a, b, c] = [spawn(s, idle, 'memory'), spawn(s, idle, 'filestore'), spawn(s, idle, 'gofer')];
  const ids = await Promise.all([a, b, c].map(async (x) => (await x.control.stats()).threadId));
  const aExit = exited(a);
  await retire(s, a, idle, 'memory');
  await retire(s, b, idle, 'filestore');
  await retire(s, c, idle, 'gofer');
  assert.ok(await aExit, 'the pool holds two: the memory one, kept first, is terminated');
  assert.is(idle.size, 2);
  const m = spawn(s, idle, 'memory');
  assert.not.ok(ids.includes((await m.control.stats()).threadId), 'no memory kind waits: a new worker');
  assert.is(idle.size, 2);
  const f = spawn(s, idle, 'filestore');
  assert.is((await f.control.stats()).threadId, ids[1], 'the filestore one, though the gofer one came later');
  await s.stopAll();
  await idle.drain();
});

test.run();
