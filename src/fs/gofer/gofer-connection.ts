import { RingClient, type RingClientOptions } from '../../actors/ring-client.js';
import type { RingDescriptor } from '../../actors/ring-layout.js';
import type { FrameReader, FrameWriter } from '../../actors/frame.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import { CLOSE_BATCH, M, MAX_CLOSE_FDS, type FdId, type Message, type MessageName, type ReqOf, type RespOf } from './protocol.js';

/**
 * How requests reach a gofer server: a RingClient to a GoferActor, or a DirectChannel that calls a
 * server in this thread (directfs). Write the request into `writer`, `call`, read the reply.
 */
export interface GoferChannel {
  readonly writer: FrameWriter;
  readonly reader: FrameReader;
  readonly windowBytes: number;
  call(code: number): number;
  /** The server runs in this thread (directfs). */
  readonly inProcess?: boolean;
  /** Serves a decoded request without frames, if the channel can (in-thread); undefined if not. */
  invoke?<Q, P>(m: Message<Q, P>, req: Q): P | undefined;
  /** Frees what the channel holds (a DirectChannel: its server's host FDs). */
  release?(): void;
}

/** One channel to one gofer server: typed RPCs, their counters, and the batch of FD ids waiting to be closed. */
export class GoferConnection {
  readonly rpcCounts = Object.fromEntries(Object.keys(M).map((n) => [n, 0])) as Record<MessageName, number>;
  private readonly client: GoferChannel;
  private pendingClose: FdId[] = [];

  constructor(channel: RingDescriptor | GoferChannel, options: RingClientOptions) {
    this.client = 'call' in channel ? channel : new RingClient(channel, options);
  }

  get windowBytes(): number { return this.client.windowBytes; }

  /** The server runs in this thread (directfs). */
  get inProcess(): boolean { return this.client.inProcess === true; }

  /**
   * One round trip. A non-zero status is thrown as that errno; a reply that does not decode, or a
   * gofer that died, is EIO. Byte fields of the reply are views into the window: copy them out
   * before the next RPC.
   */
  rpc<N extends MessageName>(name: N, req: ReqOf<N>): RespOf<N> {
    const m = M[name] as unknown as Message<ReqOf<N>, RespOf<N>>;
    this.rpcCounts[name]++;
    const c = this.client;
    try {
      const direct = c.invoke?.(m, req);
      if (direct !== undefined) return direct;
      m.req.put(c.writer.reset(), req);
      const status = c.call(m.id);
      if (status !== 0) fail(status as Errno);
      return m.resp.get(c.reader);
    } catch (e) {
      if (e instanceof SyscallError) throw e;
      fail(Errno.IO); // FrameError or RingClosedError
    }
  }

  /** Queues FD ids; they ride on the next Close, which is sent when the batch fills or `now`. */
  close(fds: readonly FdId[], now = false): void {
    for (const fd of fds) if (fd >= 0) this.pendingClose.push(fd);
    if (now || this.pendingClose.length >= CLOSE_BATCH) this.flushClose();
  }

  /** Sends the pending closes and lets go of the channel. */
  release(): void {
    this.flushClose();
    this.client.release?.();
  }

  /** Close never fails at the gofer; if the gofer is gone, so are its FDs: nothing to report. */
  flushClose(): void {
    while (this.pendingClose.length > 0) {
      const fds = this.pendingClose.splice(0, MAX_CLOSE_FDS);
      try { this.rpc('Close', { fds }); } catch { /* see above */ }
    }
  }
}
