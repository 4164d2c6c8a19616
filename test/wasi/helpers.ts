/**
 * Shared helpers for the WASI conformance tests: run the real CLI as a child process, make and
 * clean temp dirs, and describe a host directory tree so tests can assert what is on disk.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/wasi/helpers.js → the repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'wasi');
export const EXAMPLES = path.join(ROOT, 'examples');

export function fixture(name: string): string {
  return path.join(FIXTURES, `${name}.wasm`);
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * `node dist/src/cli.js ARGS...` with an empty stdin, a clean environment (plus `extraEnv`, which
 * the guest must NOT see) and a timeout.
 */
export function runCli(args: string[], opts: { extraEnv?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): CliResult {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} does not exist: build the project first (npx tsc -p .)`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...opts.extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** Formats a result for assertion messages. */
export function show(r: CliResult): string {
  return `status=${r.status} signal=${r.signal}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}---`;
}

const made: string[] = [];

/** A fresh directory under os.tmpdir(), removed by cleanupTmp(). */
export function tmpDir(prefix = 'asb-wasi-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTmp(): void {
  for (const d of made.splice(0)) {
    try {
      makeWritable(d);
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

function makeWritable(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.mode | 0o700);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) makeWritable(path.join(p, e));
}

/**
 * The tree under `dir` as { relpath: description }: `dir`, `file:<utf8 content>`,
 * `link:<target>`. Keys sorted, so deep-equal compares whole trees.
 */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else if (st.isFile()) out[r] = `file:${fs.readFileSync(p, 'utf8')}`;
      else out[r] = 'other';
    }
  };
  walk('');
  return out;
}

/**
 * Like tree(), plus each entry's mode, size, mtime (ns) and inode: a byte-for-byte and
 * metadata-for-metadata fingerprint of a directory that must not change.
 */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (rel: string): void => {
    const p = rel ? path.join(dir, rel) : dir;
    const st = fs.lstatSync(p, { bigint: true });
    let what = 'other';
    if (st.isSymbolicLink()) what = `link:${fs.readlinkSync(p)}`;
    else if (st.isDirectory()) what = 'dir';
    else if (st.isFile()) what = `file:${fs.readFileSync(p).toString('base64')}`;
    out[rel || '.'] = `${what} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeNs} ino=${st.ino} nlink=${st.nlink}`;
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) add(rel ? `${rel}/${e}` : e);
  };
  add('');
  return out;
}

/** `ok NAME` lines for a list of check groups. */
export function okLines(...groups: string[]): string {
  return groups.map((g) => `ok ${g}\n`).join('');
}
