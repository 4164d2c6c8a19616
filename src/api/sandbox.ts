import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { posix } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import { Piscina } from 'piscina';
import { Subject, type Observable, merge } from 'rxjs';
import { Supervisor, type ActorEvent, type WorkerActor, type ActorControl } from '../actors/actor.js';
import { transferring } from '../actors/control.js';
import { IdleWorkers } from '../actors/idle-workers.js';
import { TaskSlots } from './task-slots.js';
import { shutdownRing } from '../actors/ring-client.js';
import { createDoorbell, createRing, createSpinBudget, type RingDescriptor } from '../actors/ring-layout.js';
import { DEFAULT_TMPFS_LIMITS, type TmpfsLimits } from '../fs/tmpfs/tmp-filesystem.js';
import type { HostMountConfig, KernelConfig, OverlayConfig } from '../kernel/kernel-config.js';
import type { GoferControl, GoferWorkerData } from '../fs/gofer/gofer-worker.js';

/** Omit over each member of a union (plain Omit would merge them). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
import type { KernelControl, KernelStats } from '../kernel/kernel-worker.js';
import type { StdioMessage } from '../kernel/output-pipe.js';
import type { TaskJob, TaskOutcome } from '../kernel/task-worker.js';
import { selfFilestoreName, type FilestoreRequest } from '../host/filestore-file.js';
import { HostActorError, startHostActor, type HostActorHandle, type HostActorMode } from '../host/host-actor.js';
import * as libc from '../host/libc.js';
import type { UpperChange } from '../fs/overlay/overlay-changes.js';
import { writeLayerTar } from './layer-tar.js';
import { ActorFailureError, InvalidOptionError, MountError, NoOverlayError, PrivilegeError, ProgramError, SandboxClosedError } from './errors.js';
import {
  checkOverlayMedium, normaliseMounts, type BackendMountSpec, type MountSpec, type NormalisedMount, type OverlayMedium,
  type RootfsSpec,
} from './mount-spec.js';

export interface SandboxOptions {
  /**
   * Host directories (or custom gofer backends) the guest sees; one at "/" becomes the root, else
   * the root is an empty tmpfs.
   */
  mounts?: (MountSpec | BackendMountSpec)[];
  /** Limits of the in-memory root (ENOSPC past them). */
  tmpfs?: Partial<TmpfsLimits>;
  /** A host directory as the root (a path, or a spec with readOnly/cache/directfs). Excludes a mount at "/". */
  rootfs?: string | RootfsSpec;
  /** Where writes to the rootfs go (default 'memory': the host directory is never written). */
  overlay?: OverlayMedium;
  /** Byte cap of the overlay's upper layer (ENOSPC past it); default the tmpfs default, 512 MiB. */
  overlaySize?: number;
  /** Tasks that may run at once (each on its own worker). */
  maxConcurrentTasks?: number;
  /**
   * Directfs (default true): the Sentry works on the host FDs the host actor donated instead of
   * asking each mount's gofer. A mount can switch it off for itself (`directfs: false`), never on.
   */
  directfs?: boolean;
}

export interface RunOptions {
  /** Arguments after argv[0]. */
  args?: string[];
  /** argv[0]; defaults to the program's file name. */
  argv0?: string;
  /** Exactly the environment the guest sees: nothing of the host's leaks in. */
  env?: Record<string, string>;
  /** Standard input: bytes, a string, or a stream; none means end-of-file at once. */
  stdin?: Uint8Array | string | Readable;
  /** Called with output as the guest writes it (the result still holds all of it unless `keepOutput` is false). */
  onStdout?: (chunk: Uint8Array) => void;
  onStderr?: (chunk: Uint8Array) => void;
  keepOutput?: boolean;
  /** How fds 0–2 present themselves (a TTY is a character device to the guest). */
  stdioTty?: [boolean, boolean, boolean];
}

export interface RunResult {
  exitCode: number;
  /** The WASI signal that ended the task (proc_raise), if any. */
  signal?: number;
  /** The trap message, when the guest trapped. */
  trap?: string;
  stdout: Buffer;
  stderr: Buffer;
  timings: { wallMs: number; taskMs: number };
  syscalls: Record<string, number>;
}

