import { statSync } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GoferBackendModule } from '../fs/gofer/gofer-backend.js';
import { InvalidOptionError, MountError } from './errors.js';

/** A host directory the guest sees at `guestPath`. */
export interface MountSpec {
  hostPath: string;
  guestPath: string;
  readOnly?: boolean;
  /**
   * `exclusive` (default): the sandbox is the only one changing the directory while it runs, so
   * names and attributes it has seen are cached (a repeated stat or open costs no round trip).
   * `shared`: something outside may change it at any time; every path is looked up again and
   * every stat asks the host.
   */
  cache?: 'exclusive' | 'shared';
  /** `false` switches directfs off for this mount (its I/O goes through its gofer). It cannot switch it on. */
  directfs?: boolean;
}

export type NormalisedMount = Required<MountSpec>;

/**
 * The root filesystem: a host directory seen at "/". Unless `readOnly`, writes go to an overlay
 * (SandboxOptions.overlay) and the directory itself is never written.
 */
export type RootfsSpec = Omit<MountSpec, 'guestPath'>;

/**
 * Where writes to the rootfs go (runsc's `--overlay2` mediums). An upper layer inside the sandbox
 * whose file data lives in the Sentry's memory (`memory`), in a filestore file in the rootfs's own
 * host directory, hidden from the guest (`self`), or in an unnamed file in a host directory
 * (`{ dir }`); or nowhere (`none`): writes go through to the host directory.
 */
export type OverlayMedium = 'memory' | 'self' | 'none' | { dir: string };

/** Checks an OverlayMedium from untyped input (the API's options, the CLI). */
export function checkOverlayMedium(m: unknown): OverlayMedium {
  if (m === 'memory' || m === 'self' || m === 'none') return m;
  if (typeof m === 'object' && m !== null && 'dir' in m) {
    const dir = (m as { dir: unknown }).dir;
    if (typeof dir === 'string' && isAbsolute(dir)) return { dir };
    throw new InvalidOptionError(`overlay { dir } needs an absolute host path, not ${JSON.stringify(dir)}`);
  }
  throw new InvalidOptionError(`overlay must be 'memory', 'self', 'none' or { dir: PATH }, not ${JSON.stringify(m)}`);
}

/** `--overlay root:memory | root:self | root:dir=PATH | none` (runsc's `--overlay2` grammar). */
export function parseOverlayFlag(v: string): OverlayMedium {
  if (v === 'none') return 'none';
  if (v === 'root:memory') return 'memory';
  if (v === 'root:self') return 'self';
  if (v.startsWith('root:dir=') && v.length > 'root:dir='.length) return checkOverlayMedium({ dir: resolve(v.slice('root:dir='.length)) });
  throw new InvalidOptionError(`--overlay takes root:memory, root:self, root:dir=PATH or none, not "${v}"`);
}

/**
 * A mount served by a custom gofer backend: user code implementing GoferBackend, loaded into the
 * mount's GoferActor. Always read-only and always gofer-only (it has no host FD for directfs).
 */
export interface BackendMountSpec {
  guestPath: string;
  backend: GoferBackendModule;
}

export interface NormalisedBackendMount {
  guestPath: string;
  backend: { module: string; factory: string; options: unknown };
}

/** `--dir HOST::GUEST` (wasmtime form); a bare `--dir DIR` mounts DIR at the same path. */
export function parseDirFlag(spec: string): MountSpec {
  if (spec.length === 0) throw new InvalidOptionError('bad --dir "": expected HOST::GUEST');
  const i = spec.indexOf('::');
  if (i < 0) return { hostPath: spec, guestPath: spec.startsWith('/') ? spec : `/${spec}` };
  const host = spec.slice(0, i);
  const guest = spec.slice(i + 2);
  if (!host || !guest) throw new InvalidOptionError(`bad --dir "${spec}": expected HOST::GUEST`);
  return { hostPath: host, guestPath: guest.startsWith('/') ? guest : `/${guest}` };
}

/** `-v HOST:GUEST[:ro|:rw]` (docker form). */
export function parseVolumeFlag(spec: string): MountSpec {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw new InvalidOptionError(`bad -v "${spec}": expected HOST:GUEST[:ro]`);
  const mode = parts[2];
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new InvalidOptionError(`bad -v "${spec}": mode must be ro or rw`);
  return { hostPath: parts[0], guestPath: parts[1], readOnly: mode === 'ro' };
}

