/**
 * Kernel and task workers outlive their sandbox (IdleWorkers, the shared task pool), so their
 * compiled code stays warm. What must not outlive it is anything of the sandbox itself.
 */
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSandboxError, createSandbox } from '../../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/api/${name}`, import.meta.url));

test('the next sandbox boots on the closed one\'s kernel and sees nothing of its files, tasks or counts', async () => {
  const first = await createSandbox();
  const one = await first.run(fixture('treewalk.wasm'), { args: ['/'] });
  assert.is(one.exitCode, 0, one.stderr.toString());
  const before = await first.stats();
  assert.ok(before.kernel.syscalls['path_open']! > 0);
  await first.close();

  await using second = await createSandbox();
  const st = await second.stats();
  assert.is(st.kernel.boots, before.kernel.boots + 1, 'the kernel worker was reused');
  assert.is(st.kernel.tasks, 0);
  assert.equal(st.kernel.syscalls, {});
  // treewalk lists the root, then makes new.txt and newdir in it: the second run must list the
  // empty root again, byte for byte what the first printed.
  const two = await second.run(fixture('treewalk.wasm'), { args: ['/'] });
  assert.is(two.stdout.toString(), one.stdout.toString());
  assert.not.match(two.stdout.toString(), /new\.txt|newdir/);
});

test('memory that a closed sandbox\'s files used reaches the next sandbox only as zeros', async () => {
  const first = await createSandbox();
  for (let i = 0; i < 24; i++) {
    const r = await first.run(fixture('filestore.wasm'), { args: ['fill', `/f${i}`, '60000'] });
    assert.is(r.stdout.toString(), 'wrote 60000 ok\nverified 60000\n');
  }
  const boots = (await first.stats()).kernel.boots;
  await first.close();

  await using second = await createSandbox();
  assert.is((await second.stats()).kernel.boots, boots + 1, 'the same kernel thread');
  // Files grown by truncate and by a write past a hole: every byte but the written one reads 0.
  const r = await second.run(fixture('filestore.wasm'), { args: ['zeros', '/', '60000', '40'] });
  assert.is(r.stdout.toString(), `zeros ${60000 * 40}\n`);
});

test('closing a sandbox ends its running task with ASB_ERR_CLOSED; the next sandbox runs on the same workers', async () => {
  const first = await createSandbox();
  const stdin = new PassThrough();
  const running = first.run(fixture('cat.wasm'), { stdin });
  stdin.write('x');
  await new Promise((r) => setTimeout(r, 100));
  const boots = (await first.stats()).kernel.boots;
  let settled = false;
  const outcome = running.then(() => undefined, (e: unknown) => e).finally(() => { settled = true; });
  await first.close();
  // Not later: the run's last step is a call to the kernel, retired by now to an unref'd idle
  // worker, and a script whose last await was that run could exit with the run never settled.
  assert.ok(settled, 'close() resolves once the runs it cut off have settled');
  const err = await outcome;
  assert.instance(err, ActorSandboxError);
  assert.is((err as ActorSandboxError).code, 'ASB_ERR_CLOSED');

  await using second = await createSandbox();
  assert.is((await second.stats()).kernel.boots, boots + 1, 'a kernel whose task was cut off still stopped cleanly');
  const r = await second.run(fixture('cat.wasm'), { stdin: 'after' });
  assert.is(r.stdout.toString(), 'after');
});

test('a kernel worker reused by sandbox after sandbox keeps no listener of any of them', async () => {
  // Node warns once an emitter holds more than 10 listeners of one event: each sandbox that
  // left its start-up error listener on the warm worker would bring that day 10 sandboxes nearer.
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`); };
  process.on('warning', onWarning);
  try {
    let boots = -1;
    for (let i = 0; i < 14; i++) {
      await using sandbox = await createSandbox();
      const b = (await sandbox.stats()).kernel.boots;
      if (boots >= 0) assert.is(b, boots + 1, 'the same kernel worker');
      boots = b;
    }
    // A warning is emitted on the next tick.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
});

test('a sandbox still runs at most maxConcurrentTasks tasks at once on the shared task workers', async () => {
  await using sandbox = await createSandbox({ maxConcurrentTasks: 1 });
  const stdin = new PassThrough();
  // The second run starts once the first one's task echoes: it holds the only slot by then. (Two
  // runs started together reach the slot in either order: each compiles and makes its task first.)
  let echoed!: () => void;
  const running = new Promise<void>((r) => { echoed = r; });
  const blocked = sandbox.run(fixture('cat.wasm'), { stdin, onStdout: () => echoed() });
  stdin.write('first');
  await running;
  let secondDone = false;
  const second = sandbox.run(fixture('cat.wasm'), { stdin: 'second' }).then((r) => { secondDone = true; return r; });
  second.catch(() => undefined); // a failed assertion closes the sandbox: that rejection is not the news
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(secondDone, 'the second task waited for the first one\'s slot');
  stdin.end();
  assert.is((await blocked).stdout.toString(), 'first');
  assert.is((await second).stdout.toString(), 'second');
});

test.run();
