// The send side of one socket of a channel: a bounded queue that batches small messages into
// frames, replaces superseded messages on monotonic channels, and cuts large payloads into chunks
// written one per turn. A WriteScheduler serves outboxes by priority, so control frames are
// written before bulk ones and the event loop turns between bulk chunks.

import type { Clock } from '@fdn/core';
import type { SendStatus } from '../transport/types.ts';
import { encodeChunkHeader, encodeData, PER_MESSAGE_OVERHEAD } from '../wire/frames.ts';
import type { ChannelConfig, Priority } from './config.ts';

/** Where an outbox writes: an open socket. `done` runs once the bytes reached the OS. */
export interface FrameSink {
  write(frame: Buffer | Uint8Array, done: () => void): void;
}

/** A queued message on a monotonic channel, replaceable until it is written. */
class Slot {
  constructor(
    public payload: Uint8Array,
    readonly key: string | number,
  ) {}
}

type Item = Uint8Array | Slot;

/** Frames a peer may send are at most this big (plus chunks of up to the channel's chunkSize). */
export const MAX_BATCH_BYTES = 1024 * 1024;
/**
 * Frames this side writes are at most this big: about one socket read, so a receiver whose
 * processes fall behind can stop reading between frames (a 1 MiB frame is 100,000 small
 * messages delivered at once), and no message waits behind a megabyte of others.
 */
const BATCH_BYTES = 64 * 1024;
/** Bytes written to a socket and not yet handed to the OS, per socket, before we wait. */
const IN_FLIGHT_LIMIT = 4 * 1024 * 1024;
const LATENCY_WEIGHT = 0.1;

/** What a flush did: nothing left, more to write on the next turn, or waiting for the socket. */
export type FlushResult = 'idle' | 'more' | 'blocked';

/** Upper bounds (ms) of the send-latency histogram's buckets (see `ChannelMetrics.sendLatency`). */
export const SEND_LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

export class Outbox {
  #items: Item[] = [];
  #head = 0;
  #bytes = 0;
  #slots: Map<string | number, Slot> | null = null;
  /** A large payload being written chunk by chunk. */
  #chunking: { payload: Uint8Array; offset: number } | null = null;
  #inFlight = 0;
  #oldestAt = 0;
  #writable: (() => void)[] = [];
  /** @internal Set while queued in the scheduler. */
  scheduled = false;
  /** Where frames go; null while the socket is not open. */
  sink: FrameSink | null = null;

  // Metrics
  messagesOut = 0;
  bytesOut = 0;
  dropped = 0;
  sendLatencyMs = 0;
  /** Writes per latency bucket (see {@link SEND_LATENCY_BUCKETS_MS}; the last counts those above every bound), and their total ms. */
  readonly latencyCounts: number[] = new Array<number>(SEND_LATENCY_BUCKETS_MS.length + 1).fill(0);
  latencySumMs = 0;

  constructor(
    readonly config: ChannelConfig,
    readonly clock: Clock,
    readonly scheduler: WriteScheduler,
    /** Asked when there is data but no open socket. */
    readonly wantSocket: () => void,
  ) {}

  get queuedMessages(): number {
    return this.#items.length - this.#head + (this.#chunking === null ? 0 : 1);
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Queues `payload`; see {@link SendStatus}. */
  enqueue(payload: Uint8Array, key: string | number | undefined): SendStatus {
    const c = this.config;
    const size = payload.length;
    if (c.monotonic && key !== undefined) {
      const slot = this.#slots?.get(key);
      if (slot !== undefined) {
        this.#bytes += size - slot.payload.length;
        slot.payload = payload;
        return this.#status();
      }
    }
    if (this.#bytes + size > c.maxQueueBytes || this.queuedMessages + 1 > c.maxQueueMessages) {
      if (c.whenFull === 'dropOldest' && size <= c.maxQueueBytes) {
        while (this.#bytes + size > c.maxQueueBytes || this.queuedMessages + 1 > c.maxQueueMessages) {
          if (!this.#dropOldest()) break;
        }
      }
      if (this.#bytes + size > c.maxQueueBytes || this.queuedMessages + 1 > c.maxQueueMessages) {
        this.dropped++;
        return c.whenFull === 'backpressure' ? 'full' : 'dropped';
      }
    }
    // Queued, and flushed in a microtask right after the code that sent it, so that everything sent
    // to this socket in the same task leaves in one frame (one syscall) — except the first
    // message of a turn of the event loop, written at once (see WriteScheduler.writeThrough).
    if (this.queuedMessages === 0) this.#oldestAt = this.clock.now();
    if (c.monotonic && key !== undefined) {
      const slot = new Slot(payload, key);
      (this.#slots ??= new Map()).set(key, slot);
      this.#items.push(slot);
    } else {
      this.#items.push(payload);
    }
    this.#bytes += size;
    if (!this.scheduled && !this.scheduler.writeThrough(this)) this.scheduler.schedule(this);
    return this.#status();
  }

  #status(): SendStatus {
    const c = this.config;
    return this.#bytes * 2 > c.maxQueueBytes || this.queuedMessages * 2 > c.maxQueueMessages ? 'backpressure' : 'sent';
  }

  #dropOldest(): boolean {
    const item = this.#shift();
    if (item === undefined) return false;
    this.#bytes -= payloadOf(item).length;
    this.dropped++;
    return true;
  }

  #shift(): Item | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head] as Item;
    this.#items[this.#head++] = EMPTY;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (item instanceof Slot) this.#slots?.delete(item.key);
    return item;
  }

