import { FrameError, type FrameReader, type FrameWriter } from '../../actors/frame.js';
import type { RingFrames } from '../../actors/ring-server.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import { MESSAGE_NAMES, type Message } from './protocol.js';

/**
 * What every gofer server shares, whatever backs it (host FDs, or a user's backend): the message
 * table, decoding each request and encoding each reply, the per-message counters, and the rules of
 * protocol.ts that do not depend on the backing — a trailing byte is a malformed frame (rule 5),
 * a mutation on a read-only connection is EROFS before anything is touched (rule 3), an unknown
 * message is ENOTSUP, and a thrown errno becomes the reply's status.
 */
export abstract class ProtocolServer {
  private readonly table = new Map<number, (r: FrameReader, w: FrameWriter) => void>();
  /** The same handlers without frames, for `invoke`: every message but those that write their reply in place. */
  private readonly direct = new Map<number, (req: unknown, window: number) => unknown>();
  protected readonly counts: Record<string, number> = {};

  constructor(protected readonly readOnly: boolean) {}

  /** Serves one request: the RingHandler of a gofer's ring, or called in-process (directfs). */
  readonly handler = (ring: RingFrames, code: number): number => {
    const name = MESSAGE_NAMES.get(code) ?? 'unknown';
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    const serve = this.table.get(code);
    if (!serve) return Errno.NOTSUP;
    try {
      serve(ring.reader, ring.writer);
      return Errno.SUCCESS;
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e; // FrameError → malformed status; a bug → failure status
      ring.writer.reset();
      return e.errno;
    }
  };

  /**
   * Serves one request given as the decoded object, in this thread, with the rules `handler`
   * keeps (read-only → EROFS; a thrown errno propagates as a SyscallError). Directfs calls this:
   * a frame would be encoded and decoded again within one thread for nothing. Returns undefined
   * for a message that only has a framed form (PRead: it reads into the window).
   */
  invoke<Q, P>(m: Message<Q, P>, req: Q, window: number): P | undefined {
    const serve = this.direct.get(m.id);
    if (!serve) return undefined;
    this.counts[m.name] = (this.counts[m.name] ?? 0) + 1;
    return serve(req, window) as P;
  }

  /** `serve` gets the window's size only to bound its reply: encoding it is done here. */
  protected on<Q, P>(m: Message<Q, P>, serve: (req: Q, window: number) => P): void {
    const direct = (req: unknown, window: number): P => {
      if (m.mutates && this.readOnly) fail(Errno.ROFS);
      return serve(req as Q, window);
    };
    this.direct.set(m.id, direct);
    this.table.set(m.id, (r, w) => {
      const req = m.req.get(r);
      endOfRequest(r);
      m.resp.put(w, direct(req, w.capacity));
    });
  }

  /** A handler that writes its reply itself (PRead, straight into the window). */
  protected onRaw<Q>(m: Message<Q, unknown>, serve: (req: Q, w: FrameWriter) => void): void {
    this.table.set(m.id, (r, w) => {
      const req = m.req.get(r);
      endOfRequest(r);
      serve(req, w);
    });
  }
}

function endOfRequest(r: FrameReader): void {
  if (r.remaining !== 0) throw new FrameError(`${r.remaining} trailing bytes`);
}
