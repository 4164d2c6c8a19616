import { FrameError, FrameReader, FrameWriter } from '../../actors/frame.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import type { GoferChannel } from '../gofer/gofer-connection.js';
import type { GoferServer } from '../gofer/gofer-server.js';
import type { Message } from '../gofer/protocol.js';

/**
 * A GoferChannel that calls a GoferServer in this thread instead of crossing a ring to a
 * GoferActor: directfs. The server's rules hold unchanged (one component at a time beneath the
 * donated root, openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, `..` and symlinks resolved by
 * our VFS); what goes away is the thread hop, and, through `invoke`, the encoding of requests and
 * replies. PRead keeps the framed form: request and reply share one private window, as on a ring,
 * and a failure is answered the way a RingServer answers it.
 */
export class DirectChannel implements GoferChannel {
  readonly writer: FrameWriter;
  readonly reader: FrameReader;
  readonly inProcess = true;
  private readonly server: { reader: FrameReader; writer: FrameWriter };

  constructor(private readonly gofer: GoferServer, windowBytes = 256 * 1024) {
    const window = new Uint8Array(windowBytes);
    this.writer = new FrameWriter(window);
    this.reader = new FrameReader(window);
    this.server = { reader: new FrameReader(window), writer: new FrameWriter(window) };
  }

  get windowBytes(): number { return this.writer.capacity; }

  call(code: number): number {
    const { reader, writer } = this.server;
    reader.reset(this.writer.pos);
    writer.reset();
    let status: number;
    try {
      status = this.gofer.handler(this.server, code);
    } catch (e) {
      if (!(e instanceof FrameError)) process.emitWarning(`directfs: handler failed: ${e instanceof Error ? e.stack : String(e)}`);
      status = e instanceof FrameError ? Errno.INVAL : Errno.IO;
      writer.reset();
    }
    this.reader.reset(status === Errno.SUCCESS ? writer.pos : 0);
    return status;
  }

  /** The request served without frames (ProtocolServer.invoke); undefined for a framed-only message. */
  invoke<Q, P>(m: Message<Q, P>, req: Q): P | undefined {
    try {
      return this.gofer.invoke(m, req, this.windowBytes);
    } catch (e) {
      if (e instanceof SyscallError) throw e;
      process.emitWarning(`directfs: handler failed: ${e instanceof Error ? e.stack : String(e)}`);
      return fail(Errno.IO);
    }
  }

  /** Closes the server's host FDs (the donated root among them). */
  release(): void {
    this.gofer.release();
  }
}