  /** Resolves when the queue is below half its bounds. */
  whenWritable(): Promise<void> {
    if (this.#status() === 'sent') return Promise.resolve();
    return new Promise((resolve) => this.#writable.push(resolve));
  }

  /**
   * Writes what it can: batches of small messages while the socket's in-flight bytes allow, or
   * one chunk of a large payload (then yields: `more`). `blocked`: no socket, or too much in flight.
   */
  flush(): FlushResult {
    const sink = this.sink;
    if (sink === null) {
      if (this.queuedMessages > 0) this.wantSocket();
      return 'blocked';
    }
    const chunkSize = this.config.chunkSize;
    while (this.#inFlight < IN_FLIGHT_LIMIT) {
      if (this.#chunking !== null) {
        const finished = this.#writeChunk(sink, this.#chunking, chunkSize);
        if (!finished || this.queuedMessages > 0) return 'more';
        break;
      }
      if (this.#head >= this.#items.length) break;
      const first = payloadOf(this.#items[this.#head] as Item);
      if (first.length > chunkSize) {
        this.#shift();
        this.#chunking = { payload: first, offset: 0 };
        continue;
      }
      this.#writeBatch(sink, chunkSize);
    }
    this.#notifyWritable();
    if (this.queuedMessages === 0) return 'idle';
    return this.#inFlight >= IN_FLIGHT_LIMIT ? 'blocked' : 'more';
  }

  #writeBatch(sink: FrameSink, chunkSize: number): void {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    while (this.#head < this.#items.length) {
      const p = payloadOf(this.#items[this.#head] as Item);
      if (p.length > chunkSize) break;
      if (batch.length > 0 && 1 + (batch.length + 1) * PER_MESSAGE_OVERHEAD + bytes + p.length > BATCH_BYTES) break;
      this.#shift();
      batch.push(p);
      bytes += p.length;
    }
    this.#bytes -= bytes;
    const frame = encodeData(batch, batch.length, bytes);
    this.#recordLatency();
    this.messagesOut += batch.length;
    this.bytesOut += bytes;
    this.#send(sink, frame);
  }

  /** Writes the next chunk; returns true when it was the last one. */
  #writeChunk(sink: FrameSink, chunking: { payload: Uint8Array; offset: number }, chunkSize: number): boolean {
    const { payload, offset } = chunking;
    const end = Math.min(payload.length, offset + chunkSize);
    if (offset === 0) this.#recordLatency();
    sink.write(encodeChunkHeader(payload.length, offset), NOOP);
    // The chunk is a view of the caller's payload: no copy (sockets use zero masks).
    this.#send(sink, payload.subarray(offset, end));
    chunking.offset = end;
    if (end === payload.length) {
      this.#chunking = null;
      this.#bytes -= payload.length;
      this.messagesOut++;
      this.bytesOut += payload.length;
      if (this.queuedMessages > 0) this.#oldestAt = this.clock.now();
      return true;
    }
    return false;
  }

  #send(sink: FrameSink, frame: Uint8Array): void {
    const size = frame.length;
    this.#inFlight += size;
    sink.write(frame, () => {
      this.#inFlight -= size;
      if (!this.scheduled && this.queuedMessages > 0) this.scheduler.schedule(this);
    });
  }

  #recordLatency(): void {
    const waited = this.clock.now() - this.#oldestAt;
    this.sendLatencyMs = this.sendLatencyMs === 0 ? waited : this.sendLatencyMs + LATENCY_WEIGHT * (waited - this.sendLatencyMs);
    let bucket = 0;
    while (bucket < SEND_LATENCY_BUCKETS_MS.length && waited > (SEND_LATENCY_BUCKETS_MS[bucket] as number)) bucket++;
    (this.latencyCounts[bucket] as number)++;
    this.latencySumMs += waited;
    this.#oldestAt = this.clock.now();
  }

