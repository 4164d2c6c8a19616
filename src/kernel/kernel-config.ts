import type { RingDescriptor } from '../actors/ring-layout.js';
import type { GoferCachePolicy } from '../fs/gofer/gofer-filesystem.js';
import type { TmpfsLimits } from '../fs/tmpfs/tmp-filesystem.js';

/** One host directory the sandbox sees: through its gofer over `ring`, or directfs on donated FDs. */
export interface HostMountConfig {
  /** Absolute guest path ("/" makes it the root). */
  guestPath: string;
  /** For messages only: the Sentry never opens it. */
  hostPath: string;
  readOnly: boolean;
  /** Whether the sandbox owns the directory while it runs (see GoferFilesystem). */
  cache: GoferCachePolicy;
  /** Either the ring to the mount's GoferActor… */
  ring?: RingDescriptor;
  /** …or directfs: the mount root and a /proc FD the host actor donated, now the Sentry's. */
  directfs?: { rootFd: number; procFd: number };
  /** At "/" only: the mount is the read-only lower layer of an overlay. */
  overlay?: OverlayConfig;
}

/** The rootfs overlay's upper layer: its limits, and where its file data lives. */
export interface OverlayConfig {
  limits: TmpfsLimits;
  /** Absent: the Sentry's memory. Present: a host file the host actor donated, now the Sentry's. */
  filestore?: {
    fd: number;
    /** `self`: the file's name in the rootfs, whited out so the guest never sees it. */
    hiddenName?: string;
  };
}

/** Everything the kernel actor needs at start: plain data, posted to its worker. */
export interface KernelConfig {
  mounts: HostMountConfig[];
  tmpfs: TmpfsLimits;
  /** The Sentry's own doorbell (task rings) and the sandbox's spin budget. */
  doorbell: SharedArrayBuffer;
  spin: SharedArrayBuffer;
  /** Bytes of each task ring's payload window. */
  taskWindowBytes: number;
}

export interface TaskSpec {
  /** Guest-visible file types of fds 0–2 (a TTY is a character device; a pipe or file is not). */
  stdioTty: readonly [boolean, boolean, boolean];
}

/** A kernel-side failure the API turns into a typed error. */
export interface KernelFault {
  code: 'ASB_ERR_MOUNT' | 'ASB_ERR_CONFIG';
  message: string;
}
