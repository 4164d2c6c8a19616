import { HELD, type ServerRing } from '../actors/ring-server.js';
import { FdTable } from './fd-table.js';
import { SYS_COUNT } from './syscalls/protocol.js';
import type { StdinDescription } from './stdio.js';
import type { VirtualFilesystem } from '../fs/vfs/virtual-filesystem.js';
import type { Location } from '../fs/vfs/mount.js';

/** A held call: re-run when the task is woken; returns a reply status, or HELD to keep waiting. */
export type Attempt = () => number;

/** The Sentry's view of one running task: its fds, its ring and its counters. */
export class Task {
  readonly fds = new FdTable();
  readonly counts = new Uint32Array(SYS_COUNT);
  exitCode: number | undefined;
  private held: Attempt | undefined;
  /** Cancels whatever a held call armed (a timer); run when it completes or the task goes. */
  private disarm: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly ring: ServerRing,
    readonly vfs: VirtualFilesystem,
    readonly root: Location,
    readonly stdin: StdinDescription,
  ) {
    stdin.onReadable = () => this.wake();
  }

  /** Parks the current call: `attempt` runs again on every wake until it answers. */
  hold(attempt: Attempt, disarm?: () => void): number {
    this.held = attempt;
    this.disarm = disarm;
    return HELD;
  }

  /** Re-runs a held call (data arrived, a timer fired); completes the ring if it has an answer now. */
  wake(): void {
    const attempt = this.held;
    if (attempt === undefined) return;
    this.ring.writer.reset();
    let status: number;
    try {
      status = attempt();
    } catch {
      status = 29; // EIO: a held call must never take the kernel down
    }
    if (status === HELD) return;
    this.held = undefined;
    this.disarm?.();
    this.disarm = undefined;
    this.ring.complete(status);
  }

  /** Drops a held call without answering (the task is gone). */
  cancel(): void {
    this.held = undefined;
    this.disarm?.();
    this.disarm = undefined;
  }
}
