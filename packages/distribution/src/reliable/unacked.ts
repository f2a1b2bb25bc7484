// The messages a sender keeps until they are acknowledged: their bytes copied into chunks of 1,024
// messages each. Keeping the encoder's views instead meant one object per message that lives past
// a young-generation collection (an ack takes ~20 ms) and is promoted: at a million messages a
// second, ~15 % of the sender's time went to the garbage collector. A chunk is a byte slab and an
// offset table, reused once its messages are acknowledged.

const PER_CHUNK = 1024;
const SLAB = 32 * 1024;

interface Chunk {
  data: Buffer;
  /** ends[k]: where message k's bytes end in `data` (message k starts where k - 1 ends). */
  ends: Int32Array;
  count: number;
}

/** Unacknowledged messages in order; the oldest is at index 0. */
export class Unacked {
  /** chunks[0] message `head` is the oldest; the last chunk fills up to PER_CHUNK messages. */
  #chunks: Chunk[] = [];
  #head = 0;
  #length = 0;
  #bytes = 0;
  /** One emptied chunk kept for the next (a steady stream would otherwise allocate one per 1,024 messages). */
  #spare: Chunk | null = null;

  get length(): number {
    return this.#length;
  }

  /** Bytes of all the messages kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps a copy of `message` (the caller's buffer may be reused). */
  push(message: Uint8Array): void {
    let chunk = this.#chunks[this.#chunks.length - 1];
    if (chunk === undefined || chunk.count === PER_CHUNK) {
      chunk = this.#spare ?? { data: Buffer.allocUnsafeSlow(SLAB), ends: new Int32Array(PER_CHUNK), count: 0 };
      this.#spare = null;
      this.#chunks.push(chunk);
    }
    const start = chunk.count === 0 ? 0 : (chunk.ends[chunk.count - 1] as number);
    const end = start + message.length;
    if (end > chunk.data.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(end, chunk.data.length * 2));
      chunk.data.copy(grown, 0, 0, start);
      chunk.data = grown;
    }
    chunk.data.set(message, start);
    chunk.ends[chunk.count++] = end;
    this.#length++;
    this.#bytes += message.length;
  }

  /** The `i`-th oldest message (0 ≤ i < length), as a view valid until it is dropped. */
  at(i: number): Buffer {
    const k = this.#head + i;
    const chunk = this.#chunks[Math.floor(k / PER_CHUNK)] as Chunk;
    const m = k % PER_CHUNK;
    return chunk.data.subarray(m === 0 ? 0 : chunk.ends[m - 1], chunk.ends[m]);
  }

  /** Forgets the `n` oldest messages. */
  drop(n: number): void {
    let left = Math.min(n, this.#length);
    while (left > 0) {
      const chunk = this.#chunks[0] as Chunk;
      const take = Math.min(left, chunk.count - this.#head);
      const from = this.#head === 0 ? 0 : (chunk.ends[this.#head - 1] as number);
      this.#head += take;
      this.#bytes -= (chunk.ends[this.#head - 1] as number) - from;
      this.#length -= take;
      left -= take;
      // Used up (every message it can hold was pushed and dropped), or the queue is empty.
      if (this.#head === PER_CHUNK || this.#length === 0) {
        this.#chunks.shift();
        chunk.count = 0;
        // A slab grown for a big message is not kept.
        if (chunk.data.length === SLAB) this.#spare = chunk;
        this.#head = 0;
      }
    }
  }

  /** Every message kept, oldest first. */
  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.#length; i++) yield this.at(i);
  }
}
