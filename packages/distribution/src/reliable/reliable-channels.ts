// At-least-once delivery for channels configured so, made exactly-once-in-order while both nodes
// live: the sender numbers each message per (peer, channel), keeps it until the peer acknowledges
// it, and sends again everything unacknowledged whenever a new link to the peer comes up; the
// receiver delivers only the next number it expects and drops the rest (duplicates, and anything
// after a gap, which will come again in order). Acknowledgements are cumulative and batched. A
// peer reached without a link of its own (relayed through a server, or while a link opens) may
// never bring a new link up: what it has not acknowledged for `resendAfterMs` goes again too.
//
// The numbering belongs to one start of each node (the incarnations): a restarted sender starts
// afresh. When the peer restarts, what it had not acknowledged is dropped if it was addressed to a
// pid (the pid died with that incarnation) and kept, renumbered in order, if it was addressed to a
// name (a name means whoever holds it now: the new incarnation gets it).
// Partisan's `ack` option resends forever and never deduplicates; this does both ends.

/** What the sender keeps per (peer, channel). */
interface Outgoing {
  /** The peer's incarnation when these were sent (a new one drops them). */
  peerIncarnation: number | null;
  next: number;
  /** seq → encoded inner message, in order. */
  unacked: Map<number, Buffer>;
  /** The seqs addressed to a name (they outlive a restart of the peer). */
  portable: Set<number>;
  bytes: number;
  /** When the peer last acknowledged something, or this side last sent everything again. */
  progressAt: number;
  /** While resending after silence in batches: the next seq to resend when an ack makes room. */
  resendFrom: number | null;
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
  /** The peer's incarnation on its current link, if there is one. */
  linkIncarnation(node: string): number | undefined;
  /** Sends a wrapped message or an ack on the peer's link now (false: no link). */
  transmit(node: string, channel: string, frame: ReliableFrame): boolean;
  /** Hands an inner message to the node, in order. */
  deliver(node: string, inner: Buffer): void;
  setTimer(ms: number, fn: () => void): unknown;
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
  /** Unacknowledged messages with no acknowledgement for this long are sent again (default 2,000 ms; 0: only on a new link). */
  resendAfterMs?: number;
}