/** Counters for diagnostics and benchmarks. */
export interface SandboxStats {
  /**
   * The Sentry: tasks, ring requests, times its loop parked, syscalls by name; and how many
   * sandboxes its kernel worker has booted (more than 1: a warm worker an earlier sandbox left).
   */
  kernel: KernelStats;
  /** Each host mount's gofer, by guest path: requests by message name, ring requests and parks. */
  gofers: Record<string, ReturnType<GoferControl['stats']>>;
  /** The host actor (absent without host mounts): its process and how it got its privilege. */
  host: { pid: number; mode: HostActorMode } | null;
}

/** Events of a sandbox: its actors' lives and its tasks' exits. */
export type SandboxEvent = ActorEvent | { readonly type: 'task-exit'; readonly task: number; readonly exitCode: number; readonly trap?: string };

/** Exit status a trapped task reports (as a shell reports SIGABRT). */
export const TRAP_EXIT_CODE = 134;

const here = (p: string): URL => new URL(p, import.meta.url);

/**
 * Kernel workers whose sandbox closed cleanly, kept warm for the next sandbox of the same kind in
 * this process (IdleWorkers says why). Sandboxes made one after another, as a test runner does,
 * reuse one; a few kinds, or a few at once, reuse theirs.
 */
const idleKernels = new IdleWorkers<KernelControl>(Math.max(4, availableParallelism()), 30_000);

/**
 * Task workers, shared by every sandbox in this process, so their JIT-compiled syscall shims stay
 * warm from one sandbox to the next. A task worker keeps nothing between tasks: each job brings
 * its module, ring and arguments (task-worker.ts). Idle workers are unref'd and end after 30 s.
 */
let taskPool: Piscina | undefined;
/** Tasks running at once across all sandboxes; more wait for a thread. */
const MAX_TASK_THREADS = 256;
const tasks = (): Piscina => (taskPool ??= new Piscina({
  filename: here('../kernel/task-worker.js').href, minThreads: 0, maxThreads: MAX_TASK_THREADS, idleTimeout: 30_000,
}));

/**
 * What a kernel's optimized code is specialised for: how each mount is served, and where the
 * root overlay keeps its data. A new sandbox takes only an idle kernel of its own kind.
 */
function kernelKind(config: KernelConfig): string {
  const served = config.mounts.map((m) => {
    const medium = m.overlay === undefined ? '' : m.overlay.filestore === undefined ? '+memory' : '+filestore';
    return `${m.guestPath === '/' ? 'root' : 'mount'}:${m.directfs ? 'directfs' : 'gofer'}${medium}`;
  });
  return served.sort().join(',') || 'tmpfs';
}

/** Compiled programs by content hash, for every sandbox in this process (V8's tier-up is kept too). */
const modules = new Map<string, Promise<WebAssembly.Module>>();
const MAX_MODULES = 64;

interface LiveTask { ring: RingDescriptor; out: Uint8Array[]; err: Uint8Array[]; opts: RunOptions; done: () => void }