  #notifyWritable(): void {
    if (this.#writable.length === 0 || this.#status() !== 'sent') return;
    const waiting = this.#writable;
    this.#writable = [];
    for (const resolve of waiting) resolve();
  }

  /** The socket went away: queued messages stay (for the next socket), in-flight ones are lost. */
  detach(): void {
    this.sink = null;
    this.#inFlight = 0;
    if (this.#chunking !== null) {
      // A half-written message cannot resume on another socket: send it again from the start.
      this.#chunking.offset = 0;
    }
  }

  /**
   * The peer refused the message being chunked (larger than its limit): drop it rather than send
   * it again forever. Returns its size, or 0 if no message was being chunked.
   */
  dropCurrent(): number {
    const chunking = this.#chunking;
    if (chunking === null) return 0;
    this.#chunking = null;
    this.#bytes -= chunking.payload.length;
    this.dropped++;
    return chunking.payload.length;
  }

  /** The connection is gone: drop everything and release waiters. Returns how many messages were dropped. */
  discard(): number {
    const n = this.queuedMessages;
    this.dropped += n;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#slots = null;
    this.#chunking = null;
    this.sink = null;
    const waiting = this.#writable;
    this.#writable = [];
    for (const resolve of waiting) resolve();
    return n;
  }
}

const EMPTY = new Uint8Array(0);
const NOOP = (): void => undefined;

function payloadOf(item: Item): Uint8Array {
  return item instanceof Slot ? item.payload : item;
}

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Flushes outboxes in priority order. High and normal priority work runs in a microtask right after
 * the code that queued it (no added latency). Low-priority (bulk) outboxes, and any outbox still in
 * the middle of a large payload, continue only after a `setImmediate`: one chunk per turn of the
 * event loop, so sockets and timers are served between chunks. (Without this, write callbacks
 * would chain chunk after chunk in microtasks for as long as the kernel accepts data.)
 */
export class WriteScheduler {
  readonly #ready: Outbox[][] = [[], [], []];
  #microtask = false;
  #deferred: Outbox[] = [];
  #immediate = false;
  /** Nothing was written through since the event loop last turned (see {@link writeThrough}). */
  #quietTurn = true;

  /**
   * Writes `outbox` at once if it is the first write of this turn of the event loop and nothing
   * else waits to be flushed: a request/reply exchange then pays no microtask before its bytes
   * leave (a round trip is one such turn per side). Later messages of the same turn are batched
   * as before, so a burst costs one extra frame. False: schedule it.
   */
  writeThrough(outbox: Outbox): boolean {
    if (!this.#quietTurn || this.#microtask || outbox.sink === null || outbox.config.priority === 'low') return false;
    this.#quietTurn = false;
    setImmediate(this.#turned);
    if (outbox.flush() === 'more') this.#defer(outbox);
    return true;
  }

  readonly #turned = (): void => {
    this.#quietTurn = true;
  };

  schedule(outbox: Outbox): void {
    if (outbox.scheduled) return;
    if (outbox.config.priority === 'low') {
      this.#defer(outbox);
      return;
    }
    outbox.scheduled = true;
    (this.#ready[RANK[outbox.config.priority]] as Outbox[]).push(outbox);
    if (!this.#microtask) {
      this.#microtask = true;
      queueMicrotask(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#microtask = false;
    for (let rank = 0; rank < this.#ready.length; rank++) {
      const list = this.#ready[rank] as Outbox[];
      if (list.length === 0) continue;
      this.#ready[rank] = [];
      for (const outbox of list) {
        outbox.scheduled = false;
        if (outbox.flush() === 'more') this.#defer(outbox);
      }
    }
  };

  #defer(outbox: Outbox): void {
    outbox.scheduled = true;
    this.#deferred.push(outbox);
    if (!this.#immediate) {
      this.#immediate = true;
      setImmediate(this.#resume);
    }
  }

  readonly #resume = (): void => {
    this.#immediate = false;
    const list = this.#deferred;
    this.#deferred = [];
    for (const outbox of list) {
      outbox.scheduled = false;
      if (outbox.flush() === 'more') this.#defer(outbox);
    }
  };
}
