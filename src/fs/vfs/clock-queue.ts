/** An object a ClockQueue can hold: it carries its own membership, one bit of `queued` per queue. */
export interface ClockQueueMember {
  queued: number;
}

/**
 * A queue of distinct members that gives back its oldest in O(1): the hand of CLOCK (second
 * chance) eviction, which takes the oldest member and either drops it or adds it back young.
 *
 * The order lives in a ring of slots. Membership lives in the members: each queue owns one bit of
 * their `queued` field, so a dentry can sit in two queues (goferfs: every cached name, and those
 * holding a host FD) and add, shift and has cost no hashing. Two earlier forms cost more:
 *  - a Set used as a queue (`s.delete(s.values().next().value)`): V8 keeps a deleted entry as a
 *    hole until the table is rehashed, and an iterator starts at the first slot, so taking the
 *    oldest walked every hole in front of it: 6–14 µs a step at 10,000 members;
 *  - this ring with a Set beside it for membership: three hashed operations more per cache miss,
 *    and with them (and the attribute queue goferfs no longer keeps) ~11% of an in-thread cold
 *    directfs stat.
 */
export class ClockQueue<T extends ClockQueueMember> implements Iterable<T> {
  private slots: (T | undefined)[] = new Array(16);
  /** Index of the oldest member; the ring holds exactly the members, oldest first. */
  private head = 0;
  private count = 0;

  /** `bit`: this queue's bit of `queued`, distinct from every other queue its members join. */
  constructor(private readonly bit: number) {
    if (!Number.isInteger(bit) || bit <= 0 || bit > 0x4000_0000 || (bit & (bit - 1)) !== 0) throw new RangeError(`a queue's bit must be one bit: ${bit}`);
  }

  get size(): number { return this.count; }

  has(x: T): boolean { return (x.queued & this.bit) !== 0; }

  /** Adds `x` as the youngest member; a member already stays where it is. */
  add(x: T): void {
    if ((x.queued & this.bit) !== 0) return;
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = x;
    this.count++;
    x.queued |= this.bit;
  }

  /** Takes the oldest member out; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const x = this.slots[this.head] as T;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    x.queued &= ~this.bit;
    return x;
  }

  clear(): void {
    for (const x of this) x.queued &= ~this.bit;
    this.slots = new Array(16);
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first. */
  *[Symbol.iterator](): Iterator<T> {
    const mask = this.slots.length - 1;
    for (let i = 0, n = this.count; i < n; i++) yield this.slots[(this.head + i) & mask] as T;
  }

  private grow(): void {
    const old = this.slots, mask = old.length - 1, n = this.count;
    const slots: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < n; i++) slots[i] = old[(this.head + i) & mask];
    this.slots = slots;
    this.head = 0;
  }
}
