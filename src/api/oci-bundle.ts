/**
 * `--bundle DIR`: the subset of an OCI runtime bundle (DIR/config.json) a WASI sandbox can honour.
 * root.path is the rootfs (with an overlay unless root.readonly), bind mounts become mounts, process.args[0] is
 * the program inside the root, process.env the guest's environment. Mount hints follow gVisor's
 * rule: `dev.actor-sandbox.spec.mount.<NAME>.<key>` annotations, matched to a mount by `source`.
 * Keys we know: `source` (required), `directfs` (off|on; can only switch it off), `share`
 * (container|pod → cache exclusive, shared → cache shared). Unknown keys are ignored; a bad value
 * is an error naming its key.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { InvalidOptionError } from './errors.js';
import type { MountSpec, RootfsSpec } from './mount-spec.js';

export interface OciBundle {
  /** root.path, with the hints that name it; `readOnly` (root.readonly) means no overlay. */
  rootfs: RootfsSpec;
  mounts: MountSpec[];
  /** Host path of the program: process.args[0] inside the root. */
  program: string;
  args: string[];
  env: Record<string, string>;
}

interface OciConfig {
  root?: { path?: unknown; readonly?: unknown };
  mounts?: unknown;
  process?: { args?: unknown; env?: unknown; cwd?: unknown };
  annotations?: unknown;
}

const HINT = 'dev.actor-sandbox.spec.mount.';

export function loadBundle(dir: string): OciBundle {
  const file = join(dir, 'config.json');
  let config: OciConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as OciConfig;
  } catch (e) {
    throw new InvalidOptionError(`--bundle ${dir}: cannot read config.json: ${(e as Error).message}`);
  }
  const bad = (key: string, why: string): never => { throw new InvalidOptionError(`--bundle ${dir}: ${key} ${why}`); };
  if (typeof config !== 'object' || config === null) bad('config.json', 'is not an object');

  const rootPath = config.root?.path;
  if (typeof rootPath !== 'string' || rootPath === '') bad('root.path', 'must be a non-empty string');
  const rootHost = resolve(dir, rootPath as string);
  const rootRo = config.root?.readonly ?? false;
  if (typeof rootRo !== 'boolean') bad('root.readonly', 'must be a boolean');
  const mounts: MountSpec[] = [{ hostPath: rootHost, guestPath: '/', readOnly: rootRo as boolean }];

  const list = config.mounts ?? [];
  if (!Array.isArray(list)) bad('mounts', 'must be an array');
  (list as unknown[]).forEach((raw, i) => {
    const m = raw as { type?: unknown; source?: unknown; destination?: unknown; options?: unknown };
    const options = m.options ?? [];
    if (!Array.isArray(options) || options.some((o) => typeof o !== 'string')) bad(`mounts[${i}].options`, 'must be an array of strings');
    const opts = options as string[];
    const isBind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
    if (!isBind) bad(`mounts[${i}].type`, `"${String(m.type)}" is not supported (only bind mounts)`);
    if (typeof m.source !== 'string' || m.source === '') bad(`mounts[${i}].source`, 'must be a non-empty string');
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/')) bad(`mounts[${i}].destination`, 'must be an absolute path');
    mounts.push({ hostPath: resolve(dir, m.source as string), guestPath: m.destination as string, readOnly: opts.includes('ro') });
  });

  applyHints(config.annotations ?? {}, mounts, dir, bad);

  const args = config.process?.args;
  if (!Array.isArray(args) || args.length === 0 || args.some((a) => typeof a !== 'string')) bad('process.args', 'must be a non-empty array of strings');
  const [prog, ...rest] = args as string[];
  const inRoot = posix.normalize(`/${prog!}`);
  if (!isAbsolute(inRoot) || inRoot.split('/').includes('..')) bad('process.args[0]', 'must name a file inside the root');
  const cwd = config.process?.cwd ?? '/';
  if (cwd !== '/') bad('process.cwd', 'must be "/" (a WASI program has no working directory to start in)');
  const env: Record<string, string> = {};
  const envList = config.process?.env ?? [];
  if (!Array.isArray(envList)) bad('process.env', 'must be an array of "K=V" strings');
  for (const kv of envList as unknown[]) {
    const eq = typeof kv === 'string' ? kv.indexOf('=') : -1;
    if (eq <= 0) bad('process.env', `has a bad entry ${JSON.stringify(kv)}`);
    env[(kv as string).slice(0, eq)] = (kv as string).slice(eq + 1);
  }
  const [root, ...binds] = mounts;
  const { guestPath: _, ...rootfs } = root!;
  return { rootfs, mounts: binds, program: join(rootHost, inRoot), args: rest, env };
}

function applyHints(annotations: unknown, mounts: MountSpec[], dir: string, bad: (key: string, why: string) => never): void {
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) bad('annotations', 'must be an object');
  const hints = new Map<string, Map<string, string>>();
  for (const [key, value] of Object.entries(annotations as Record<string, unknown>)) {
    if (!key.startsWith(HINT)) continue;
    const dot = key.lastIndexOf('.');
    const name = key.slice(HINT.length, dot);
    if (name === '' || dot < HINT.length) continue;
    if (typeof value !== 'string') bad(key, 'must be a string');
    if (!hints.has(name)) hints.set(name, new Map());
    hints.get(name)!.set(key.slice(dot + 1), value as string);
  }
  for (const [name, keys] of hints) {
    const sourceKey = `${HINT}${name}.source`;
    const source = keys.get('source');
    if (source === undefined) bad(sourceKey, 'is missing: a mount hint is matched to a mount by its source');
    const target = mounts.find((m) => m.guestPath !== '/' && m.hostPath === resolve(dir, source!));
    if (!target) bad(sourceKey, `"${source!}" matches no bind mount of the bundle`);
    const directfs = keys.get('directfs');
    if (directfs !== undefined) {
      if (directfs === 'off' || directfs === 'false') target!.directfs = false;
      else if (directfs !== 'on' && directfs !== 'true') bad(`${HINT}${name}.directfs`, `must be off or on, not "${directfs}"`);
    }
    const share = keys.get('share');
    if (share !== undefined) {
      if (share === 'shared') target!.cache = 'shared';
      else if (share === 'container' || share === 'pod') target!.cache = 'exclusive';
      else bad(`${HINT}${name}.share`, `must be container, pod or shared, not "${share}"`);
    }
  }
}
