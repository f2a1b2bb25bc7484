// A gossip announcement on the wire: "FDNG", a version byte, an HMAC-SHA256 of the rest under the
// cluster secret, then JSON `{ n: name, a: addresses, t: wall time, i: nonce, l?: leaving }`.
// Anyone on the network can send UDP: only a node that knows the secret can make a MAC that
// verifies, and a recorded announcement replayed later is refused (too old, or its nonce seen).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const MAGIC = Buffer.from('FDNG');
const VERSION = 1;
const MAC_BYTES = 32;
const HEADER = MAGIC.length + 1 + MAC_BYTES;
/** Bigger than any sane announcement; larger datagrams are dropped unread. */
export const MAX_ANNOUNCEMENT_BYTES = 8_192;

export interface Announcement {
  name: string;
  addresses: string[];
  /** Sender's wall time (ms since the epoch). */
  time: number;
  nonce: string;
  /** The sender is stopping: forget it now rather than when it expires. */
  leaving: boolean;
}

/** Computes an announcement's MAC: HMAC-SHA256 under the cluster secret (`Node.mac`, or `secretMac(secret)`). */
export type Mac = (purpose: string, data: Uint8Array) => Buffer;

/** What an announcement's MAC is for (so it cannot pass for any other MAC under the secret). */
const PURPOSE = 'fdn-gossip-v1';

/** A Mac from a secret given as such (the strategy's own `secret` option, libcluster's). */
export function secretMac(secret: string | Uint8Array): Mac {
  return (purpose, data) => createHmac('sha256', secret).update(purpose).update('\0').update(data).digest();
}

/** The announcement as a datagram, signed with `mac`. */
export function encodeAnnouncement(a: Omit<Announcement, 'nonce'>, mac: Mac): Buffer {
  const body = Buffer.from(JSON.stringify({ n: a.name, a: a.addresses, t: a.time, i: randomBytes(12).toString('base64url'), ...(a.leaving ? { l: 1 } : {}) }));
  const head = Buffer.alloc(HEADER);
  MAGIC.copy(head, 0);
  head[MAGIC.length] = VERSION;
  mac(PURPOSE, body).copy(head, MAGIC.length + 1);
  return Buffer.concat([head, body]);
}

/** Why a datagram was not accepted (for the counters and a debug log; never thrown). */
export type Refusal = 'not_fdn' | 'version' | 'bad_mac' | 'malformed';

/** The announcement in `datagram` if it is one and its MAC verifies, else why not. */
export function decodeAnnouncement(datagram: Buffer, mac: Mac): Announcement | Refusal {
  if (datagram.length < HEADER + 2 || datagram.length > MAX_ANNOUNCEMENT_BYTES || !datagram.subarray(0, MAGIC.length).equals(MAGIC)) return 'not_fdn';
  if (datagram[MAGIC.length] !== VERSION) return 'version';
  const body = datagram.subarray(HEADER);
  if (!timingSafeEqual(mac(PURPOSE, body), datagram.subarray(MAGIC.length + 1, HEADER))) return 'bad_mac';
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'malformed';
  }
  const o = json as { n?: unknown; a?: unknown; t?: unknown; i?: unknown; l?: unknown };
  if (typeof o.n !== 'string' || !Array.isArray(o.a) || !o.a.every((x) => typeof x === 'string') || typeof o.t !== 'number' || typeof o.i !== 'string') return 'malformed';
  return { name: o.n, addresses: o.a, time: o.t, nonce: o.i, leaving: o.l === 1 };
}

/**
 * Refuses replays: an announcement older (or further in the future) than `windowMs` by the
 * receiver's clock, or whose nonce was seen within the window. Bounded: nonces are forgotten once
 * outside the window, and at most `maxNonces` are kept (the oldest go first).
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxNonces = 10_000,
  ) {}

  /** True if the announcement is fresh (and remembers its nonce). */
  accept(a: Announcement, now: number): boolean {
    if (Math.abs(now - a.time) > this.windowMs) return false;
    if (this.#seen.has(a.nonce)) return false;
    this.#forgetBefore(now - this.windowMs);
    if (this.#seen.size >= this.maxNonces) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(a.nonce, a.time);
    return true;
  }

  #forgetBefore(cutoff: number): void {
    // Insertion order is roughly time order: stop at the first one still inside the window.
    for (const [nonce, time] of this.#seen) {
      if (time >= cutoff) break;
      this.#seen.delete(nonce);
    }
  }
}
