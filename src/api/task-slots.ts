/**
 * How many of one sandbox's tasks run at once (SandboxOptions.maxConcurrentTasks). The task
 * workers are shared by every sandbox in the process; this keeps each sandbox to its own share.
 * Waiters are served in order.
 */
export class TaskSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Resolves when a slot is free, and takes it; give it back with `release`. */
  async acquire(): Promise<void> {
    if (this.running < this.max) { this.running++; return; }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.running--;
  }
}
