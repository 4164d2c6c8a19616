import { FileType } from '../../wasi/abi.js';
import type { Inode } from '../vfs/filesystem.js';

/** Wall-clock nanoseconds; tmpfs times come from the Sentry's clock, like Linux's. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** One node of a tmpfs tree. Directories know their parent (a directory has exactly one). */
export class TmpInode implements Inode {
  nlink: number;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  /** Regular files: the bytes, with spare capacity past `size`. */
  data: Uint8Array = EMPTY;
  size = 0;
  /** Directories: name → child. */
  readonly children: Map<string, TmpInode> | undefined;
  parent: TmpInode | undefined;
  /** Symbolic links. */
  readonly target: string | undefined;
  /** Open handles; an unlinked file's data lives until the last closes. */
  openCount = 0;
  /** Device files: the device number (0 for an overlay whiteout, the only kind made). */
  rdev = 0;
  /** Extended attributes (text, or bytes as a host gave them); the overlay keeps its opaque mark here. */
  xattrs: Map<string, string | Uint8Array> | undefined;
  /** Owner and group: the guest's identity (0:0) for new files; copy-up sets a lower file's. */
  uid = 0;
  gid = 0;

  constructor(readonly ino: bigint, readonly type: FileType, public mode: number, target?: string) {
    const t = nowNs();
    this.atim = t; this.mtim = t; this.ctim = t;
    this.nlink = type === FileType.DIRECTORY ? 2 : 1;
    this.children = type === FileType.DIRECTORY ? new Map() : undefined;
    this.target = target;
  }

  touchModified(): void {
    const t = nowNs();
    this.mtim = t; this.ctim = t;
  }
}

const EMPTY = new Uint8Array(0);
