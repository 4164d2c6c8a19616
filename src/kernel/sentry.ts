import { performance } from 'node:perf_hooks';
import { RingServer, type ServerRing } from '../actors/ring-server.js';
import { createRing, type RingDescriptor } from '../actors/ring-layout.js';
import { createDirectfs } from '../fs/directfs/directfs.js';
import { GoferFilesystem } from '../fs/gofer/gofer-filesystem.js';
import { FileStore, filestoreReserve } from '../fs/tmpfs/file-store.js';
import { TmpFilesystem } from '../fs/tmpfs/tmp-filesystem.js';
import { upperChanges, upperLayerEntries, type LayerEntry, type UpperChange } from '../fs/overlay/overlay-changes.js';
import { OverlayFilesystem } from '../fs/overlay/overlay-filesystem.js';
import type { FilesystemImpl, OperationClock } from '../fs/vfs/filesystem.js';
import type { Location } from '../fs/vfs/mount.js';
import { VirtualFilesystem } from '../fs/vfs/virtual-filesystem.js';
import { FileType, RIGHTS_DIRECTORY_BASE, RIGHTS_DIRECTORY_INHERITING, RIGHTS_TTY_BASE } from '../wasi/abi.js';
import { Errno, SyscallError } from '../wasi/errno.js';
import { DirectoryDescription } from './file-description.js';
import type { HostMountConfig, KernelConfig, OverlayConfig, TaskSpec } from './kernel-config.js';
import type { OutputPipe } from './output-pipe.js';
import { OutputDescription, StdinDescription } from './stdio.js';
import { SYSCALLS, type SyscallHandler } from './syscalls/table.js';
import { SYS_COUNT, SYS_NAMES } from './syscalls/protocol.js';
import { Task } from './task.js';

/** A mount the sandbox cannot set up; the API reports it as ASB_ERR_MOUNT. */
export class MountSetupError extends Error {
  override readonly name = 'MountSetupError';
}

export interface SentryStats {
  tasks: number;
  requests: number;
  parks: number;
  syscalls: Record<string, number>;
  /**
   * Mean time in the Sentry per call, in µs, by syscall name: one call in SAMPLE_EVERY is timed
   * from its dispatch until its handler returns (GC pauses and preemption included; a held call,
   * its first attempt only). Beside a task's own figure it splits a syscall's cost into the
   * Sentry's work and the ring round trip.
   */
  handlerMeanUs: Record<string, number>;
  /** Each host mount by guest path: how it is served and the remote calls its cache could not save. */
  mounts: Record<string, { mode: 'directfs' | 'gofer'; rpcs: number; overlay?: OverlayStats }>;
}

/** What the rootfs overlay's upper layer holds: file bytes and inodes, and where the data lives. */
export interface OverlayStats {
  bytes: number;
  inodes: number;
  medium: 'memory' | 'filestore';
  /** Bytes the filestore file has allocated on the host disk (0 in memory). */
  hostBytes: number;
}

function overlayStats(upper: TmpFilesystem): OverlayStats {
  return { ...upper.usage, medium: upper.medium.kind, hostBytes: upper.medium.hostBytes };
}

/**
 * The Sentry: the user-space kernel of one sandbox. It owns everything a guest can observe — the
 * VFS, the tasks and their fd tables — and serves every task ring from one loop.
 */
export class Sentry {
  readonly vfs: VirtualFilesystem;
  private readonly server: RingServer;
  private readonly tasksByRing: (Task | undefined)[] = [];
  private readonly tasks = new Map<number, Task>();
  private readonly totals = new Float64Array(SYS_COUNT);
  private readonly sampledNs = new Float64Array(SYS_COUNT);
  private readonly sampled = new Uint32Array(SYS_COUNT);
  /** One tick per syscall: a `shared` host mount trusts its cache within one. */
  private readonly clock = { now: 0 };
  private nextTask = 1;
  /** Syscall handlers that threw (answered EIO): a kernel with any is not reused for another sandbox. */
  faults = 0;

  constructor(private readonly config: KernelConfig, private readonly output: OutputPipe) {
    this.server = new RingServer(config.doorbell, config.spin, (ring, code) => this.dispatch(ring, code), {
      malformedStatus: Errno.INVAL,
      failureStatus: Errno.IO,
      onHandlerError: (e) => { this.faults++; process.emitWarning(`sentry: syscall handler failed: ${e instanceof Error ? e.stack : String(e)}`); },
    });
    // A gofer RPC made while serving a task tells the task to park: the gofer needs the core.
    this.vfs = buildTree(config, this.clock, () => this.server.expectDelay());
    this.server.start();
  }

