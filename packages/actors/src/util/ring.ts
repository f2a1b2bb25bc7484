// A growable ring buffer: O(1) push and shift, used for mailboxes and the run queue.

/** @internal */
export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;
  #mask: number;

  constructor(initialCapacity = 8) {
    let cap = 4;
    while (cap < initialCapacity) cap <<= 1;
    this.#items = new Array<T | undefined>(cap);
    this.#mask = cap - 1;
  }

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const i = this.#head;
    const item = this.#items[i];
    this.#items[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** The item at position `index` from the head (0 = oldest). */
  at(index: number): T | undefined {
    return index < this.#size ? this.#items[(this.#head + index) & this.#mask] : undefined;
  }

  /** Removes and returns the item at `index`, keeping the others in order. */
  removeAt(index: number): T | undefined {
    if (index >= this.#size) return undefined;
    if (index === 0) return this.shift();
    const items = this.#items;
    const mask = this.#mask;
    const item = items[(this.#head + index) & mask];
    // Close the gap by moving the shorter side.
    if (index < this.#size / 2) {
      for (let i = index; i > 0; i--) items[(this.#head + i) & mask] = items[(this.#head + i - 1) & mask];
      items[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
    } else {
      for (let i = index; i < this.#size - 1; i++) items[(this.#head + i) & mask] = items[(this.#head + i + 1) & mask];
      items[(this.#head + this.#size - 1) & mask] = undefined;
    }
    this.#size--;
    return item;
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(this.#head + i) & this.#mask] as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const cap = old.length * 2;
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#items = next;
    this.#head = 0;
    this.#mask = cap - 1;
  }
}
