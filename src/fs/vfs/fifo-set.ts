/**
 * A set that gives back its oldest member in O(1): the queue under a CLOCK (second chance)
 * eviction, where the hand takes the oldest entry and either drops it or adds it back young.
 *
 * Not a plain Set used as a queue (`s.delete(s.values().next().value)`): V8 keeps a deleted entry
 * as a hole until the table is next rehashed, and an iterator starts at the table's first slot, so
 * taking the oldest member walks every hole in front of it. At 10,000 members that cost 6–14 µs
 * a step (and a cold directfs stat went from ~8 to 25–40 µs once its dentry cache was full). Here
 * the order lives in a ring of slots, and the Set only answers membership.
 */
export class FifoSet<T> implements Iterable<T> {
  private slots: (T | undefined)[] = new Array(16);
  /** Index of the oldest member; the ring holds exactly the members, oldest first. */
  private head = 0;
  private readonly members = new Set<T>();

  get size(): number { return this.members.size; }

  has(x: T): boolean { return this.members.has(x); }

  /** Adds `x` as the youngest member; a member already stays where it is. */
  add(x: T): void {
    if (this.members.has(x)) return;
    const n = this.members.size;
    if (n === this.slots.length) this.grow();
    this.slots[(this.head + n) & (this.slots.length - 1)] = x;
    this.members.add(x);
  }

  /** Takes the oldest member out; undefined when empty. */
  shift(): T | undefined {
    if (this.members.size === 0) return undefined;
    const x = this.slots[this.head] as T;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.members.delete(x);
    return x;
  }

  clear(): void {
    this.slots = new Array(16);
    this.head = 0;
    this.members.clear();
  }

  /** Oldest first. */
  *[Symbol.iterator](): Iterator<T> {
    const mask = this.slots.length - 1;
    for (let i = 0, n = this.members.size; i < n; i++) yield this.slots[(this.head + i) & mask] as T;
  }

  private grow(): void {
    const old = this.slots, mask = old.length - 1, n = this.members.size;
    const slots: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < n; i++) slots[i] = old[(this.head + i) & mask];
    this.slots = slots;
    this.head = 0;
  }
}
