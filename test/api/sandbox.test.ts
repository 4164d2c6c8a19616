import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSandboxError, createSandbox, type SandboxEvent } from '../../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/api/${name}`, import.meta.url));

async function rejection(p: Promise<unknown>): Promise<ActorSandboxError> {
  try { await p; } catch (e) { assert.instance(e, ActorSandboxError); return e as ActorSandboxError; }
  throw new Error('expected a rejection');
}

test('stdin reaches the guest and its stdout comes back byte for byte', async () => {
  await using sandbox = await createSandbox();
  const input = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
  const r = await sandbox.run(fixture('cat.wasm'), { stdin: input });
  assert.equal(r.stdout, input);
  assert.is(r.exitCode, input.byteLength % 256);
  assert.is(r.stderr.byteLength, 0);
});

test('stats time the Sentry\'s handlers: a mean for each syscall sampled, none for a fresh Sentry', async () => {
  await using sandbox = await createSandbox();
  assert.equal((await sandbox.stats()).kernel.handlerMeanUs, {});
  // nullcall makes N fd_prestat_get calls in a row: one in 16 calls is timed, so 64 get timed 4 times.
  const nullcall = fileURLToPath(new URL('../../../test/fixtures/bench/nullcall.wasm', import.meta.url));
  const r = await sandbox.run(nullcall, { args: ['64', '1'] });
  assert.is(r.exitCode, 0, r.stderr.toString());
  const { syscalls, handlerMeanUs } = (await sandbox.stats()).kernel;
  assert.ok(syscalls['fd_prestat_get']! >= 64);
  const mean = handlerMeanUs['fd_prestat_get'];
  assert.ok(mean !== undefined && Number.isFinite(mean) && mean > 0, `fd_prestat_get mean ${mean}`);
  for (const [name, us] of Object.entries(handlerMeanUs)) {
    assert.ok(syscalls[name] !== undefined, `${name} timed but never counted`);
    assert.ok(Number.isFinite(us) && us >= 0, `${name}: ${us}`);
  }
});

test('a task blocked on stdin is held in the Sentry and does not stall another task', async () => {
  await using sandbox = await createSandbox({ maxConcurrentTasks: 2 });
  const stdin = new PassThrough();
  const blocked = sandbox.run(fixture('cat.wasm'), { stdin });
  stdin.write('first ');
  const other = await sandbox.run(fixture('cat.wasm'), { stdin: 'second' });
  assert.is(other.stdout.toString(), 'second', 'the second task ran to completion while the first waited');
  stdin.end('part');
  const first = await blocked;
  assert.is(first.stdout.toString(), 'first part');
});

test('a trap is reported as a result with the stderr written before it; the sandbox goes on', async () => {
  await using sandbox = await createSandbox();
  const events: SandboxEvent[] = [];
  sandbox.events.subscribe((e) => events.push(e));
  const r = await sandbox.run(fixture('crash.wasm'));
  assert.is(r.exitCode, 134);
  assert.match(r.trap ?? '', /unreachable/);
  assert.is(r.stderr.toString(), 'about to trap\n');
  const again = await sandbox.run(fixture('cat.wasm'), { stdin: 'ok' });
  assert.is(again.stdout.toString(), 'ok');
  assert.ok(events.some((e) => e.type === 'task-exit' && e.exitCode === 134 && e.trap !== undefined));
});

test('bad programs and mounts are typed errors with stable codes', async () => {
  assert.is((await rejection(createSandbox({ mounts: [{ hostPath: '/definitely/not/here', guestPath: '/x' }] }))).code, 'ASB_ERR_MOUNT');
  const dir = mkdtempSync(join(tmpdir(), 'asb-api-'));
  try {
    assert.is((await rejection(createSandbox({ mounts: [{ hostPath: dir, guestPath: 'relative' }] }))).code, 'ASB_ERR_MOUNT');
    await using sandbox = await createSandbox();
    assert.is((await rejection(sandbox.run(Buffer.from('not wasm at all')))).code, 'ASB_ERR_PROGRAM');
    assert.is((await rejection(sandbox.run(join(dir, 'missing.wasm')))).code, 'ASB_ERR_PROGRAM');
    assert.is((await rejection(sandbox.run(fixture('cat.wasm'), { env: { 'A=B': '1' } }))).code, 'ASB_ERR_INVALID_OPTION');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dead kernel fails the running task with ASB_ERR_KERNEL_GONE instead of hanging', async () => {
  const sandbox = await createSandbox();
  const deaths: string[] = [];
  sandbox.events.subscribe((e) => { if (e.type === 'died') deaths.push(e.actor); });
  const stdin = new PassThrough();
  const running = sandbox.run(fixture('cat.wasm'), { stdin });
  await new Promise((r) => setTimeout(r, 100));
  // Kill the Sentry's thread from outside, as a crash would.
  const kernel = (sandbox as unknown as { kernel: { worker: Worker } }).kernel.worker;
  await kernel.terminate();
  const err = await rejection(running);
  assert.is(err.code, 'ASB_ERR_KERNEL_GONE');
  assert.equal(deaths, ['kernel']);
  await sandbox.close();
});

test.run();
