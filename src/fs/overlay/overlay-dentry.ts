import type { FileType } from '../../wasi/abi.js';
import type { Inode } from '../vfs/filesystem.js';

/** An inode of one lower layer; `layer` 1 is the topmost lower (0 is the upper). */
export interface LayerInode {
  layer: number;
  inode: Inode;
}

/**
 * One name in an overlay, as the guest sees it: the identity the VFS holds. Its layers change
 * under it (copy-up gives it an upper inode), its inode number does not.
 */
export class OverlayDentry implements Inode {
  /** The upper layer's inode, once the file exists there (created there, or copied up). */
  upper: Inode | undefined;
  /**
   * The lower layers' inodes, topmost first: one for a non-directory, every directory of the
   * name down to the first opaque one for a directory (they merge). Empty once nothing below shows.
   */
  lowers: LayerInode[];
  /** Directories: names looked up (through every layer) → dentry. Dropped on any change of the name. */
  readonly children = new Map<string, OverlayDentry>();

  constructor(
    readonly ino: bigint, readonly type: FileType, upper: Inode | undefined, lowers: LayerInode[],
    public parent: OverlayDentry | null, public name: string,
  ) {
    this.upper = upper;
    this.lowers = lowers;
  }

  /** What the guest reads: the upper inode if there is one, else the topmost lower. */
  get top(): LayerInode {
    return this.upper ? { layer: 0, inode: this.upper } : this.lowers[0]!;
  }
}
