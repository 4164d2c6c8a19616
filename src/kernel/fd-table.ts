import { Errno, fail } from '../wasi/errno.js';
import type { FileDescription } from './file-description.js';

/** One fd number's capability: the description it names, its rights, and (for preopens) its name. */
export interface FdEntry {
  description: FileDescription;
  rightsBase: bigint;
  rightsInheriting: bigint;
  preopenName: Uint8Array | undefined;
}

/** Most fds a task may hold; more is EMFILE. */
export const MAX_FDS = 4096;

/** A task's fd numbers. WASI rights are checked here, at the boundary, before any work. */
export class FdTable {
  private readonly entries: (FdEntry | undefined)[] = [];
  private count = 0;

  get(fd: number): FdEntry {
    const e = this.entries[fd];
    if (e === undefined) fail(Errno.BADF);
    return e;
  }

  /** The entry for `fd`, which must hold every right in `rights` (ENOTCAPABLE otherwise). */
  need(fd: number, rights: bigint): FdEntry {
    const e = this.get(fd);
    if ((e.rightsBase & rights) !== rights) fail(Errno.NOTCAPABLE);
    return e;
  }

  /** Installs `entry` at the lowest free number. */
  install(entry: FdEntry): number {
    if (this.count >= MAX_FDS) fail(Errno.MFILE);
    let fd = 0;
    while (this.entries[fd] !== undefined) fd++;
    this.entries[fd] = entry;
    this.count++;
    return fd;
  }

  /** Removes `fd`; returns its entry so the caller can release the description if unshared. */
  remove(fd: number): FdEntry {
    const e = this.get(fd);
    this.entries[fd] = undefined;
    this.count--;
    return e;
  }

  /** fd_renumber: `to` takes `from`'s entry; `to`'s old description is returned for closing. */
  renumber(from: number, to: number): FdEntry | undefined {
    const src = this.get(from);
    const old = this.get(to);
    if (from === to) return undefined;
    this.entries[to] = src;
    this.entries[from] = undefined;
    this.count--;
    return old;
  }

  /** Whether any fd still names `d` (descriptions are closed when the last one goes). */
  references(d: FileDescription): boolean {
    return this.entries.some((e) => e?.description === d);
  }

  *all(): IterableIterator<[number, FdEntry]> {
    for (let fd = 0; fd < this.entries.length; fd++) {
      const e = this.entries[fd];
      if (e !== undefined) yield [fd, e];
    }
  }

  closeAll(): void {
    const seen = new Set<FileDescription>();
    for (const [, e] of this.all()) {
      if (seen.has(e.description)) continue;
      seen.add(e.description);
      try { e.description.close(); } catch { /* closing never fails a task's exit */ }
    }
    this.entries.length = 0;
    this.count = 0;
  }
}
