import { Errno, fail } from '../../wasi/errno.js';
import type { FileHandle } from '../vfs/filesystem.js';

/**
 * A read-only open of a file that was only in a lower layer when it was opened. When the file is
 * copied up (someone opened it for writing, truncated it…) the overlay moves it to the upper copy
 * at once (`switchTo`), so this open sees what the program writes, as on Linux, where it is one
 * file — and keeps the copy open, so it still reads it after the copy's last name is unlinked.
 */
export class OverlayReadHandle implements FileHandle {
  /** `onClose` tells the overlay this open no longer needs moving. */
  constructor(private handle: FileHandle, private readonly onClose: (h: OverlayReadHandle) => void) {}

  /** The file was copied up: from now on this open reads `upper`, opened for it. */
  switchTo(upper: FileHandle): void {
    this.handle.close();
    this.handle = upper;
  }

  read(dst: Uint8Array, offset: number): number { return this.handle.read(dst, offset); }
  write(): number { return fail(Errno.BADF); }
  size(): number { return this.handle.size(); }
  sync(dataOnly: boolean): void { this.handle.sync(dataOnly); }
  allocate(): void { fail(Errno.BADF); }
  close(): void {
    this.handle.close();
    this.onClose(this);
  }
}
