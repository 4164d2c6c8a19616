/**
 * The shared-memory layout of a ring and of the doorbell that lets one server loop serve many
 * rings. Both sides import this file; no other file knows an offset. DESIGN §2 has the protocol.
 *
 * Ring: [header: 16 Int32 slots = 64 bytes][payload window]. Exactly one side owns the window:
 * the client in IDLE/RESPONSE, the server in REQUEST. Hand-off is a store to STATE, plus a notify
 * only when the peer has flagged itself parked.
 */
export const RING_HEADER_BYTES = 64;

export const enum RingSlot {
  /** RingState; the futex word both sides wait on. */
  STATE = 0,
  /** Payload bytes in the window, written by the side that hands over. */
  LENGTH = 1,
  /** Request: operation code. Response: status (0 or an errno). */
  CODE = 2,
  /** 1 while the client sleeps in Atomics.wait on STATE. */
  CLIENT_PARKED = 3,
  /**
   * 1 when the reply will be slow: the server holds the call (a blocking syscall), or waits on
   * another actor to answer it (a gofer RPC). The client parks at once instead of spinning.
   */
  HELD = 4,
  /** The server's CPU, recorded before it wakes a parked client (cpu-placement.ts). */
  SERVER_CPU = 5,
}

export const enum RingState {
  IDLE = 0,
  REQUEST = 1,
  RESPONSE = 2,
  SHUTDOWN = 3,
}

/** Doorbell: one per server loop, shared by all rings it serves. */
export const DOORBELL_BYTES = 16;
export const enum DoorbellSlot {
  /** Bumped by a client that finds the server parked; the server waits on it. */
  SEQ = 0,
  /** 1 while the server sleeps. */
  SERVER_PARKED = 1,
  /** The CPU of the client that last rang, recorded before it woke the server (cpu-placement.ts). */
  CLIENT_CPU = 2,
}

/**
 * Spin budget: one per sandbox, shared by every ring and loop in it (kernel, gofers, tasks), because
 * more spinning threads than cores turn a 0.3 µs hand-off into a scheduler time slice.
 */
export const SPIN_BUDGET_BYTES = 8;
export const enum SpinSlot {
  /** How many threads spin right now. */
  SPINNERS = 0,
  /** The cap: how many threads may spin at once. */
  MAX = 1,
}

/** The payload window, unless a ring asks for another size. Larger reads and writes are chunked. */
export const DEFAULT_WINDOW_BYTES = 64 * 1024;

/**
 * A server loop spins this long for the next request before parking. 2 µs is shorter than an OS
 * wake-up, so both sides end up asleep; 20 µs keeps a busy ring hot at ~0.3 µs a round trip and
 * an idle sandbox near 0.2 cores (DESIGN §2).
 */
export const SPIN_BUDGET_NS = 20_000;

/**
 * A server loop spins this long after its reply woke a parked client. The wake-up takes 40–60 µs
 * (DESIGN §2), longer than SPIN_BUDGET_NS: a server that spun only that long for the woken
 * client's next request would park too, and from then on every call pays two wake-ups (both
 * sides taking turns asleep) until timing happens to line up again. Spinning past one wake-up
 * puts the pair back on the hot path after a single slow call; it ends when the request arrives.
 */
export const WAKE_SPIN_NS = 200_000;

/**
 * A client spins this long for a reply before parking. The server answers most calls in a few
 * µs, but in-thread work (a copy-up, a directory listing, a rename of a directory) takes tens of
 * µs, and a client that parked on it pays a 40–60 µs wake-up on top. A call that will be slower
 * for another reason is marked HELD, and its client parks at once: a server that is about to
 * wait on another actor, whose thread needs the core the client would spin on, says so.
 */
export const CALL_SPIN_NS = 200_000;

/** What crosses a thread boundary to attach to a ring: plain data, postable. */
export interface RingDescriptor {
  readonly buffer: SharedArrayBuffer;
  /** The serving loop's doorbell. */
  readonly doorbell: SharedArrayBuffer;
  /** The sandbox's spin budget. */
  readonly spin: SharedArrayBuffer;
}

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(DOORBELL_BYTES);
}

export function createSpinBudget(maxSpinners: number): SharedArrayBuffer {
  const spin = new SharedArrayBuffer(SPIN_BUDGET_BYTES);
  new Int32Array(spin)[SpinSlot.MAX] = Math.max(1, maxSpinners);
  return spin;
}

export function createRing(doorbell: SharedArrayBuffer, spin: SharedArrayBuffer, windowBytes = DEFAULT_WINDOW_BYTES): RingDescriptor {
  return { buffer: new SharedArrayBuffer(RING_HEADER_BYTES + windowBytes), doorbell, spin };
}

/** Takes a spinner slot if fewer than the cap are spinning; the caller must release it. */
export function tryAcquireSpinner(spin: Int32Array): boolean {
  const max = Atomics.load(spin, SpinSlot.MAX);
  if (Atomics.add(spin, SpinSlot.SPINNERS, 1) < max) return true;
  Atomics.sub(spin, SpinSlot.SPINNERS, 1);
  return false;
}

export function releaseSpinner(spin: Int32Array): void {
  Atomics.sub(spin, SpinSlot.SPINNERS, 1);
}