/** `--mount type=bind,src=…,dst=…[,readonly][,cache=exclusive|shared][,directfs=off]` (docker/OCI form). */
export function parseMountFlag(spec: string): MountSpec {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    fields.set(key, eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'bind';
  if (type !== 'bind') throw new InvalidOptionError(`bad --mount "${spec}": only type=bind is supported`);
  const src = fields.get('src') ?? fields.get('source');
  const dst = fields.get('dst') ?? fields.get('destination') ?? fields.get('target');
  if (!src || !dst) throw new InvalidOptionError(`bad --mount "${spec}": needs src= and dst=`);
  for (const key of fields.keys()) {
    if (!['type', 'src', 'source', 'dst', 'destination', 'target', 'readonly', 'ro', 'cache', 'directfs'].includes(key)) {
      throw new InvalidOptionError(`bad --mount "${spec}": unknown key "${key}"`);
    }
  }
  const ro = fields.get('readonly') ?? fields.get('ro');
  if (ro !== undefined && ro !== 'true' && ro !== 'false' && ro !== '1' && ro !== '0') throw new InvalidOptionError(`bad --mount "${spec}": readonly takes true or false`);
  const cache = fields.get('cache');
  if (cache !== undefined && cache !== 'exclusive' && cache !== 'shared') throw new InvalidOptionError(`bad --mount "${spec}": cache takes exclusive or shared`);
  const directfs = fields.get('directfs');
  if (directfs !== undefined && directfs !== 'off' && directfs !== 'on') throw new InvalidOptionError(`bad --mount "${spec}": directfs takes off (or on, the default)`);
  return { hostPath: src, guestPath: dst, readOnly: ro === 'true' || ro === '1', ...(cache ? { cache } : {}), ...(directfs === 'off' ? { directfs: false } : {}) };
}

/**
 * Checks and normalises mounts: absolute guest paths, no two at one path, existing host
 * directories, loadable-looking backend specs. Host and backend mounts come back apart.
 */
export function normaliseMounts(mounts: readonly (MountSpec | BackendMountSpec)[]): { host: NormalisedMount[]; backends: NormalisedBackendMount[] } {
  const seen = new Set<string>();
  const guest = (m: { guestPath: unknown }, label: string): string => {
    if (typeof m.guestPath !== 'string') throw new InvalidOptionError('a mount needs a guestPath string');
    if (!isAbsolute(m.guestPath)) throw new MountError(`guest path "${m.guestPath}" must be absolute`, label);
    const p = posix.normalize(m.guestPath).replace(/(.)\/+$/, '$1');
    if (p.split('/').includes('..')) throw new MountError(`guest path "${m.guestPath}" must not contain ..`, label);
    if (seen.has(p)) throw new MountError(`two mounts at ${p}`, label);
    seen.add(p);
    return p;
  };
  const host: NormalisedMount[] = [];
  const backends: NormalisedBackendMount[] = [];
  for (const m of mounts) {
    if ('backend' in m) backends.push(normaliseBackend(m, guest));
    else host.push(normaliseHost(m, guest));
  }
  return { host, backends };
}

function normaliseBackend(m: BackendMountSpec, guest: (m: BackendMountSpec, label: string) => string): NormalisedBackendMount {
  const b = m.backend as Partial<GoferBackendModule> | undefined;
  const module = b?.module instanceof URL ? b.module.href : typeof b?.module === 'string' ? pathToFileURL(resolve(b.module)).href : undefined;
  if (module === undefined) throw new InvalidOptionError('a backend mount needs backend.module (a file URL or path)');
  if (b?.factory !== undefined && typeof b.factory !== 'string') throw new InvalidOptionError('backend.factory must be a string');
  return { guestPath: guest(m, module), backend: { module, factory: b?.factory ?? 'createBackend', options: b?.options } };
}

function normaliseHost(m: MountSpec, guest: (m: MountSpec, label: string) => string): NormalisedMount {
  if (typeof m.hostPath !== 'string') throw new InvalidOptionError('a mount needs hostPath and guestPath strings');
  const guestPath = guest(m, m.hostPath);
  const hostPath = resolve(m.hostPath);
  let isDir = false;
  try { isDir = statSync(hostPath).isDirectory(); } catch { /* reported below */ }
  if (!isDir) throw new MountError(`host directory ${m.hostPath} does not exist or is not a directory`, m.hostPath);
  const cache = m.cache ?? 'exclusive';
  if (cache !== 'exclusive' && cache !== 'shared') throw new InvalidOptionError(`mount ${guestPath}: cache must be 'exclusive' or 'shared'`);
  if (m.directfs !== undefined && typeof m.directfs !== 'boolean') throw new InvalidOptionError(`mount ${guestPath}: directfs must be a boolean`);
  return { hostPath, guestPath, readOnly: m.readOnly ?? false, cache, directfs: m.directfs ?? true };
}
