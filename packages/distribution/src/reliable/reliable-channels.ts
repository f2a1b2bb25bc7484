// At-least-once delivery for channels configured so, made exactly-once-in-order while both nodes
// live: the sender numbers each message per (peer, channel), keeps it until the peer acknowledges
// it, and sends again everything unacknowledged whenever a new connection to the peer comes up; the
// receiver delivers only the next number it expects and drops the rest (duplicates, and anything
// after a gap, which will come again in order). Acknowledgements are cumulative and batched. A
// peer reached without a connection of its own (relayed through a server, or while a connection opens) may
// never bring a new connection up: what it has not acknowledged for `resendAfterMs` goes again too.
//
// The numbering belongs to one start of each node (the incarnations): a restarted sender starts
// afresh. When the peer restarts, what it had not acknowledged is dropped if it was addressed to a
// pid (the pid died with that incarnation) and kept, renumbered in order, if it was addressed to a
// name (a name means whoever holds it now: the new incarnation gets it).
// Partisan's `ack` option resends forever and never deduplicates; this does both ends.

import { Unacked } from './unacked.ts';

/** What the sender keeps per (peer, channel). */
interface Outgoing {
  /** The peer's incarnation when these were sent (a new one drops them). */
  peerIncarnation: number | null;
  next: number;
  /** The unacknowledged encoded messages, in order: the oldest is number `first`, the next `first + 1`… */
  unacked: Unacked;
  first: number;
  /** The seqs addressed to a name (they outlive a restart of the peer). */
  portable: Set<number>;
  /** When the peer last acknowledged something, or this side last sent everything again. */
  progressAt: number;
  /** While resending after silence in batches: the next seq to resend when an ack makes room. */
  resendFrom: number | null;
}

function newOutgoing(peerIncarnation: number | null, now: number): Outgoing {
  return { peerIncarnation, next: 1, unacked: new Unacked(), first: 1, portable: new Set(), progressAt: now, resendFrom: null };
}

/** What the receiver keeps per (peer incarnation, channel). */
interface Incoming {
  incarnation: number;
  /** Highest sequence delivered (all below it were delivered too). */
  delivered: number;
  ackDue: boolean;
}

/** What the at-least-once channels need from their node. */
export interface ReliableHost {
  /** This node's incarnation (stamped on every reliable message). */
  readonly incarnation: number;
  /** The peer's incarnation on its current connection, if there is one. */
  connectionIncarnation(node: string): number | undefined;
  /** Sends message number `seq` (numbered for the peer's `peerIncarnation`) on the peer's connection now (false: no connection). */
  transmit(node: string, channel: string, seq: number, inner: Buffer, peerIncarnation: number | null): boolean;
  /** Sends an ack of every message up to `upTo` from the peer's `incarnation` (false: no connection). */
  transmitAck(node: string, channel: string, incarnation: number, upTo: number): boolean;
  /** Hands an inner message to the node, in order. */
  deliver(node: string, inner: Buffer): void;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
  now(): number;
}

/**
 * [0, channel, senderIncarnation, seq, inner, receiverIncarnation | null] a message (numbered for
 * that receiver incarnation: a restarted receiver ignores frames numbered for its predecessor);
 * [1, channel, senderIncarnationSeen, upTo] an ack.
 */
export type ReliableFrame = [0, string, number, number, Buffer, number | null] | [1, string, number, number];

/** Bounds and timings of the at-least-once store (the node's `reliable` option). */
export interface ReliableOptions {
  /** Unacknowledged messages kept per peer and channel (default 100,000). */
  maxUnacked?: number;
  /** And bytes (default 64 MiB). A send past either answers `full` and is not kept. */
  maxUnackedBytes?: number;
  /** Acknowledgements are batched over this long (default 20 ms). */
  ackDelayMs?: number;
  /** Unacknowledged messages with no acknowledgement for this long are sent again (default 2,000 ms; 0: only on a new connection). */
  resendAfterMs?: number;
}

/** What one channel's at-least-once ends did (counted since the node started). */
export interface ReliableCounters {
  /** Messages sent again (on a new connection, or after silence). */
  resent: number;
  /** Messages received again and dropped (already delivered). */
  duplicatesDropped: number;
  /** Messages received past a gap and dropped (they come again in order). */
  gapsDropped: number;
}

/** A resend after silence sends at most this many of the oldest (the rest follow as acks come). */
const RESEND_BATCH = 1_000;

