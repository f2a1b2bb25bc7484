// Peer sets: normalised (sorted by address, one entry per address, this node left out) so that
// strategies compare and report them the same way.

import type { Peer } from './strategy.ts';

/** `peers` sorted by address with duplicates and this node's own addresses and name removed. */
export function normalisePeers(peers: Iterable<Peer>, self: { name: string; addresses: readonly string[] }): Peer[] {
  const own = new Set(self.addresses);
  const byAddress = new Map<string, Peer>();
  for (const peer of peers) {
    if (own.has(peer.address) || peer.name === self.name) continue;
    const known = byAddress.get(peer.address);
    // A named entry is worth more than an anonymous one for the same address.
    if (known === undefined || (known.name === undefined && peer.name !== undefined)) byAddress.set(peer.address, peer.name === undefined ? { address: peer.address } : { address: peer.address, name: peer.name });
  }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** True when two normalised peer sets are the same. */
export function samePeers(a: readonly Peer[], b: readonly Peer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] as Peer;
    const q = b[i] as Peer;
    if (p.address !== q.address || p.name !== q.name) return false;
  }
  return true;
}

/** The address of a node at `host:port` (`ws://10.0.0.5:4370`, `ws://[fd00::5]:4370`). */
export function nodeAddress(host: string, port: number, scheme: 'ws' | 'wss' = 'ws'): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${bracketed}:${String(port)}`;
}
