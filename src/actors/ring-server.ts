import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { currentCpu, leaveSharedCpu } from './cpu-placement.js';
import { FrameError, FrameReader, FrameWriter } from './frame.js';
import {
  DoorbellSlot, RING_HEADER_BYTES, RingSlot, RingState, SPIN_BUDGET_NS, WAKE_SPIN_NS,
  releaseSpinner, tryAcquireSpinner, type RingDescriptor,
} from './ring-layout.js';

/** The server's end of one ring: what a handler reads the request from and writes the reply to. */
export class ServerRing {
  readonly reader: FrameReader;
  readonly writer: FrameWriter;
  readonly state: Int32Array;
  /** Set while a request is held (answered later); `complete` clears it. */
  held = false;

  constructor(readonly desc: RingDescriptor, readonly id: number) {
    this.state = new Int32Array(desc.buffer, 0, RING_HEADER_BYTES / 4);
    const window = new Uint8Array(desc.buffer, RING_HEADER_BYTES);
    this.reader = new FrameReader(window);
    this.writer = new FrameWriter(window);
  }

  /** Hands the reply (status + the `writer.pos` bytes written) back to the client; true if it had to wake it. */
  complete(status: number): boolean {
    const s = this.state;
    this.held = false;
    s[RingSlot.LENGTH] = this.writer.pos;
    s[RingSlot.CODE] = status;
    Atomics.store(s, RingSlot.STATE, RingState.RESPONSE);
    if (Atomics.load(s, RingSlot.CLIENT_PARKED) === 0) return false;
    Atomics.store(s, RingSlot.SERVER_CPU, currentCpu());
    Atomics.notify(s, RingSlot.STATE);
    return true;
  }

  /**
   * Tells the client this reply will be slow, so it parks rather than spin on a core the work may
   * need: the server is about to wait on another actor (a gofer) on this call's behalf.
   */
  expectDelay(): void {
    Atomics.store(this.state, RingSlot.HELD, 1);
  }

  /** Tells the client the answer will come later, so it parks instead of spinning. */
  hold(): void {
    this.held = true;
    Atomics.store(this.state, RingSlot.HELD, 1);
  }

  shutdown(): void {
    Atomics.store(this.state, RingSlot.STATE, RingState.SHUTDOWN);
    Atomics.notify(this.state, RingSlot.STATE);
  }
}

/** What a handler returns: a status to reply with now, or HELD when it will call `complete` later. */
export const HELD = -1;

/**
 * Handles one request. The reader is positioned on the request; the writer is reset. Reader and
 * writer share the window: read the whole request before writing the reply. A thrown
 * FrameError (a malformed frame) is answered with `malformedStatus`; anything else is a bug of the
 * handler and is answered with `failureStatus`, never a crash of the loop.
 */
export type RingHandler = (ring: ServerRing, code: number) => number;

/** The part of a ServerRing a handler that never holds needs: the request and the reply. */
export interface RingFrames {
  readonly reader: FrameReader;
  readonly writer: FrameWriter;
}

export interface RingServerOptions {
  malformedStatus: number;
  failureStatus: number;
  spinNs?: number;
  /** Longest stretch of work before the loop lets the event loop run (control messages, timers). */
  sliceMs?: number;
  onHandlerError?: (e: unknown) => void;
}

// From perf_hooks: the global `performance` is a lazy getter, and this is read in spin loops.
const now = (): number => performance.now() * 1e6;

/**
 * One loop serving many rings. It spins ~20 µs after the last request (WAKE_SPIN_NS if that
 * request's client had parked and had to be woken), then parks on the doorbell with
 * Atomics.waitAsync, so timers and control-plane messages run while the sandbox is idle.
 */
export class RingServer {
  private readonly rings: ServerRing[] = [];
  private readonly doorbell: Int32Array;
  private readonly spin: Int32Array;
  private running = false;
  private stopped: Promise<void> | undefined;
  private nextId = 1;
  requests = 0;
  parks = 0;
  /** A reply had to wake its client since the loop last went idle: spin for the client's next call. */
  private wokeClient = false;
  /** The ring whose request is being handled, while a handler runs. */
  private serving: ServerRing | undefined;

  constructor(doorbell: SharedArrayBuffer, spin: SharedArrayBuffer, private readonly handler: RingHandler, private readonly options: RingServerOptions) {
    this.doorbell = new Int32Array(doorbell);
    this.spin = new Int32Array(spin);
  }

  attach(desc: RingDescriptor): ServerRing {
    const ring = new ServerRing(desc, this.nextId++);
    this.rings.push(ring);
    return ring;
  }