/** Both ends of every at-least-once channel of a node: numbering, the store, acks, resends and deduplication. */
export class ReliableChannels {
  /** node → channel → what this node sent there (two levels: no key string built per message). */
  readonly #out = new Map<string, Map<string, Outgoing>>();
  readonly #in = new Map<string, Map<string, Incoming>>();
  readonly #maxUnacked: number;
  readonly #maxBytes: number;
  readonly #ackDelayMs: number;
  #ackTimer: unknown = null;
  readonly #resendAfterMs: number;
  #resendTimer: unknown = null;
  /** The node stopped: no more timers (a resend timer rescheduling itself kept a stopped node's process alive). */
  #stopped = false;
  readonly #counters = new Map<string, ReliableCounters>();

  constructor(
    readonly host: ReliableHost,
    options: ReliableOptions = {},
  ) {
    this.#maxUnacked = options.maxUnacked ?? 100_000;
    this.#maxBytes = options.maxUnackedBytes ?? 64 * 2 ** 20;
    this.#ackDelayMs = options.ackDelayMs ?? 20;
    this.#resendAfterMs = options.resendAfterMs ?? 2_000;
  }

  /**
   * Numbers, keeps and (if a connection is up) sends `inner`. `portable`: addressed to a name, so it
   * goes to the peer's next incarnation if this one restarts before acknowledging it.
   */
  send(node: string, channel: string, inner: Buffer, portable = false): 'sent' | 'queued' | 'full' {
    let byChannel = this.#out.get(node);
    if (byChannel === undefined) this.#out.set(node, (byChannel = new Map<string, Outgoing>()));
    let out = byChannel.get(channel);
    const incarnation = this.host.connectionIncarnation(node) ?? null;
    if (out === undefined) {
      out = newOutgoing(incarnation, this.host.now());
      byChannel.set(channel, out);
    } else if (incarnation !== null && out.peerIncarnation !== null && out.peerIncarnation !== incarnation) {
      this.#rebase(out, incarnation);
    }
    out.peerIncarnation ??= incarnation;
    const size = out.unacked.length;
    if (size >= this.#maxUnacked || out.unacked.bytes + inner.length > this.#maxBytes) return 'full';
    const seq = out.next++;
    if (size === 0) {
      out.progressAt = this.host.now();
      out.first = seq;
    }
    out.unacked.push(inner);
    if (portable) out.portable.add(seq);
    if (this.#resendTimer === null) this.#scheduleResend();
    return this.host.transmit(node, channel, seq, inner, out.peerIncarnation) ? 'sent' : 'queued';
  }

  /**
   * A connection to `node` came up: everything unacknowledged goes again, in order. If the peer
   * restarted, what was addressed to its old pids is dropped first, and what was addressed to
   * names is renumbered for the new incarnation.
   */
  connectionUp(node: string, peerIncarnation: number): void {
    for (const [channel, out] of this.#out.get(node) ?? []) {
      if (out.peerIncarnation !== null && out.peerIncarnation !== peerIncarnation) this.#rebase(out, peerIncarnation);
      out.peerIncarnation = peerIncarnation;
      let seq = out.first;
      for (const inner of out.unacked) this.host.transmit(node, channel, seq++, inner, peerIncarnation);
      this.#count(channel).resent += out.unacked.length;
    }
  }

  /** A reliable frame from `node`. */
  receive(node: string, frame: unknown): void {
    if (!Array.isArray(frame) || typeof frame[1] !== 'string' || !Number.isInteger(frame[2]) || !Number.isInteger(frame[3])) return;
    const channel = frame[1];
    if (frame[0] === 1) {
      const out = this.#out.get(node)?.get(channel);
      if (out === undefined || frame[2] !== this.host.incarnation) return;
      if (this.#acknowledge(out, frame[3] as number)) {
        out.progressAt = this.host.now();
        // Resending after silence: the acknowledged batch made room for the next one.
        if (out.resendFrom !== null) this.#resendBatch(node, channel, out);
      }
      return;
    }
    if (frame[0] !== 0 || !(frame[4] instanceof Uint8Array)) return;
    // Numbered for an earlier start of this node (it waited in a queue across our restart): not ours.
    if (typeof frame[5] === 'number' && frame[5] !== this.host.incarnation) return;
    const incarnation = frame[2] as number;
    const seq = frame[3] as number;
    let byChannel = this.#in.get(node);
    if (byChannel === undefined) this.#in.set(node, (byChannel = new Map<string, Incoming>()));
    let state = byChannel.get(channel);
    if (state?.incarnation !== incarnation) {
      // A new start of the sender: its numbering starts again at 1.
      state = { incarnation, delivered: 0, ackDue: false };
      byChannel.set(channel, state);
    }
    if (seq === state.delivered + 1) {
      state.delivered = seq;
      const inner = frame[4];
      this.host.deliver(node, Buffer.isBuffer(inner) ? inner : Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength));
    } else if (seq <= state.delivered) this.#count(channel).duplicatesDropped++;
    else this.#count(channel).gapsDropped++;
    // A duplicate or a message past a gap is not delivered, but the ack tells the sender where we are.
    state.ackDue = true;
    if (this.#ackTimer === null) this.#scheduleAck();
  }

  /** Forgets what the peer acknowledged (every number up to `upTo`); true if that was anything. */
  #acknowledge(out: Outgoing, upTo: number): boolean {
    const n = Math.min(upTo - out.first + 1, out.unacked.length);
    if (n <= 0) return false;
    out.unacked.drop(n);
    if (out.portable.size > 0) for (let seq = out.first; seq < out.first + n; seq++) out.portable.delete(seq);
    out.first += n;
    return true;
  }

  /** The peer restarted as `incarnation`: keep what was addressed to names, in order, numbered from 1. */
  #rebase(out: Outgoing, incarnation: number): void {
    const kept: Buffer[] = [];
    let seq = out.first;
    for (const inner of out.unacked) if (out.portable.has(seq++)) kept.push(inner);
    Object.assign(out, newOutgoing(incarnation, this.host.now()));
    for (const inner of kept) out.unacked.push(inner);
    out.next = kept.length + 1;
    for (let n = 1; n <= kept.length; n++) out.portable.add(n);
  }

