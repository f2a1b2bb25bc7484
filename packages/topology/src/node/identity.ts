// Who a node is: its name, the incarnation of this start, and where it can be reached.

/** A node as its peers know it. */
export interface NodeIdentity {
  /** Unique in the cluster (a restarted node keeps its name and gets a new incarnation). */
  readonly name: string;
  /** Identifies this start of the node; pids and refs carry it. */
  readonly incarnation: number;
  /** Addresses peers dial (`ws://host:port`, `wss://host:port`); empty for a node that only dials. */
  readonly addresses: readonly string[];
  /** The application's version this node runs (`2.4.1`), when it says: a rolling upgrade prefers the newest. */
  readonly appVersion?: string;
}

const NAME = /^[A-Za-z0-9_.@:-]{1,255}$/;

/** True for names made of letters, digits and `_ . @ : -` (1–255 characters). */
export function isValidNodeName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** An address given as a URL string or host/port. */
export type Address = string | { host: string; port: number; tls?: boolean };

/** Normalises an address to `ws[s]://host:port`. */
export function addressToUrl(address: Address): string {
  if (typeof address === 'string') {
    const url = new URL(address);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`an address must be ws:// or wss://, got ${address}`);
    return `${url.protocol}//${url.host}`;
  }
  const host = address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host;
  return `${address.tls === true ? 'wss' : 'ws'}://${host}:${address.port}`;
}
