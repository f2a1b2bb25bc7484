// Shape checks for protocol messages: every field from a peer is untrusted until checked.

import { isValidNodeName } from '../node/identity.ts';
import type { PeerSpec } from './types.ts';

export function isPeerSpec(x: unknown): x is PeerSpec {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as { name?: unknown; addresses?: unknown };
  return isValidNodeName(s.name) && Array.isArray(s.addresses) && s.addresses.length <= 16 && s.addresses.every((a) => typeof a === 'string' && a.length < 512);
}

export function isPeerSpecList(x: unknown, max: number): x is PeerSpec[] {
  return Array.isArray(x) && x.length <= max && x.every(isPeerSpec);
}

export function isName(x: unknown): x is string {
  return isValidNodeName(x);
}

export function isSmallInt(x: unknown, max = 1_000_000): x is number {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max;
}
