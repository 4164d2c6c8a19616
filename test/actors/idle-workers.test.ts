import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Supervisor, type WorkerActor } from '../../src/actors/actor.js';
import { IdleWorkers } from '../../src/actors/idle-workers.js';

interface Pooled { stats(): { threadId: number; stops: number }; setClean(c: boolean): void; stop(): Promise<boolean> }
const SCRIPT = new URL('./pooled-worker.js', import.meta.url);

const spawn = (s: Supervisor, idle: IdleWorkers<Pooled>): WorkerActor<Pooled> => s.spawn<Pooled>('pooled', SCRIPT, {}, idle);
const exited = (a: WorkerActor<Pooled>): Promise<boolean> => new Promise((resolve) => {
  a.worker.once('exit', () => resolve(true));
  setTimeout(() => resolve(false), 3000).unref();
});

test('a clean stop keeps the worker; the next spawn gets that same thread, already stopped once', async () => {
  const idle = new IdleWorkers<Pooled>(2, 60_000);
  const s = new Supervisor();
  const a = spawn(s, idle);
  const { threadId } = await a.control.stats();
  await s.retire(a, idle, () => a.control.stop());
  assert.is(idle.size, 1);
  assert.not.ok(a.alive, 'the retired actor is no longer its owner\'s');
  const b = spawn(s, idle);
  assert.is(idle.size, 0);
  assert.equal(await b.control.stats(), { threadId, stops: 1 });
  await s.stopAll();
  await idle.drain();
});

test('an unclean stop, a full pool and the idle timeout each terminate the worker', async () => {
  const idle = new IdleWorkers<Pooled>(1, 200);
  const s = new Supervisor();
  const unclean = spawn(s, idle);
  await unclean.control.setClean(false);
  const uncleanExit = exited(unclean);
  await s.retire(unclean, idle, () => unclean.control.stop());
  assert.ok(await uncleanExit, 'a worker that did not release everything is not kept');
  assert.is(idle.size, 0);

  const [x, y] = [spawn(s, idle), spawn(s, idle)];
  await Promise.all([x.control.stats(), y.control.stats()]);
  const yExit = exited(y);
  const xExit = exited(x);
  await s.retire(x, idle, () => x.control.stop());
  await s.retire(y, idle, () => y.control.stop());
  assert.ok(await yExit, 'the pool holds one: the second is terminated');
  assert.is(idle.size, 1);
  // An idle worker and its timer never hold the process open: hold it here while the timer runs.
  const hold = setTimeout(() => undefined, 5000);
  assert.ok(await xExit, 'the kept one ends after the idle timeout');
  clearTimeout(hold);
  assert.is(idle.size, 0);
  await s.stopAll();
});

test.run();
