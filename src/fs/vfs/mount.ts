import type { FilesystemImpl, Inode } from './filesystem.js';

/** A filesystem attached at a point of the tree. `readOnly` is enforced by the VFS for every write. */
export class Mount {
  /** Mounts stacked on directories of this one, keyed by the mount point's inode number. */
  readonly children = new Map<bigint, Mount>();
  readonly root: Inode;

  constructor(
    readonly fs: FilesystemImpl,
    readonly readOnly: boolean,
    /** Where the guest sees it ("/" for the root mount). */
    readonly guestPath: string,
    readonly parent: Mount | null = null,
    readonly mountpoint: Inode | null = null,
  ) {
    this.root = fs.root();
  }
}

/** A place in the tree: a filesystem inode seen through a mount. */
export interface Location {
  readonly mount: Mount;
  readonly inode: Inode;
}
