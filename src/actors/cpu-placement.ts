/**
 * Keeps the two threads of a ring off one CPU. A ring is fast only while both sides spin on
 * different CPUs. When one side parks, its CPU may go idle, and on these VMs the scheduler then
 * puts the woken thread on the CPU of the thread that woke it (an idle vCPU counts as
 * "preempted", not idle). The waker then spins there for the wakee's next message while the
 * wakee waits behind it for the same CPU: every call costs a whole spin budget plus a wake-up
 * (a stats sweep measured trains of 415 µs calls, both sides spinning out in turn, while the
 * other CPU sat idle) until the load balancer happens to separate them.
 *
 * So each side that wakes the other records its CPU first, and a thread that wakes from a park
 * and finds itself on that CPU moves to another one it is allowed on: it narrows its affinity
 * to exclude the shared CPU (the kernel migrates it at once), then restores the full mask, so
 * no placement is ever pinned. Costs a sched_getcpu per wake-up, already a ~50 µs event.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
const sched = {
  getcpu: libc.func('int sched_getcpu()'),
  setaffinity: libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)'),
  getaffinity: libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)'),
};

/** cpu_set_t: 1024 CPUs. */
const MASK_BYTES = 128;
const allowed = new Uint8Array(MASK_BYTES);
const elsewhere = new Uint8Array(MASK_BYTES);

/** The CPU this thread runs on now, or -1 if the kernel will not say. */
export function currentCpu(): number {
  return sched.getcpu() as number;
}

/**
 * Called by a thread just woken by its peer, with the CPU the peer recorded before waking it: if
 * both are on it, this thread moves to another allowed CPU. Returns whether it moved.
 */
export function leaveSharedCpu(peerCpu: number): boolean {
  if (peerCpu < 0 || peerCpu >= MASK_BYTES * 8 || currentCpu() !== peerCpu) return false;
  // pid 0: the calling thread, not the process.
  if ((sched.getaffinity(0, MASK_BYTES, allowed) as number) < 0) return false;
  elsewhere.set(allowed);
  elsewhere[peerCpu >> 3]! &= ~(1 << (peerCpu & 7));
  if (elsewhere.every((b) => b === 0)) return false; // nowhere else to go
  if ((sched.setaffinity(0, MASK_BYTES, elsewhere) as number) < 0) return false;
  sched.setaffinity(0, MASK_BYTES, allowed);
  return true;
}
