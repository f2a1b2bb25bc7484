// The wire form of at-least-once frames: `[Reliable, [0, channel, senderIncarnation, seq, null,
// receiverIncarnation]]` followed by the message's bytes as they were encoded once, or an ack
// `[Reliable, [1, channel, senderIncarnationSeen, upTo]]`. A numbered header differs from the
// previous one to the same peer only in its sequence number, so it is encoded once per (channel,
// receiver incarnation) and only the number is written per message.

import type { Codec } from '../codec/codec.ts';
import { Kind } from './protocol.ts';

/** A numbered header cut around its sequence number. */
interface Template {
  head: Buffer;
  tail: Buffer;
}

/** Encodes the frames of the at-least-once channels of one node (see the file comment). */
export class ReliableFrames {
  /** channel → receiver incarnation (null: not known yet) → the header around the number. */
  readonly #templates = new Map<string, Map<number | null, Template>>();

  constructor(
    private readonly codec: Codec,
    /** This node's incarnation, stamped on every numbered message. */
    private readonly incarnation: number,
  ) {}

  /** Message number `seq` of `channel`, numbered for the receiver's `peerIncarnation`, carrying `inner`. */
  numbered(channel: string, seq: number, inner: Uint8Array, peerIncarnation: number | null): Buffer {
    let byPeer = this.#templates.get(channel);
    if (byPeer === undefined) this.#templates.set(channel, (byPeer = new Map<number | null, Template>()));
    let template = byPeer.get(peerIncarnation);
    if (template === undefined) {
      template = this.#template(channel, peerIncarnation);
      // A peer restarts rarely: keep the templates of its latest incarnations only.
      if (byPeer.size >= 8) byPeer.clear();
      byPeer.set(peerIncarnation, template);
    }
    return this.codec.encodeSpliced(template.head, seq, template.tail, inner);
  }

  /** An acknowledgement of every message up to `upTo` from the sender's `incarnation`. */
  ack(channel: string, incarnation: number, upTo: number): Buffer {
    return this.codec.encode([Kind.Reliable, [1, channel, incarnation, upTo]]);
  }

  #template(channel: string, peerIncarnation: number | null): Template {
    // The whole header with 0 as the number (one byte: a positive fixint), cut where the number
    // sits: the header up to the number has the same length encoded alone (only the inner array's
    // one-byte length differs), so its length says where.
    const whole = Buffer.from(this.codec.encodeAll([[Kind.Reliable, [0, channel, this.incarnation, 0, null, peerIncarnation]]]));
    const before = this.codec.encodeAll([[Kind.Reliable, [0, channel, this.incarnation]]]).length;
    if (whole[before] !== 0x00) throw new Error('at-least-once header: the sequence number is not where expected');
    return { head: whole.subarray(0, before), tail: whole.subarray(before + 1) };
  }
}
