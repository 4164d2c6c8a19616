// The host actor's lifecycle as a user meets it: rootless when not root, a clear refusal where the
// machine allows neither, and a sandbox that stops taking runs when the actor dies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSandboxError, createSandbox } from '../../src/index.js';
import { CLI, cleanupTmp, fixture, show, tmpDir } from '../wasi/helpers.js';

test.after(cleanupTmp);

const NOBODY = 65534;

/** A host directory anyone may write, for a guest that runs as nobody. */
function openDir(): string {
  const d = tmpDir('asb-host-');
  fs.chmodSync(d, 0o777);
  return d;
}

function run(prefix: string[], args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, CLI, 'run', ...args], {
    encoding: 'utf8', timeout: 60_000, input: '', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir() },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const canSetpriv = spawnSync('setpriv', ['--version']).status === 0 && process.getuid?.() === 0;

test('not root: the host actor builds the mounts in a user namespace (rootless), files land as the user', () => {
  if (!canSetpriv) { console.log('  (skipped: needs root to become nobody)'); return; }
  const dir = openDir();
  const r = run(['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'],
    ['--dir', `${dir}::/data`, '--json', fixture('path_ops'), '/data']);
  assert.is(r.status, 0, show({ ...r, signal: null, ms: 0 }));
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!) as { sandbox: { host: { mode: string } } };
  assert.is(json.sandbox.host.mode, 'rootless');
  const made = fs.statSync(path.join(dir, 'po', 'kept.txt'));
  assert.is(made.uid, NOBODY, 'written by the unprivileged user, not by root');
});

test('neither CAP_SYS_ADMIN nor user namespaces: exit 77 and a message naming both ways out', () => {
  if (!canSetpriv) { console.log('  (skipped: needs root to build the unprivileged setting)'); return; }
  const dir = openDir();
  // A user namespace in which no further user namespace may be made, and no capability is left.
  const r = spawnSync('unshare', ['--user', '--map-root-user', 'sh', '-c',
    'echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --inh-caps=-all --bounding-set=-all "$@"', 'sh',
    process.execPath, CLI, 'run', '--dir', `${dir}::/data`, fixture('exit42')], { encoding: 'utf8', timeout: 60_000, input: '' });
  assert.is(r.status, 77, `${r.status} ${r.stderr}`);
  assert.match(r.stderr, /CAP_SYS_ADMIN/);
  assert.match(r.stderr, /user namespaces/);
  assert.is(r.stdout, '', 'the guest never ran');
  assert.equal(fs.readdirSync(dir), [], 'nothing was written');
});

test('the host actor dies: an event, then ASB_ERR_HOST_GONE for new runs; its staging directory is removed', async () => {
  const dir = tmpDir('asb-host-');
  await using sandbox = await createSandbox({ mounts: [{ hostPath: dir, guestPath: '/data' }] });
  const deaths: string[] = [];
  sandbox.events.subscribe((e) => { if (e.type === 'died') deaths.push(e.actor); });
  const stats = await sandbox.stats();
  assert.ok(stats.host, 'a sandbox with host mounts has a host actor');
  const pid = stats.host.pid;
  assert.is((await sandbox.run(fixture('exit42'))).exitCode, 42);
  const staging = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('asb-root-'));
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && deaths.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(deaths, ['host']);
  try {
    await sandbox.run(fixture('exit42'));
    assert.unreachable('ran without its host actor');
  } catch (e) {
    assert.instance(e, ActorSandboxError);
    assert.is((e as ActorSandboxError).code, 'ASB_ERR_HOST_GONE');
  }
  const left = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('asb-root-'));
  assert.ok(left.length < staging.length, 'the dead actor\'s staging directory went with it');
});

test('a sandbox without host mounts starts no host actor', async () => {
  await using sandbox = await createSandbox();
  assert.is((await sandbox.stats()).host, null);
  assert.is((await sandbox.run(fixture('exit42'))).exitCode, 42);
});

test.run();