  private dispatch(ring: ServerRing, code: number): number {
    const task = this.tasksByRing[ring.id];
    if (task === undefined) return Errno.BADF;
    const handler = SYSCALLS[code];
    if (handler === undefined) return Errno.NOSYS;
    task.counts[code]!++;
    // Reading the clock costs about a third of a null call: only every SAMPLE_EVERY-th is timed.
    if ((++this.clock.now & (SAMPLE_EVERY - 1)) !== 0) return serve(handler, task, ring);
    const t0 = performance.now();
    try {
      return serve(handler, task, ring);
    } finally {
      this.sampledNs[code]! += (performance.now() - t0) * 1e6;
      this.sampled[code]!++;
    }
  }

  createTask(spec: TaskSpec): { id: number; ring: RingDescriptor } {
    const id = this.nextTask++;
    const desc = createRing(this.config.doorbell, this.config.spin, this.config.taskWindowBytes);
    const ring = this.server.attach(desc);
    const ttyType = (tty: boolean): FileType => (tty ? FileType.CHARACTER_DEVICE : FileType.UNKNOWN);
    const stdin = new StdinDescription(ttyType(spec.stdioTty[0]));
    const root: Location = this.vfs.rootLocation;
    const task = new Task(id, ring, this.vfs, root, stdin);
    const stdio = (d: StdinDescription | OutputDescription) => ({ description: d, rightsBase: RIGHTS_TTY_BASE, rightsInheriting: 0n, preopenName: undefined });
    task.fds.install(stdio(stdin));
    task.fds.install(stdio(new OutputDescription(ttyType(spec.stdioTty[1]), (d) => this.output.write(id, 1, d))));
    task.fds.install(stdio(new OutputDescription(ttyType(spec.stdioTty[2]), (d) => this.output.write(id, 2, d))));
    task.fds.install({
      description: new DirectoryDescription(this.vfs, root),
      rightsBase: RIGHTS_DIRECTORY_BASE, rightsInheriting: RIGHTS_DIRECTORY_INHERITING,
      preopenName: Buffer.from('/'),
    });
    this.tasksByRing[ring.id] = task;
    this.tasks.set(id, task);
    return { id, ring: desc };
  }

  feedStdin(id: number, data: Uint8Array): void { this.tasks.get(id)?.stdin.feed(data); }
  endStdin(id: number): void { this.tasks.get(id)?.stdin.end(); }

  /** Ends a task's kernel state once its thread is done: closes its fds, flushes its output. */
  reapTask(id: number): { exitCode: number | undefined; syscalls: Record<string, number> } {
    const task = this.tasks.get(id);
    if (task === undefined) return { exitCode: undefined, syscalls: {} };
    task.cancel();
    this.server.detach(task.ring);
    this.tasksByRing[task.ring.id] = undefined;
    this.tasks.delete(id);
    task.fds.closeAll();
    this.output.end(id);
    const syscalls: Record<string, number> = {};
    task.counts.forEach((n, code) => { if (n > 0) { syscalls[SYS_NAMES[code]!] = n; this.totals[code]! += n; } });
    return { exitCode: task.exitCode, syscalls };
  }

  /** The rootfs overlay and the names it hides for the sandbox's own use; undefined without one. */
  private rootOverlay(): { ov: OverlayFilesystem; hidden: Set<string> } | undefined {
    const fs = this.vfs.rootLocation.mount.fs;
    if (!(fs instanceof OverlayFilesystem)) return undefined;
    const name = this.config.mounts.find((m) => m.guestPath === '/')?.overlay?.filestore?.hiddenName;
    return { ov: fs, hidden: new Set(name === undefined ? [] : [name]) };
  }

  /** What the program changed in the rootfs (docker diff), or undefined without an overlay. */
  upperChanges(): UpperChange[] | undefined {
    const o = this.rootOverlay();
    return o && upperChanges(o.ov, o.hidden);
  }

  /** The rootfs overlay's upper as OCI layer entries, or undefined without an overlay. */
  upperLayer(): LayerEntry[] | undefined {
    const o = this.rootOverlay();
    return o && upperLayerEntries(o.ov, o.hidden);
  }

  stats(): SentryStats {
    const syscalls: Record<string, number> = {};
    this.totals.forEach((n, code) => { if (n > 0) syscalls[SYS_NAMES[code]!] = n; });
    const handlerMeanUs: Record<string, number> = {};
    this.sampled.forEach((n, code) => { if (n > 0) handlerMeanUs[SYS_NAMES[code]!] = this.sampledNs[code]! / n / 1e3; });
    const mounts: SentryStats['mounts'] = {};
    for (const m of this.vfs.mounts()) {
      const overlay = m.fs instanceof OverlayFilesystem ? m.fs : undefined;
      const fs = overlay ? overlay.lowerLayers[0] : m.fs;
      if (!(fs instanceof GoferFilesystem)) continue;
      const rpcs = Object.values(fs.rpcCounts).reduce((a, b) => a + b, 0);
      mounts[m.guestPath] = { mode: fs.kind, rpcs, ...(overlay ? { overlay: overlayStats(overlay.upper) } : {}) };
    }
    return { tasks: this.tasks.size, requests: this.server.requests, parks: this.server.parks, syscalls, handlerMeanUs, mounts };
  }

