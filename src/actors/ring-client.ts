import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentCpu, leaveSharedCpu } from './cpu-placement.js';
import { FrameReader, FrameWriter } from './frame.js';
import {
  DoorbellSlot, RING_HEADER_BYTES, RingSlot, RingState, CALL_SPIN_NS,
  releaseSpinner, tryAcquireSpinner, type RingDescriptor,
} from './ring-layout.js';

/** The server shut the ring down (its actor stopped or died) while a call was outstanding. */
export class RingClosedError extends Error {
  override readonly name = 'RingClosedError';
}

export interface RingClientOptions {
  /** Nanoseconds to spin for a reply before parking (CALL_SPIN_NS); 0 parks at once. */
  spinNs?: number;
  /**
   * Called after each request is posted, before the wait for its reply. A server that makes this
   * call while serving a client of its own uses it to tell that client to park (ServerRing.expectDelay).
   */
  beforeWait?: () => void;
}

// From perf_hooks: the global `performance` is a lazy getter, and this is read in spin loops.
const now = (): number => performance.now() * 1e6;

/**
 * The calling side of one ring. Synchronous: the caller writes the request into `writer`, calls
 * `call(code)`, and reads the reply from `reader`. One call in flight at a time, by construction.
 */
export class RingClient {
  readonly writer: FrameWriter;
  readonly reader: FrameReader;
  private readonly state: Int32Array;
  private readonly doorbell: Int32Array;
  private readonly spin: Int32Array;
  private readonly spinNs: number;
  private readonly beforeWait: (() => void) | undefined;
  calls = 0;
  parks = 0;

  constructor(desc: RingDescriptor, options: RingClientOptions = {}) {
    this.state = new Int32Array(desc.buffer, 0, RING_HEADER_BYTES / 4);
    this.doorbell = new Int32Array(desc.doorbell);
    this.spin = new Int32Array(desc.spin);
    const window = new Uint8Array(desc.buffer, RING_HEADER_BYTES);
    this.writer = new FrameWriter(window);
    this.reader = new FrameReader(window);
    this.spinNs = options.spinNs ?? CALL_SPIN_NS;
    this.beforeWait = options.beforeWait;
  }

  get windowBytes(): number { return this.writer.capacity; }

  /** Sends the `writer.pos` bytes written as a request with `code`; returns the reply's status. */
  call(code: number): number {
    this.post(code);
    this.beforeWait?.();
    this.awaitResponseSync();
    return this.finish();
  }

  /** Like `call`, but waits without blocking the thread (for callers on an event loop). */
  async callAsync(code: number): Promise<number> {
    this.post(code);
    const s = this.state;
    while (Atomics.load(s, RingSlot.STATE) === RingState.REQUEST) {
      Atomics.store(s, RingSlot.CLIENT_PARKED, 1);
      const r = Atomics.waitAsync(s, RingSlot.STATE, RingState.REQUEST, 1000);
      if (r.async) await r.value; else await sleep(0);
      Atomics.store(s, RingSlot.CLIENT_PARKED, 0);
    }
    return this.finish();
  }

  /** Hands the request over, waking the server if it is parked. */
  private post(code: number): void {
    const s = this.state;
    if (Atomics.load(s, RingSlot.STATE) === RingState.SHUTDOWN) throw new RingClosedError('ring is shut down');
    s[RingSlot.LENGTH] = this.writer.pos;
    s[RingSlot.CODE] = code;
    s[RingSlot.HELD] = 0;
    Atomics.store(s, RingSlot.STATE, RingState.REQUEST);
    const db = this.doorbell;
    this.calls++;
    if (Atomics.load(db, DoorbellSlot.SERVER_PARKED) === 0) return;
    Atomics.store(db, DoorbellSlot.CLIENT_CPU, currentCpu());
    Atomics.add(db, DoorbellSlot.SEQ, 1);
    Atomics.notify(db, DoorbellSlot.SEQ, 1);
  }

  private awaitResponseSync(): void {
    const s = this.state, spinNs = this.spinNs;
    if (spinNs > 0 && Atomics.load(s, RingSlot.HELD) === 0 && tryAcquireSpinner(this.spin)) {
      try {
        // A turn costs ~8 ns here and a clock read ~42: the clock is read every 256 turns (~2 µs)
        // and first only then, so a reply that comes that fast reads no clock at all. The deadline
        // starts late by those 2 µs, nothing against a 200 µs spin.
        let deadline = 0;
        for (let i = 1; ; i++) {
          if (Atomics.load(s, RingSlot.STATE) !== RingState.REQUEST) return;
          if ((i & 255) === 0) {
            if (Atomics.load(s, RingSlot.HELD) !== 0) break;
            const t = now();
            if (deadline === 0) deadline = t + spinNs;
            else if (t > deadline) break;
          }
        }
      } finally {
        releaseSpinner(this.spin);
      }
    }
    this.parks++;
    Atomics.store(s, RingSlot.CLIENT_PARKED, 1);
    while (Atomics.load(s, RingSlot.STATE) === RingState.REQUEST) Atomics.wait(s, RingSlot.STATE, RingState.REQUEST);
    Atomics.store(s, RingSlot.CLIENT_PARKED, 0);
    leaveSharedCpu(Atomics.load(s, RingSlot.SERVER_CPU));
  }

  private finish(): number {
    const s = this.state;
    if (Atomics.load(s, RingSlot.STATE) === RingState.SHUTDOWN) throw new RingClosedError('ring shut down during a call');
    // Read the length once; FrameReader.reset rejects one that does not fit the window.
    this.reader.reset(s[RingSlot.LENGTH]!);
    return s[RingSlot.CODE]!;
  }
}

/**
 * Shuts a ring down from outside, for a supervisor whose server actor died: a client parked on
 * it wakes and gets RingClosedError instead of waiting forever.
 */
export function shutdownRing(desc: RingDescriptor): void {
  const s = new Int32Array(desc.buffer, 0, RING_HEADER_BYTES / 4);
  Atomics.store(s, RingSlot.STATE, RingState.SHUTDOWN);
  Atomics.notify(s, RingSlot.STATE);
}