  detach(ring: ServerRing): void {
    const i = this.rings.indexOf(ring);
    if (i >= 0) this.rings.splice(i, 1);
    ring.shutdown();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.stopped;
    for (const r of this.rings) r.shutdown();
  }

  /** Wakes a parked loop (e.g. after a stop request or new ring). */
  wake(): void {
    Atomics.add(this.doorbell, DoorbellSlot.SEQ, 1);
    Atomics.notify(this.doorbell, DoorbellSlot.SEQ);
  }

  /** Marks the request being handled as slow (ServerRing.expectDelay); nothing outside a handler. */
  expectDelay(): void {
    this.serving?.expectDelay();
  }

  /** Serves every pending request once; returns how many were served. */
  pollOnce(): number {
    let served = 0;
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) {
      const ring = rings[i]!;
      if (ring.held || Atomics.load(ring.state, RingSlot.STATE) !== RingState.REQUEST) continue;
      served++;
      this.serve(ring);
    }
    return served;
  }

  private serve(ring: ServerRing): void {
    this.requests++;
    const s = ring.state;
    const code = s[RingSlot.CODE]!;
    let status: number;
    ring.writer.reset();
    this.serving = ring;
    try {
      ring.reader.reset(s[RingSlot.LENGTH]!);
      status = this.handler(ring, code);
    } catch (e) {
      ring.writer.reset();
      if (e instanceof FrameError) status = this.options.malformedStatus;
      else { status = this.options.failureStatus; this.options.onHandlerError?.(e); }
    } finally {
      this.serving = undefined;
    }
    if (status === HELD) { if (!ring.held) ring.hold(); return; }
    if (ring.complete(status)) this.wokeClient = true;
  }

  /**
   * Serves requests as they come until the slice is used up, or (when `spinning`) no request came
   * for a spin budget, or (when not) at once when none is pending.
   */
  private serveWhileBusy(spinning: boolean, sliceStart: number, sliceNs: number, spinNs: number, wakeSpinNs: number): void {
    // The clock is read only every 256 idle turns (~8 µs): performance.now costs as much as a
    // small request, and each reading is a heap number (67 of the 249 MB a kernel allocated over
    // four fsstress runs were readings while it spun idle). idleSince < 0 means work was seen
    // since it was last read.
    let idleSince = now();
    for (let i = 1, served = 0; this.running; i++) {
      if (this.pollOnce() > 0) {
        idleSince = -1;
        if ((++served & 31) === 0 && now() - sliceStart > sliceNs) return;
        continue;
      }
      if (!spinning) return;
      if ((i & 255) !== 0) continue;
      const t = now();
      if (idleSince < 0) idleSince = t;
      else if (t - idleSince > (this.wokeClient ? wakeSpinNs : spinNs)) return;
    }
  }

  private async loop(): Promise<void> {
    const db = this.doorbell;
    const spinNs = this.options.spinNs ?? SPIN_BUDGET_NS;
    const wakeSpinNs = spinNs > 0 ? Math.max(spinNs, WAKE_SPIN_NS) : 0;
    const sliceNs = (this.options.sliceMs ?? 4) * 1e6;
    let sliceStart = now();
    while (this.running) {
      const spinning = tryAcquireSpinner(this.spin);
      try {
        this.serveWhileBusy(spinning, sliceStart, sliceNs, spinNs, wakeSpinNs);
      } finally {
        if (spinning) releaseSpinner(this.spin);
        this.wokeClient = false;
      }
      if (now() - sliceStart > sliceNs) {
        await yieldToEventLoop();
        sliceStart = now();
        continue;
      }
      // Park: announce it, then look once more so a request posted meanwhile is not missed.
      const seq = Atomics.load(db, DoorbellSlot.SEQ);
      Atomics.store(db, DoorbellSlot.SERVER_PARKED, 1);
      if (this.running && !this.hasRequest()) {
        this.parks++;
        const r = Atomics.waitAsync(db, DoorbellSlot.SEQ, seq);
        if (r.async) await r.value; else await yieldToEventLoop();
        // Woken by a client, which may have been put on this CPU meanwhile (cpu-placement.ts).
        leaveSharedCpu(Atomics.load(db, DoorbellSlot.CLIENT_CPU));
      }
      Atomics.store(db, DoorbellSlot.SERVER_PARKED, 0);
      sliceStart = now();
    }
  }

  private hasRequest(): boolean {
    for (const ring of this.rings) {
      if (!ring.held && Atomics.load(ring.state, RingSlot.STATE) === RingState.REQUEST) return true;
    }
    return false;
  }
}
