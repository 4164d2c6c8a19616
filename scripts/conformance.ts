/**
 * Runs the official WASI test suite (WebAssembly/wasi-testsuite, branch prod/testsuite-base)
 * against our CLI, by the rules of its doc/specification.md: for each tests/<lang>/testsuite/
 * wasm32-wasip1/*.wasm, remove *.cleanup artifacts, read the .json spec (defaults: no args, no env,
 * no root, exit 0), run `actor-sandbox run --dir ROOT::/ --env K=V… PROG.wasm ARGS` in the test's
 * directory, and compare the exit code (and stdout/stderr where the spec names them).
 *
 * Usage: node dist/scripts/conformance.js SUITE_DIR [--mode=gofer] [--filter=substr]
 * The suite is not part of this repository: extract it next to it, e.g.
 *   git -C <mirror> archive prod/testsuite-base tests | tar -x -C /tmp/wasi-testsuite
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Spec { args?: string[]; env?: Record<string, string>; root?: string | null; dirs?: string[]; exit_code?: number; stdout?: string; stderr?: string }

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const [suite, ...rest] = process.argv.slice(2);
if (!suite || !existsSync(suite)) {
  process.stderr.write('usage: conformance SUITE_DIR [--filter=substr] [--no-directfs]\n');
  process.exit(2);
}
const filter = rest.find((a) => a.startsWith('--filter='))?.slice(9);
/** Run every mount through its gofer instead of directfs. */
const noDirectfs = rest.includes('--no-directfs');

const dirs: string[] = [];
for (const lang of readdirSync(join(suite, 'tests'))) {
  const d = join(suite, 'tests', lang, 'testsuite', 'wasm32-wasip1');
  if (existsSync(d)) dirs.push(d);
}

let passed = 0;
const failures: string[] = [];
for (const dir of dirs) {
  removeCleanups(dir);
  for (const wasm of readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort()) {
    const name = `${dir.split('/').slice(-3, -2)[0]}/${wasm.replace(/\.wasm$/, '')}`;
    if (filter && !name.includes(filter)) continue;
    const specFile = join(dir, wasm.replace(/\.wasm$/, '.json'));
    const spec: Spec = existsSync(specFile) ? JSON.parse(readFileSync(specFile, 'utf8')) as Spec : {};
    const argv = noDirectfs ? ['run', '--no-directfs'] : ['run'];
    for (const [k, v] of Object.entries(spec.env ?? {})) argv.push('--env', `${k}=${v}`);
    if (spec.root) argv.push('--dir', `${spec.root}::/`);
    for (const d of spec.dirs ?? []) argv.push('--dir', `${d}::${d}`);
    argv.push(wasm, ...(spec.args ?? []));
    const r = spawnSync(process.execPath, [cli, ...argv], { cwd: dir, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const problems: string[] = [];
    const want = spec.exit_code ?? 0;
    if (r.status !== want) problems.push(`exit ${r.status ?? r.signal} (want ${want})`);
    if (spec.stdout !== undefined && r.stdout !== spec.stdout) problems.push(`stdout ${JSON.stringify(r.stdout.slice(0, 200))} (want ${JSON.stringify(spec.stdout)})`);
    if (spec.stderr !== undefined && r.stderr !== spec.stderr) problems.push(`stderr ${JSON.stringify(r.stderr.slice(0, 200))}`);
    if (problems.length === 0) { passed++; process.stdout.write(`PASS ${name}\n`); }
    else {
      failures.push(name);
      process.stdout.write(`FAIL ${name}: ${problems.join('; ')}\n${r.stderr.split('\n').slice(0, 6).map((l) => `     | ${l}`).join('\n')}\n`);
    }
  }
  removeCleanups(dir);
}

/** Removes test artifacts (`*.cleanup`) anywhere below `dir`, as the spec's runner does. */
function removeCleanups(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.name.endsWith('.cleanup')) rmSync(p, { recursive: true, force: true });
    else if (entry.isDirectory() && !statSync(p).isSymbolicLink()) removeCleanups(p);
  }
}
process.stdout.write(`\nwasi-testsuite: ${passed} passed, ${failures.length} failed\n`);
if (failures.length) process.stdout.write(`failed: ${failures.join(' ')}\n`);