/** A sandbox: one Sentry (kernel actor), one gofer per host mount, its tasks on the shared task workers. */
export class Sandbox implements AsyncDisposable {
  private readonly live = new Map<number, LiveTask>();
  private readonly taskEvents = new Subject<SandboxEvent>();
  private closed = false;
  /** Aborts the tasks still running when the sandbox closes. */
  private readonly closing = new AbortController();
  /** Runs not yet settled: close() lets them finish with the kernel before it lets the kernel go. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private kernelDeath: string | undefined;
  private hostDeath: string | undefined;
  readonly events: Observable<SandboxEvent>;

  private constructor(
    private readonly supervisor: Supervisor,
    private readonly kernel: WorkerActor<KernelControl>,
    private readonly kernelKind: string,
    private readonly gofers: { actor: WorkerActor<GoferControl>; ring: RingDescriptor; name: string; guestPath: string }[],
    private readonly slots: TaskSlots,
    private readonly stdio: MessagePortLike,
    private readonly host: HostActorHandle | undefined,
  ) {
    this.events = merge(supervisor.events, this.taskEvents);
    stdio.on('message', (batch: StdioMessage[]) => this.onStdio(batch));
    supervisor.events.subscribe((ev) => this.onActorEvent(ev));
  }

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    const { rootSpec, overlay } = rootfsOf(options);
    const { host: mounts, backends } = normaliseMounts([...(rootSpec ? [rootSpec] : []), ...(options.mounts ?? [])]);
    const tmpfs: TmpfsLimits = { ...DEFAULT_TMPFS_LIMITS, ...options.tmpfs };
    if (!(tmpfs.sizeBytes > 0) || !(tmpfs.maxInodes > 0)) throw new InvalidOptionError('tmpfs limits must be positive');
    const cores = availableParallelism();
    const spin = createSpinBudget(cores);
    const supervisor = new Supervisor();
    const gofers: { actor: WorkerActor<GoferControl>; ring: RingDescriptor; name: string; guestPath: string }[] = [];
    const mountConfigs: HostMountConfig[] = [];
    let host: HostActorHandle | undefined;
    /** A GoferActor serving one mount over a new ring (the worker takes ownership of any FDs in `data`). */
    const spawnGofer = (name: string, guestPath: string, data: DistributiveOmit<GoferWorkerData, 'ring'>): RingDescriptor => {
      const ring = createRing(createDoorbell(), spin);
      const actor = supervisor.spawn<GoferControl>(name, here('../fs/gofer/gofer-worker.js'), { workerData: { ...data, ring } });
      gofers.push({ actor, ring, name, guestPath });
      return ring;
    };
    try {
      if (mounts.length > 0) host = await startHost(supervisor, mounts, filestoreRequest(overlay, mounts));
      for (const [i, m] of mounts.entries()) {
        // Each user of a donated FD owns its own: the Sentry or the gofer closes it on release.
        const rootFd = host!.roots[i]!;
        const procFd = libc.dupCloexec(host!.proc);
        const base = {
          guestPath: m.guestPath, hostPath: m.hostPath, readOnly: m.readOnly, cache: m.cache,
          ...(overlay && m.guestPath === '/' ? { overlay: overlayConfig(overlay, host!) } : {}),
        };
        if (options.directfs !== false && m.directfs) {
          mountConfigs.push({ ...base, directfs: { rootFd, procFd } });
        } else {
          const ring = spawnGofer(`gofer-${i}:${m.guestPath}`, m.guestPath, { rootFd, procFd, readOnly: m.readOnly });
          mountConfigs.push({ ...base, ring });
        }
      }
      if (host) libc.close(host.proc);
      for (const [i, b] of backends.entries()) {
        const ring = spawnGofer(`gofer-backend-${i}:${b.guestPath}`, b.guestPath, { backend: b.backend });
        mountConfigs.push({ guestPath: b.guestPath, hostPath: b.backend.module, readOnly: true, cache: 'exclusive', ring });
      }
      await Promise.all(gofers.map((g) => started(g.actor, g.name)));
      const { port1, port2 } = new MessageChannel();
      const config: KernelConfig = { mounts: mountConfigs, tmpfs, doorbell: createDoorbell(), spin, taskWindowBytes: 256 * 1024 };
      const idle = { from: idleKernels, kind: kernelKind(config) };
      const kernel = supervisor.spawn<KernelControl>('kernel', here('../kernel/kernel-worker.js'), {}, idle);
      try {
        await started(kernel, 'kernel', () => kernel.control.boot(config, transferring(port2, [port2])));
      } catch (e) {
        if (e instanceof Error && e.name === 'MountSetupError') throw new MountError(e.message);
        throw e;
      }
      const maxThreads = Math.max(1, options.maxConcurrentTasks ?? cores);
      return new Sandbox(supervisor, kernel, idle.kind, gofers, new TaskSlots(maxThreads), port1, host);
    } catch (e) {
      await host?.stop();
      await supervisor.stopAll();
      throw e;
    }
  }

  /** Compiles once per distinct module; later runs post the cached Module to a warm worker. */
  private compile(program: string | Uint8Array): Promise<WebAssembly.Module> {
    return (async () => {
      let bytes: Uint8Array;
      if (typeof program === 'string') {
        try { bytes = await readFile(program); } catch (e) { throw new ProgramError('ASB_ERR_PROGRAM', `cannot read ${program}: ${(e as Error).message}`, { cause: e }); }
      } else bytes = program;
      const key = createHash('sha256').update(bytes).digest('hex');
      let m = modules.get(key);
      if (m === undefined) {
        if (modules.size >= MAX_MODULES) modules.delete(modules.keys().next().value!);
        m = WebAssembly.compile(bytes).catch((e: unknown) => {
          modules.delete(key);
          throw new ProgramError('ASB_ERR_PROGRAM', `not a valid WebAssembly module: ${(e as Error).message}`, { cause: e });
        });
        modules.set(key, m);
      }
      return m;
    })();
  }

  /** Runs a WASI command to completion. The exit status is the guest's; a trap is reported, not thrown. */
  run(program: string | Uint8Array, opts: RunOptions = {}): Promise<RunResult> {
    const p = this.runOnce(program, opts);
    const settled = p.then(() => undefined, () => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return p;
  }

  private async runOnce(program: string | Uint8Array, opts: RunOptions): Promise<RunResult> {
    if (this.closed) throw new SandboxClosedError();
    if (this.hostDeath !== undefined) throw new ActorFailureError('ASB_ERR_HOST_GONE', `the sandbox's host actor died: ${this.hostDeath}`, 'host');
    const t0 = performance.now();
    const module = await this.compile(program);
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
      if (k.includes('=') || k.length === 0) throw new InvalidOptionError(`bad environment variable name "${k}"`);
      return `${k}=${v}`;
    });
    const argv0 = opts.argv0 ?? (typeof program === 'string' ? program.split('/').pop()! : 'program');
    const { id, ring } = await this.kernel.control.createTask({ stdioTty: opts.stdioTty ?? [false, false, false] });
    let done!: () => void;
    const outputDone = new Promise<void>((r) => { done = r; });
    const live: LiveTask = { ring, out: [], err: [], opts, done };
    this.live.set(id, live);
    this.feedStdin(id, opts.stdin);
    let outcome: TaskOutcome;
    try {
      const job: TaskJob = { module, ring, args: [argv0, ...(opts.args ?? [])], env };
      await this.slots.acquire();
      try {
        if (this.closed) throw new SandboxClosedError();
        outcome = await tasks().run(job, { signal: this.closing.signal }) as TaskOutcome;
      } catch (e) {
        // close() ends the tasks still running (their workers are terminated).
        if (this.closing.signal.aborted) throw new SandboxClosedError();
        throw e;
      } finally {
        this.slots.release();
      }
    } finally {
      if (this.kernel.alive) {
        await this.kernel.control.reapTask(id).catch(() => undefined);
        await outputDone;
      }
      this.live.delete(id);
    }
    const reaped = this.kernelDeath;
    if (outcome.kind === 'error' || reaped !== undefined) {
      if (outcome.kind === 'error' && outcome.code === 'ASB_ERR_LINK') throw new ProgramError('ASB_ERR_LINK', outcome.message);
      throw new ActorFailureError('ASB_ERR_KERNEL_GONE', `the sandbox kernel died: ${reaped ?? (outcome as { message: string }).message}`, 'kernel');
    }
    const result: RunResult = {
      exitCode: outcome.kind === 'exit' ? outcome.code : TRAP_EXIT_CODE,
      stdout: Buffer.concat(live.out), stderr: Buffer.concat(live.err),
      timings: { wallMs: performance.now() - t0, taskMs: outcome.wallMs },
      syscalls: {},
    };
    if (outcome.kind === 'exit' && outcome.signal !== undefined) result.signal = outcome.signal;
    if (outcome.kind === 'trap') result.trap = outcome.message;
    this.taskEvents.next({ type: 'task-exit', task: id, exitCode: result.exitCode, ...(result.trap ? { trap: result.trap } : {}) });
    return result;
  }

  private feedStdin(id: number, stdin: RunOptions['stdin']): void {
    const k = this.kernel.control;
    if (stdin === undefined) { void k.endStdin(id); return; }
    if (typeof stdin === 'string' || stdin instanceof Uint8Array) {
      const bytes = typeof stdin === 'string' ? Buffer.from(stdin) : stdin;
      void k.feedStdin(id, bytes).then(() => k.endStdin(id));
      return;
    }
    stdin.on('data', (chunk: Buffer | string) => { if (this.live.has(id)) void k.feedStdin(id, typeof chunk === 'string' ? Buffer.from(chunk) : chunk); });
    stdin.once('end', () => { if (this.live.has(id)) void k.endStdin(id); });
  }

  private onStdio(batch: StdioMessage[]): void {
    for (const m of batch) {
      const live = this.live.get(m.task);
      if (live === undefined) continue;
      if (m.kind === 'end') { live.done(); continue; }
      const data = m.data;
      if (m.fd === 1) { live.opts.onStdout?.(data); if (live.opts.keepOutput !== false) live.out.push(data); }
      else { live.opts.onStderr?.(data); if (live.opts.keepOutput !== false) live.err.push(data); }
    }
  }

  /** A dead kernel fails every running task; a dead gofer makes its mount answer EIO. */
  private onActorEvent(ev: ActorEvent): void {
    if (ev.type !== 'died') return;
    // The donated FDs stay valid, so running tasks finish; but without the actor that built the
    // container, the sandbox takes no new runs.
    if (ev.actor === 'host') { this.hostDeath = ev.error; return; }
    if (ev.actor === 'kernel') {
      this.kernelDeath = ev.error;
      for (const live of this.live.values()) { shutdownRing(live.ring); live.done(); }
      return;
    }
    const g = this.gofers.find((x) => x.name === ev.actor);
    if (g) shutdownRing(g.ring);
  }

  /** @internal for benchmarks: a task ring with no program on it; release() reaps the task. */
  async attachRawTask(): Promise<{ ring: RingDescriptor; release(): Promise<void> }> {
    if (this.closed) throw new SandboxClosedError();
    const { id, ring } = await this.kernel.control.createTask({ stdioTty: [false, false, false] });
    return { ring, release: async () => { await this.kernel.control.reapTask(id); } };
  }

  /**
   * What the programs changed in the rootfs so far, in docker's diff vocabulary: `A` added, `C`
   * changed (a directory whose contents changed is `C` too), `D` deleted; paths as the guest sees
   * them, parents first. NoOverlayError without a rootfs overlay.
   */
  async changes(): Promise<UpperChange[]> {
    if (this.closed) throw new SandboxClosedError();
    const changes = await this.kernel.control.upperChanges();
    if (changes === undefined) throw new NoOverlayError('changes()');
    return changes;
  }

  /**
   * Writes the rootfs overlay's upper layer (what the programs changed) to `path` as an OCI image
   * layer tarball: deletions are `.wh.NAME` entries, replaced directories `.wh..wh..opq`.
   */
  async exportUpper(path: string): Promise<void> {
    if (this.closed) throw new SandboxClosedError();
    const entries = await this.kernel.control.upperLayer();
    if (entries === undefined) throw new NoOverlayError('exportUpper()');
    await writeLayerTar(entries, path);
  }

  async stats(): Promise<SandboxStats> {
    const kernel = await this.kernel.control.stats();
    const gofers: SandboxStats['gofers'] = {};
    for (const g of this.gofers) gofers[g.guestPath] = await g.actor.control.stats();
    const host = this.host ? { pid: this.host.actor.child.pid ?? -1, mode: this.host.mode } : null;
    return { kernel, gofers, host };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    // Runs still going end with ASB_ERR_CLOSED, their output dropped; they reap their tasks first,
    // through the kernel: once it is retired (an unref'd idle worker) a reply to them could come
    // after the process has decided to exit, and the run would never settle.
    for (const live of this.live.values()) live.done();
    await settledWithin([...this.inFlight], RUN_SETTLE_MS);
    // A kernel that did not die is offered to the idle kernels; only a clean stop lets it stay.
    if (this.kernelDeath === undefined) await this.supervisor.retire(this.kernel, { from: idleKernels, kind: this.kernelKind }, () => this.kernel.control.stop());
    else await this.kernel.stop();
    // The kernel ended every task's output as it stopped; a task whose end was lost ends here.
    for (const live of this.live.values()) live.done();
    await this.host?.stop();
    await this.supervisor.stopAll();
    this.stdio.close();
    this.taskEvents.complete();
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }
}

