import { Errno, fail } from '../../wasi/errno.js';
import type { FileHandle } from '../vfs/filesystem.js';

/**
 * A read-only open of a file that was only in a lower layer when it was opened. Once the file is
 * copied up (someone opened it for writing, truncated it…) the next call switches to the upper
 * copy, so this open sees what the program wrote, as gVisor's `getCurrentFD` does.
 */
export class OverlayReadHandle implements FileHandle {
  private switched = false;

  /** `upperNow` opens the upper copy if there is one yet. */
  constructor(private handle: FileHandle, private readonly upperNow: () => FileHandle | undefined) {}

  private current(): FileHandle {
    if (!this.switched) {
      const u = this.upperNow();
      if (u) {
        this.handle.close();
        this.handle = u;
        this.switched = true;
      }
    }
    return this.handle;
  }

  read(dst: Uint8Array, offset: number): number { return this.current().read(dst, offset); }
  write(): number { return fail(Errno.BADF); }
  size(): number { return this.current().size(); }
  sync(dataOnly: boolean): void { this.current().sync(dataOnly); }
  allocate(): void { fail(Errno.BADF); }
  close(): void { this.handle.close(); }
}
