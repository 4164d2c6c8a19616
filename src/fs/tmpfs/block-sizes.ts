/**
 * Power-of-two blocks for file data, as both mediums carve them (FileStore from its mapped file,
 * MemoryMedium from heap chunks): a block of class c is MIN_BLOCK << c bytes, and freed blocks
 * wait on a list per class for the next file that needs that size.
 */
export const MIN_BLOCK = 256;

export function sizeClass(bytes: number): number {
  return Math.max(0, Math.ceil(Math.log2(bytes / MIN_BLOCK)));
}

export function blockBytes(cls: number): number {
  return MIN_BLOCK * 2 ** cls;
}

/** Free blocks by size class; a block is whatever the medium names it by (an offset, a view). */
export class FreeLists<B> {
  private readonly lists: B[][] = [];

  take(cls: number): B | undefined { return this.lists[cls]?.pop(); }

  give(cls: number, block: B): void { (this.lists[cls] ??= []).push(block); }
}