/** How long close() waits for runs it aborted to finish with the kernel. */
const RUN_SETTLE_MS = 2000;

/** Resolves when every promise has settled, or after `ms`, whichever is first. */
async function settledWithin(ps: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (ps.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  await Promise.race([Promise.allSettled(ps), late]).finally(() => clearTimeout(timer));
}

interface MessagePortLike { on(ev: 'message', fn: (batch: StdioMessage[]) => void): void; close(): void }

/** Starts the host actor for these mounts; its failures become typed API errors. */
async function startHost(
  supervisor: Supervisor, mounts: readonly NormalisedMount[], filestore: FilestoreRequest | undefined,
): Promise<HostActorHandle> {
  try {
    return await startHostActor(supervisor, mounts.map((m) => ({ source: m.hostPath, readOnly: m.readOnly })), filestore);
  } catch (e) {
    if (e instanceof HostActorError) {
      if (e.reason === 'privilege') throw new PrivilegeError(e.message);
      throw new MountError(e.message);
    }
    throw e;
  }
}

/** The Sentry's overlay config: the filestore FD the host actor donated becomes the Sentry's. */
function overlayConfig(plan: OverlayPlan, host: HostActorHandle): OverlayConfig {
  const f = plan.filestore;
  if (f === undefined) return { limits: plan.limits };
  return { limits: plan.limits, filestore: { fd: host.filestore!, ...(f.kind === 'self' ? { hiddenName: f.name } : {}) } };
}

/** Waits until an actor answers its control plane, or fails with what killed it. */
async function started(actor: WorkerActor<ActorControl>, name: string, first: () => Promise<unknown> = () => actor.control.stats()): Promise<void> {
  const death = actor.exit.then((code) => { throw new ActorFailureError('ASB_ERR_ACTOR_START', `${name} failed to start (exit ${code})`, name); });
  let firstError: string | undefined;
  const onError = (e: Error): void => { firstError = e.message; };
  // Removed again: a kernel worker is kept warm for sandbox after sandbox (IdleWorkers).
  actor.worker.once('error', onError);
  try {
    await Promise.race([first(), death]);
  } catch (e) {
    if (e instanceof ActorFailureError && firstError) throw new ActorFailureError('ASB_ERR_ACTOR_START', `${name} failed to start: ${firstError}`, name);
    throw e;
  } finally {
    actor.worker.off('error', onError);
  }
}

/** Creates a sandbox. Close it (or `await using`) when done: it owns worker threads. */
export function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return Sandbox.create(options);
}