  /** The node stopped: timers cleared, none set again. What is unacknowledged stays countable. */
  stop(): void {
    this.#stopped = true;
    for (const timer of [this.#ackTimer, this.#resendTimer]) if (timer !== null) this.host.clearTimer(timer);
    this.#ackTimer = null;
    this.#resendTimer = null;
  }

  /** Unacknowledged messages (for `node`, on `channel`, or all). */
  unacked(node?: string, channel?: string): number {
    let n = 0;
    for (const [k, byChannel] of this.#out) {
      if (node !== undefined && k !== node) continue;
      for (const [c, out] of byChannel) if (channel === undefined || c === channel) n += out.unacked.length;
    }
    return n;
  }

  /** What `channel`'s at-least-once ends did so far (all zero for a channel never used so). */
  counters(channel: string): ReliableCounters {
    return { ...(this.#counters.get(channel) ?? { resent: 0, duplicatesDropped: 0, gapsDropped: 0 }) };
  }

  #count(channel: string): ReliableCounters {
    let c = this.#counters.get(channel);
    if (c === undefined) this.#counters.set(channel, (c = { resent: 0, duplicatesDropped: 0, gapsDropped: 0 }));
    return c;
  }

  /** While anything is unacknowledged, checks every `resendAfterMs` for peers gone silent. */
  #scheduleResend(): void {
    if (this.#resendTimer !== null || this.#resendAfterMs <= 0 || this.#stopped) return;
    this.#resendTimer = this.host.setTimer(this.#resendAfterMs, () => {
      this.#resendTimer = null;
      const now = this.host.now();
      let pending = false;
      for (const [node, byChannel] of this.#out) {
        for (const [channel, out] of byChannel) {
          if (out.unacked.length === 0) continue;
          pending = true;
          if (now - out.progressAt < this.#resendAfterMs) continue;
          out.progressAt = now;
          out.resendFrom = out.first;
          this.#resendBatch(node, channel, out);
        }
      }
      if (pending) this.#scheduleResend();
    });
  }

  /** Resends up to RESEND_BATCH unacknowledged messages from `resendFrom` on; the next ack moves on. */
  #resendBatch(node: string, channel: string, out: Outgoing): void {
    const from = out.resendFrom;
    if (from === null) return;
    const start = Math.max(from, out.first);
    const end = out.first + out.unacked.length;
    const stop = Math.min(end, start + RESEND_BATCH);
    for (let seq = start; seq < stop; seq++) {
      this.host.transmit(node, channel, seq, out.unacked.at(seq - out.first), out.peerIncarnation);
    }
    this.#count(channel).resent += Math.max(0, stop - start);
    out.resendFrom = stop < end ? stop : null;
  }

  #scheduleAck(): void {
    if (this.#ackTimer !== null || this.#stopped) return;
    this.#ackTimer = this.host.setTimer(this.#ackDelayMs, () => {
      this.#ackTimer = null;
      for (const [node, byChannel] of this.#in) {
        for (const [channel, state] of byChannel) {
          if (!state.ackDue) continue;
          if (this.host.transmitAck(node, channel, state.incarnation, state.delivered)) state.ackDue = false;
        }
      }
    });
  }
}
