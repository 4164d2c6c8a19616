/**
 * Races on a path component (race.c): while one party swaps the directory WORKDIR/d for a symlink
 * aimed outside and back, again and again, a guest task goes through `d/…` with read, stat,
 * readdir and O_CREAT, and through a directory fd it opened on d beforehand. A check-then-use gap
 * anywhere (the Sentry trusting a cached "d is a directory" while the host follows the new link,
 * or a server resolving more than one component) would show as the host's secret in its output,
 * a stat of the wrong inode, or a file written next to the mount.
 *
 *  - the swapper is another guest task in the SAME sandbox (both tasks' calls interleave in one
 *    Sentry; relative symlinks that climb one level, two, and up to the host's / and back);
 *  - the swapper is the host itself, from this process, under a mount with cache=shared (the
 *    policy for directories changed from outside), with absolute targets too.
 * Every link, followed on the host, names the mount's parent (the test's temporary directory,
 * holding the real secret.txt): an escaped write would land there, seen and harmless. ESTALE is tolerated there: directfs keeps FD-less dentries and
 *    revives them by name, and a name the host swapped meanwhile is ESTALE (docs/ARCHITECTURE.md),
 *    a refusal. Before the fix in GoferServer.walkStat, directfs also answered a spurious ENOTDIR
 *    here (statx saw a directory, the openat that followed got the symlink swapped in).
 * Bounded: the opener makes N rounds, the guest swapper stops when the opener is done, and each
 * run must finish within RUN_LIMIT_MS.
 */
import { test } from 'uvu';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { createSandbox, type RunResult } from '../../src/index.js';
import { cleanupTmp, tree } from '../wasi/helpers.js';
import { MODES, assertNoLeak, hostParent, outside, securityFixture, type HostParent } from './harness.js';

test.after(cleanupTmp);

const RACE = securityFixture('race');
const ROUNDS = '600';
const RUN_LIMIT_MS = 30_000;

function setup(): HostParent {
  const host = hostParent('asb-race-');
  fs.mkdirSync(path.join(host.mnt, 'd'));
  fs.writeFileSync(path.join(host.mnt, 'd', 'secret.txt'), 'inside-d');
  return host;
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish in ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function text(r: RunResult): string {
  return `exit ${r.exitCode}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** The opener reported nothing unexpected, and the swap really raced it (it met a link). */
function assertOpener(r: RunResult, host: HostParent): void {
  assertNoLeak(r.stdout.toString() + r.stderr.toString(), host);
  assert.is(r.stdout.toString(), 'ok open\n', text(r));
  assert.is(r.exitCode, 0, text(r));
  const read = /^read:(.*)$/m.exec(r.stderr.toString())?.[1] ?? '';
  assert.match(read, /NOENT=\d+|NOTCAPABLE=\d+/, `the opener never met the swapped link: ${read}`);
}

for (const mode of MODES) {
  test(`race: a guest task swaps d <-> symlink outside while another goes through it (${mode.name})`, async () => {
    const host = setup();
    const before = outside(host.parent);
    await using sandbox = await createSandbox({ mounts: [{ hostPath: host.mnt, guestPath: '/m' }], directfs: mode.directfs, maxConcurrentTasks: 2 });
    const [swap, open] = await within(Promise.all([
      sandbox.run(RACE, { args: ['/m', host.parent, 'swap', '1000000'] }),
      sandbox.run(RACE, { args: ['/m', host.parent, 'open', ROUNDS, 'wait'] }),
    ]), 'the race');
    assertNoLeak(swap.stdout.toString() + swap.stderr.toString(), host);
    assert.is(swap.stdout.toString(), 'ok swap\n', text(swap));
    assert.is(swap.exitCode, 0, text(swap));
    assertOpener(open, host);
    assert.equal(outside(host.parent), before, 'the host outside the mount changed');
    assert.equal(tree(host.mnt), { d: 'dir', 'd/secret.txt': 'file:inside-d', 'd/written.txt': 'file:opener', stop: 'dir' });
  });

  test(`race: the host swaps d <-> symlink outside while a guest goes through it (${mode.name})`, async () => {
    const host = setup();
    const before = outside(host.parent);
    const d = path.join(host.mnt, 'd');
    const away = path.join(host.mnt, 'd_away');
    const up = '../'.repeat(8);
    const targets = ['..', host.parent, `/../../..${host.parent}`, `../../${path.basename(host.parent)}`, `${up}${host.parent.slice(1)}`];
    for (const t of targets) assert.is(path.resolve(host.mnt, t), host.parent, t);
    await using sandbox = await createSandbox({ mounts: [{ hostPath: host.mnt, guestPath: '/m', cache: 'shared' }], directfs: mode.directfs });
    let done = false;
    let swaps = 0;
    // One state change per turn of the event loop, so the guest (on other threads) sees each.
    const swapper = new Promise<void>((resolve, reject) => {
      const step = (): void => {
        try {
          if (fs.lstatSync(d).isDirectory()) {
            fs.renameSync(d, away);
            fs.symlinkSync(targets[swaps++ % targets.length]!, d);
          } else {
            fs.unlinkSync(d);
            fs.renameSync(away, d);
            if (done) { resolve(); return; }
          }
          setImmediate(step);
        } catch (e) { reject(e); }
      };
      step();
    });
    const open = await within(sandbox.run(RACE, { args: ['/m', host.parent, 'open', ROUNDS, 'STALE'] }), 'the opener').finally(() => { done = true; });
    await swapper;
    assert.ok(swaps > 10, `only ${swaps} swaps`);
    assertOpener(open, host);
    assert.equal(outside(host.parent), before, 'the host outside the mount changed');
    // Whether a create ever found d a directory is up to the scheduler (under directfs, ESTALE
    // takes many turns); what may never be there is anything else.
    const left = tree(host.mnt);
    delete left['d/written.txt'];
    assert.equal(left, { d: 'dir', 'd/secret.txt': 'file:inside-d', stop: 'dir' });
    const written = path.join(host.mnt, 'd', 'written.txt');
    if (fs.existsSync(written)) assert.is(fs.readFileSync(written, 'utf8'), 'opener');
  });
}

test.run();
