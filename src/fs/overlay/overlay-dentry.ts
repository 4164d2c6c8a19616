import { FileType } from '../../wasi/abi.js';
import type { DirEntry, Inode } from '../vfs/filesystem.js';
import { NO_CHILDREN } from '../vfs/no-children.js';

/** Absent names remembered per directory: a guest probing names must not grow the Sentry without bound. */
const MAX_ABSENT = 1000;

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
  readonly children: Map<string, OverlayDentry>;
  /** Directories: what the lowers list, merged, once read (OverlayFilesystem.lowerEntries). */
  lowerEntries: DirEntry[] | undefined;
  /** Directories: names looked up that no layer has (or a whiteout hides), oldest first; set through `setChild`/`absentName`. */
  absent: Set<string> | undefined;

  constructor(
    readonly ino: bigint, readonly type: FileType, upper: Inode | undefined, lowers: LayerInode[],
    public parent: OverlayDentry | null, public name: string,
  ) {
    this.upper = upper;
    this.lowers = lowers;
    this.children = type === FileType.DIRECTORY ? new Map() : NO_CHILDREN;
  }

  /** `name` now shows `child`. */
  setChild(name: string, child: OverlayDentry): void {
    this.absent?.delete(name);
    this.children.set(name, child);
  }

  /** Remembers that no layer has `name`; returns undefined, what a lookup of it finds. */
  absentName(name: string): undefined {
    const absent = this.absent ??= new Set();
    if (absent.size >= MAX_ABSENT) absent.delete(absent.values().next().value as string);
    absent.add(name);
    return undefined;
  }

  /** What the guest reads: the upper inode if there is one, else the topmost lower. */
  get top(): LayerInode {
    return this.upper ? { layer: 0, inode: this.upper } : this.lowers[0]!;
  }
}