/** What one channel's at-least-once ends did (counted since the node started). */
export interface ReliableCounters {
  /** Messages sent again (on a new link, or after silence). */
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
  readonly #out = new Map<string, Outgoing>();
  readonly #in = new Map<string, Incoming>();
  readonly #maxUnacked: number;
  readonly #maxBytes: number;
  readonly #ackDelayMs: number;
  #ackTimer: unknown = null;
  readonly #resendAfterMs: number;
  #resendTimer: unknown = null;
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
   * Numbers, keeps and (if a link is up) sends `inner`. `portable`: addressed to a name, so it
   * goes to the peer's next incarnation if this one restarts before acknowledging it.
   */
  send(node: string, channel: string, inner: Buffer, portable = false): 'sent' | 'queued' | 'full' {
    const key = `${node}\u0000${channel}`;
    let out = this.#out.get(key);
    const incarnation = this.host.linkIncarnation(node) ?? null;
    if (out === undefined) {
      out = { peerIncarnation: incarnation, next: 1, unacked: new Map(), portable: new Set(), bytes: 0, progressAt: this.host.now(), resendFrom: null };
      this.#out.set(key, out);
    } else if (incarnation !== null && out.peerIncarnation !== null && out.peerIncarnation !== incarnation) {
      this.#rebase(out, incarnation);
    }
    out.peerIncarnation ??= incarnation;
    if (out.unacked.size >= this.#maxUnacked || out.bytes + inner.length > this.#maxBytes) return 'full';
    const seq = out.next++;
    if (out.unacked.size === 0) out.progressAt = this.host.now();
    out.unacked.set(seq, inner);
    if (portable) out.portable.add(seq);
    this.#scheduleResend();
    out.bytes += inner.length;
    return this.host.transmit(node, channel, [0, channel, this.host.incarnation, seq, inner, out.peerIncarnation]) ? 'sent' : 'queued';
  }

  /**
   * A link to `node` came up: everything unacknowledged goes again, in order. If the peer
   * restarted, what was addressed to its old pids is dropped first, and what was addressed to
   * names is renumbered for the new incarnation.
   */
  linkUp(node: string, peerIncarnation: number): void {
    for (const [key, out] of this.#out) {
      if (!key.startsWith(`${node}\u0000`)) continue;
      if (out.peerIncarnation !== null && out.peerIncarnation !== peerIncarnation) this.#rebase(out, peerIncarnation);
      out.peerIncarnation = peerIncarnation;
      const channel = key.slice(node.length + 1);
      for (const [seq, inner] of out.unacked) this.host.transmit(node, channel, [0, channel, this.host.incarnation, seq, inner, peerIncarnation]);
      this.#count(channel).resent += out.unacked.size;
    }
  }

  /** A reliable frame from `node`. */
  receive(node: string, frame: unknown): void {
    if (!Array.isArray(frame) || typeof frame[1] !== 'string' || !Number.isInteger(frame[2]) || !Number.isInteger(frame[3])) return;
    const channel = frame[1];
    if (frame[0] === 1) {
      const out = this.#out.get(`${node}\u0000${channel}`);
      if (out === undefined || frame[2] !== this.host.incarnation) return;
      const upTo = frame[3] as number;
      const before = out.unacked.size;
      for (const [seq, inner] of out.unacked) {
        if (seq > upTo) break;
        out.unacked.delete(seq);
        out.portable.delete(seq);
        out.bytes -= inner.length;
      }
      if (out.unacked.size < before) {
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
    const key = `${node}\u0000${channel}`;
    let state = this.#in.get(key);
    if (state?.incarnation !== incarnation) {
      // A new start of the sender: its numbering starts again at 1.
      state = { incarnation, delivered: 0, ackDue: false };
      this.#in.set(key, state);
    }
    if (seq === state.delivered + 1) {
      state.delivered = seq;
      this.host.deliver(node, Buffer.from(frame[4].buffer, frame[4].byteOffset, frame[4].byteLength));
    } else if (seq <= state.delivered) this.#count(channel).duplicatesDropped++;
    else this.#count(channel).gapsDropped++;
    // A duplicate or a message past a gap is not delivered, but the ack tells the sender where we are.
    state.ackDue = true;
    this.#scheduleAck();
  }

  /** The peer restarted as `incarnation`: keep what was addressed to names, in order, numbered from 1. */
  #rebase(out: Outgoing, incarnation: number): void {
    const kept: Buffer[] = [];
    for (const [seq, inner] of out.unacked) if (out.portable.has(seq)) kept.push(inner);
    out.peerIncarnation = incarnation;
    out.unacked = new Map();
    out.portable = new Set();
    out.bytes = 0;
    out.next = 1;
    out.resendFrom = null;
    for (const inner of kept) {
      const seq = out.next++;
      out.unacked.set(seq, inner);
      out.portable.add(seq);
      out.bytes += inner.length;
    }
    out.progressAt = this.host.now();
  }

  /** Unacknowledged messages (for `node`, on `channel`, or all). */
  unacked(node?: string, channel?: string): number {
    let n = 0;
    for (const [key, out] of this.#out) {
      const [k, c] = key.split('\u0000') as [string, string];
      if ((node === undefined || k === node) && (channel === undefined || c === channel)) n += out.unacked.size;
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
    if (this.#resendTimer !== null || this.#resendAfterMs <= 0) return;
    this.#resendTimer = this.host.setTimer(this.#resendAfterMs, () => {
      this.#resendTimer = null;
      const now = this.host.now();
      let pending = false;
      for (const [key, out] of this.#out) {
        if (out.unacked.size === 0) continue;
        pending = true;
        if (now - out.progressAt < this.#resendAfterMs) continue;
        out.progressAt = now;
        const node = key.slice(0, key.indexOf('\u0000'));
        out.resendFrom = out.unacked.keys().next().value ?? null;
        this.#resendBatch(node, key.slice(node.length + 1), out);
      }
      if (pending) this.#scheduleResend();
    });
  }

  /** Resends up to RESEND_BATCH unacknowledged messages from `resendFrom` on; the next ack moves on. */
  #resendBatch(node: string, channel: string, out: Outgoing): void {
    const from = out.resendFrom;
    if (from === null) return;
    let n = 0;
    let next: number | null = null;
    for (const [seq, inner] of out.unacked) {
      if (seq < from) continue;
      if (n++ >= RESEND_BATCH) {
        next = seq;
        break;
      }
      this.host.transmit(node, channel, [0, channel, this.host.incarnation, seq, inner, out.peerIncarnation]);
    }
    this.#count(channel).resent += Math.min(n, RESEND_BATCH);
    out.resendFrom = next;
  }

  #scheduleAck(): void {
    if (this.#ackTimer !== null) return;
    this.#ackTimer = this.host.setTimer(this.#ackDelayMs, () => {
      this.#ackTimer = null;
      for (const [key, state] of this.#in) {
        if (!state.ackDue) continue;
        const [node, channel] = key.split('\u0000') as [string, string];
        if (this.host.transmit(node, channel, [1, channel, state.incarnation, state.delivered])) state.ackDue = false;
      }
    });
  }
}