/** The rootfs overlay as the Sandbox sets it up: the upper's limits and its filestore, if any. */
interface OverlayPlan {
  limits: TmpfsLimits;
  filestore?: { kind: 'self'; name: string } | { kind: 'dir'; path: string };
}

/** The rootfs as the mount at "/" (read-only beneath an overlay), and the overlay's upper layer. */
function rootfsOf(options: SandboxOptions): { rootSpec?: MountSpec; overlay?: OverlayPlan } {
  const medium = checkOverlayMedium(options.overlay ?? 'memory');
  const size = options.overlaySize ?? DEFAULT_TMPFS_LIMITS.sizeBytes;
  if (!Number.isSafeInteger(size) || size <= 0) throw new InvalidOptionError('overlaySize must be a positive integer');
  if (options.rootfs === undefined) return {};
  const root = typeof options.rootfs === 'string' ? { hostPath: options.rootfs } : options.rootfs;
  if (typeof root.hostPath !== 'string') throw new InvalidOptionError('rootfs needs a hostPath string');
  if ((options.mounts ?? []).some((m) => typeof m.guestPath === 'string' && posix.normalize(m.guestPath) === '/')) {
    throw new InvalidOptionError('rootfs and a mount at "/" are the same thing: give one');
  }
  const overlaid = root.readOnly !== true && medium !== 'none';
  const rootSpec: MountSpec = { ...root, guestPath: '/', readOnly: root.readOnly === true || overlaid };
  if (!overlaid) return { rootSpec };
  const limits = { sizeBytes: size, maxInodes: DEFAULT_TMPFS_LIMITS.maxInodes };
  if (medium === 'memory') return { rootSpec, overlay: { limits } };
  const filestore = medium === 'self'
    ? { kind: 'self' as const, name: selfFilestoreName(randomBytes(8).toString('hex')) }
    : { kind: 'dir' as const, path: (medium as { dir: string }).dir };
  return { rootSpec, overlay: { limits, filestore } };
}

/** What the host actor makes for a plan's filestore (the self one beside the rootfs it overlays). */
function filestoreRequest(plan: OverlayPlan | undefined, mounts: readonly NormalisedMount[]): FilestoreRequest | undefined {
  const f = plan?.filestore;
  if (f === undefined) return undefined;
  if (f.kind === 'dir') return f;
  return { kind: 'self', name: f.name, source: mounts.find((m) => m.guestPath === '/')!.hostPath };
}