  async stop(): Promise<void> {
    for (const id of [...this.tasks.keys()]) this.reapTask(id);
    await this.server.stop();
    this.vfs.release();
  }
}

/** One call in this many (a power of two) is timed for `SentryStats.handlerMeanUs`. */
const SAMPLE_EVERY = 16;

function serve(handler: SyscallHandler, task: Task, ring: ServerRing): number {
  try {
    return handler(task, ring);
  } catch (e) {
    if (e instanceof SyscallError) { ring.writer.reset(); return e.errno; }
    throw e;
  }
}

/** The guest's tree: an empty tmpfs root (or a host mount at "/"), with each mount at its path. */
function buildTree(config: KernelConfig, clock: OperationClock, beforeWait: () => void): VirtualFilesystem {
  let dev = 1n;
  const rootMount = config.mounts.find((m) => m.guestPath === '/');
  let rootFs: FilesystemImpl;
  if (rootMount?.overlay) {
    const lower = goferFs(rootMount, dev++, clock, beforeWait);
    rootFs = new OverlayFilesystem(dev++, upperLayer(rootMount.overlay, dev++), [lower]);
  } else {
    rootFs = rootMount ? goferFs(rootMount, dev++, clock, beforeWait) : new TmpFilesystem(dev++, config.tmpfs);
  }
  const vfs = new VirtualFilesystem(rootFs, rootMount !== undefined && !rootMount.overlay && rootMount.readOnly);
  const rest = config.mounts.filter((m) => m !== rootMount).sort((a, b) => depth(a.guestPath) - depth(b.guestPath));
  for (const m of rest) vfs.mount(mountpoint(vfs, m), goferFs(m, dev++, clock, beforeWait), m.readOnly, m.guestPath);
  return vfs;
}

/** The overlay's upper tmpfs, its data in memory or in the donated filestore. */
function upperLayer(config: OverlayConfig, dev: bigint): TmpFilesystem {
  const store = config.filestore;
  if (store === undefined) return new TmpFilesystem(dev, config.limits);
  const upper = new TmpFilesystem(dev, config.limits, new FileStore(store.fd, filestoreReserve(config.limits.sizeBytes)));
  // The self-backed filestore sits in the lower's root: a whiteout hides it, as any deleted name.
  if (store.hiddenName !== undefined) upper.mknodChar(upper.root(), store.hiddenName, 0);
  return upper;
}

function goferFs(m: HostMountConfig, dev: bigint, clock: OperationClock, beforeWait: () => void): FilesystemImpl {
  const options = { cache: m.cache, clock, beforeWait };
  if (m.directfs) return createDirectfs(m.directfs.rootFd, m.directfs.procFd, m.readOnly, dev, options);
  if (!m.ring) throw new MountSetupError(`mount ${m.guestPath} has neither a gofer nor directfs`);
  return new GoferFilesystem(m.ring, dev, options);
}

function depth(p: string): number { return p.split('/').filter(Boolean).length; }

/** Finds (creating in tmpfs or the overlay's upper where missing) the directory a mount goes on. */
function mountpoint(vfs: VirtualFilesystem, m: HostMountConfig): Location {
  const parts = m.guestPath.split('/').filter(Boolean);
  let at = vfs.rootLocation;
  for (const part of parts) {
    try {
      at = vfs.resolve(at, part, true);
      continue;
    } catch (e) {
      if (!(e instanceof SyscallError) || e.errno !== Errno.NOENT) throw new MountSetupError(`cannot mount ${m.hostPath} at ${m.guestPath}: ${part} is not a directory`);
    }
    if (!(at.mount.fs instanceof TmpFilesystem || at.mount.fs instanceof OverlayFilesystem)) {
      throw new MountSetupError(`cannot mount ${m.hostPath} at ${m.guestPath}: ${part} does not exist in the mount beneath it, and the sandbox never creates directories on a host mount`);
    }
    at.mount.fs.mkdir(at.inode, part, 0o755);
    at = vfs.resolve(at, part, true);
  }
  if (at.inode.type !== FileType.DIRECTORY) throw new MountSetupError(`cannot mount ${m.hostPath} at ${m.guestPath}: not a directory`);
  return at;
}
