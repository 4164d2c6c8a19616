/**
 * What every attack test shares: the two ways a host mount is served (each attack runs in both),
 * a host directory with things worth stealing next to the mounted one, and the checks that
 * nothing of it leaked into the guest's output or changed on disk.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { ROOT, fingerprint, runCli, show, tmpDir, type CliResult } from '../wasi/helpers.js';

/** Directfs (the Sentry on the donated FDs) and the gofer: the same rules must hold for both. */
export const MODES = [
  { name: 'directfs', args: [] as string[], directfs: true },
  { name: 'gofer', args: ['--no-directfs'], directfs: false },
] as const;

export function securityFixture(name: string): string {
  return path.join(ROOT, 'test', 'fixtures', 'security', `${name}.wasm`);
}

/**
 * A host directory holding what an escape would reach: `secret.txt` and `victim/file.txt` (with
 * random markers, so a leak cannot be a coincidence), `shared.txt`, and `mnt/`, the only part
 * that gets mounted.
 */
export interface HostParent {
  parent: string;
  mnt: string;
  secret: string;
  victim: string;
}

export function hostParent(prefix = 'asb-sec-'): HostParent {
  const parent = tmpDir(prefix);
  const secret = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
  const victim = `VICTIM-${randomBytes(8).toString('hex')}`;
  fs.writeFileSync(path.join(parent, 'secret.txt'), secret);
  fs.writeFileSync(path.join(parent, 'shared.txt'), 'shared-by-owner');
  fs.mkdirSync(path.join(parent, 'victim'));
  fs.writeFileSync(path.join(parent, 'victim', 'file.txt'), victim);
  const mnt = path.join(parent, 'mnt');
  fs.mkdirSync(mnt);
  return { parent, mnt, secret, victim };
}

/** fingerprint(dir) without the mounted children, where the guest may legitimately write. */
export function outside(dir: string, mounted: string[] = ['mnt']): Record<string, string> {
  const fp = fingerprint(dir);
  for (const k of Object.keys(fp)) if (mounted.some((m) => k === m || k.startsWith(`${m}/`))) delete fp[k];
  return fp;
}

/** The host's own files an escape would go for first. */
function etcPasswdId(): string {
  const s = fs.statSync('/etc/passwd', { bigint: true });
  return `${s.ino} ${s.mtimeNs} ${s.size}`;
}

const passwdFirstLine = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;

/** Runs the CLI with a timeout: a hang (a FIFO opened, a loop never ending) fails the test. */
export function runAttack(args: string[]): CliResult {
  return runCli(['run', ...args], { timeoutMs: 20_000 });
}

/** Nothing the guest printed came from outside its mounts. */
export function assertNoLeak(out: string, host: HostParent): void {
  assert.not.ok(out.includes(host.secret), `the host's secret.txt leaked:\n${out}`);
  assert.not.ok(out.includes(host.victim), `the host's victim/file.txt leaked:\n${out}`);
  assert.not.ok(out.includes(passwdFirstLine), `the host's /etc/passwd leaked:\n${out}`);
}

/**
 * Runs `attack` (which runs the guest) and asserts it left the host parent (outside `mounted`)
 * and /etc/passwd byte-for-byte and metadata-for-metadata as they were, and leaked nothing.
 */
export function guarded(host: HostParent, attack: () => CliResult, mounted: string[] = ['mnt']): CliResult {
  const before = outside(host.parent, mounted);
  const etc = etcPasswdId();
  const r = attack();
  assertNoLeak(r.stdout + r.stderr, host);
  assert.equal(outside(host.parent, mounted), before, `the host outside the mounts changed\n${show(r)}`);
  assert.is(etcPasswdId(), etc, '/etc/passwd changed');
  return r;
}

/** The guest exited 0 with exactly this stdout (its `ok GROUP` and READ/LS lines) and no stderr. */
export function assertGuest(r: CliResult, stdout: string): void {
  assert.is(r.stderr, '', show(r));
  assert.is(r.stdout, stdout, show(r));
  assert.is(r.status, 0, show(r));
}
