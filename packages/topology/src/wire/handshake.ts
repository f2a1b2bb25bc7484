// The handshake every socket runs before any application frame: a version check, then mutual
// proof of the shared secret by HMAC-SHA256 over both nonces and both identities. The secret
// never travels; a recorded handshake cannot be replayed (each side's nonce is fresh).
//
//   dialer → acceptor   hello      { v, name, incarnation, addresses, channel, index, nonce, app? }
//   acceptor → dialer   challenge  { v, name, incarnation, addresses, nonce, proof, app? }
//
// `app` (the application's version) is information, not identity: it is not in the proofs, so
// nodes of this protocol version with and without it still authenticate each other.
//   dialer → acceptor   proof      { proof }
//   acceptor → dialer   welcome    {}
//
// Handshake messages are JSON in text frames; after `welcome` only binary frames are valid.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isValidNodeName } from '../node/identity.ts';
import type { NodeIdentity } from '../node/identity.ts';

/** The protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;
/** Handshake messages larger than this are refused. */
export const MAX_HANDSHAKE_BYTES = 8 * 1024;

export interface Hello {
  t: 'hello';
  v: number;
  name: string;
  incarnation: number;
  addresses: string[];
  channel: string;
  index: number;
  nonce: string;
  app?: string;
}

export interface Challenge {
  t: 'challenge';
  v: number;
  name: string;
  incarnation: number;
  addresses: string[];
  nonce: string;
  proof: string;
  app?: string;
}

export interface Proof {
  t: 'proof';
  proof: string;
}

export interface Welcome {
  t: 'welcome';
}

export type HandshakeMessage = Hello | Challenge | Proof | Welcome;

/** A fresh 128-bit nonce. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Parses a handshake message, checking every field's type; returns a description of the
 * problem instead of throwing (input is untrusted).
 */
export function parseHandshake(text: string): HandshakeMessage | string {
  if (text.length > MAX_HANDSHAKE_BYTES) return `handshake message of ${text.length} bytes exceeds ${MAX_HANDSHAKE_BYTES}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'handshake message is not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'handshake message is not an object';
  const m = value as Record<string, unknown>;
  switch (m.t) {
    case 'hello':
    case 'challenge': {
      if (typeof m.v !== 'number') return 'handshake message lacks a protocol version';
      if (!isValidNodeName(m.name)) return 'handshake message has an invalid node name';
      if (typeof m.incarnation !== 'number' || !Number.isInteger(m.incarnation)) return 'handshake message has an invalid incarnation';
      if (!Array.isArray(m.addresses) || m.addresses.length > 16 || !m.addresses.every((a) => typeof a === 'string' && a.length < 512)) {
        return 'handshake message has invalid addresses';
      }
      if (!isNonce(m.nonce)) return 'handshake message has an invalid nonce';
      if (m.app !== undefined && (typeof m.app !== 'string' || m.app.length === 0 || m.app.length > 64)) return 'handshake message has an invalid application version';
      if (m.t === 'hello') {
        if (typeof m.channel !== 'string' || m.channel.length === 0 || m.channel.length > 64) return 'hello has an invalid channel';
        if (typeof m.index !== 'number' || !Number.isInteger(m.index) || m.index < 0 || m.index > 255) return 'hello has an invalid socket index';
      } else if (!isMac(m.proof)) {
        return 'challenge has an invalid proof';
      }
      return m as unknown as Hello | Challenge;
    }
    case 'proof':
      return isMac(m.proof) ? (m as unknown as Proof) : 'proof message has an invalid proof';
    case 'welcome':
      return { t: 'welcome' };
    default:
      return `unknown handshake message type ${typeof m.t === 'string' ? m.t : typeof m.t}`;
  }
}

function isNonce(x: unknown): x is string {
  return typeof x === 'string' && x.length === 24;
}

function isMac(x: unknown): x is string {
  return typeof x === 'string' && x.length === 44;
}

/** What both proofs cover: both nonces, both identities, and the socket's channel slot. */
function transcript(role: 'acceptor' | 'dialer', hello: Hello, challengeNonce: string, acceptor: Pick<NodeIdentity, 'name' | 'incarnation'>): string {
  return [`fdn/${PROTOCOL_VERSION}`, role, hello.nonce, challengeNonce, hello.name, hello.incarnation, acceptor.name, acceptor.incarnation, hello.channel, hello.index].join('|');
}

/** The acceptor's proof, sent in the challenge. */
export function acceptorProof(secret: Buffer, hello: Hello, challengeNonce: string, acceptor: Pick<NodeIdentity, 'name' | 'incarnation'>): string {
  return createHmac('sha256', secret).update(transcript('acceptor', hello, challengeNonce, acceptor)).digest('base64');
}

/** The dialer's proof, sent after checking the challenge. */
export function dialerProof(secret: Buffer, hello: Hello, challengeNonce: string, acceptor: Pick<NodeIdentity, 'name' | 'incarnation'>): string {
  return createHmac('sha256', secret).update(transcript('dialer', hello, challengeNonce, acceptor)).digest('base64');
}

/** Constant-time comparison of two proofs. */
export function proofsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64');
  const y = Buffer.from(b, 'base64');
  return x.length === y.length && x.length === 32 && timingSafeEqual(x, y);
}

/** The secret as bytes; throws on an empty one. */
export function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length === 0) throw new TypeError('the cluster secret must not be empty');
  return bytes;
}
