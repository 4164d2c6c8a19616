import type { MessagePort } from 'node:worker_threads';

/** A message on the stdio port: guest output, or the end of a task's output. */
export type StdioMessage =
  | { readonly kind: 'data'; readonly task: number; readonly fd: 1 | 2; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly task: number };

/**
 * Carries guest stdout/stderr to the host. Writes are batched until the kernel next yields to its
 * event loop (or 64 KiB pile up), so a chatty guest costs one postMessage per batch, not per write.
 */
export class OutputPipe {
  private pending: StdioMessage[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly port: MessagePort) {}

  write(task: number, fd: 1 | 2, data: Uint8Array): void {
    this.pending.push({ kind: 'data', task, fd, data });
    this.bytes += data.byteLength;
    if (this.bytes >= 64 * 1024) this.flush();
    else if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
  }

  /** Flushes, then marks the task's output complete: the host may finish its result. */
  end(task: number): void {
    this.pending.push({ kind: 'end', task });
    this.flush();
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    this.port.postMessage(batch);
  }
}
