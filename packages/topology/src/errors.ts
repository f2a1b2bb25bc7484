// Errors and WebSocket close codes of @fdn/topology. A refused or broken connection always carries one
// of these codes, so the other side (and the logs) can say exactly why.

import { FdnError } from '@fdn/core';

/** Close codes on the wire (RFC 6455 application range 4000–4999). */
export const CloseCode = {
  NORMAL: 1000,
  /** A malformed, truncated or unexpected frame. */
  PROTOCOL_ERROR: 4000,
  /** The peers speak different protocol versions. */
  VERSION_MISMATCH: 4001,
  /** The challenge was answered wrongly: the peers do not share the cluster secret. */
  AUTH_FAILED: 4002,
  /** Another live node already uses this name (with another incarnation). */
  DUPLICATE_NAME: 4003,
  /** The handshake did not finish in time. */
  HANDSHAKE_TIMEOUT: 4004,
  /** A message exceeded the configured maximum size. */
  MESSAGE_TOO_LARGE: 4005,
  /** A socket asked for a channel this node does not have. */
  UNKNOWN_CHANNEL: 4006,
  /** A binary frame arrived before the handshake completed. */
  NOT_AUTHENTICATED: 4007,
  /** Both nodes dialled at once; this socket lost to the one dialled by the smaller name. */
  CROSSED: 4008,
  /** The same node connected again; this older socket is replaced. */
  REPLACED: 4009,
  /** The node is shutting down. */
  SHUTDOWN: 4010,
  /** A channel socket arrived for a connection that does not exist. */
  NO_CONNECTION: 4011,
  /** The dialled address answered with another node than the one expected. */
  WRONG_NODE: 4012,
  /** Nothing arrived from the peer within the idle timeout. */
  IDLE_TIMEOUT: 4013,
  /** The connection was closed on purpose by this node (connection.close()). */
  CLOSED_BY_PEER: 4014,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** The name of a close code, for logs and connection-down reasons. */
export function closeCodeName(code: number): string {
  for (const [name, value] of Object.entries(CloseCode)) if (value === code) return name;
  if (code === 1006) return 'ABNORMAL_CLOSURE';
  if (code === 1009) return 'MESSAGE_TOO_BIG';
  if (code === 1001) return 'GOING_AWAY';
  return `CODE_${code}`;
}

/** Stable error codes of @fdn/topology. */
export const TopologyErrorCode = {
  BAD_CONFIG: 'FDN_ERR_BAD_CONFIG',
  NOT_STARTED: 'FDN_ERR_NOT_STARTED',
  STOPPED: 'FDN_ERR_STOPPED',
  CONNECT_FAILED: 'FDN_ERR_CONNECT_FAILED',
  CONNECTION_REFUSED: 'FDN_ERR_CONNECTION_REFUSED',
  CONNECTION_DOWN: 'FDN_ERR_CONNECTION_DOWN',
  UNKNOWN_CHANNEL: 'FDN_ERR_UNKNOWN_CHANNEL',
  MESSAGE_TOO_LARGE: 'FDN_ERR_MESSAGE_TOO_LARGE',
  /** The node cannot listen where it was told to (port in use, an address not this machine's…). */
  LISTEN_FAILED: 'FDN_ERR_LISTEN_FAILED',
  /** A join reached its contact but the overlay gave this node no neighbour in time. */
  JOIN_TIMEOUT: 'FDN_ERR_JOIN_TIMEOUT',
} as const;

export type TopologyErrorCodeValue = (typeof TopologyErrorCode)[keyof typeof TopologyErrorCode];

/** An error of @fdn/topology; `closeCode` is set when a peer or this node closed a socket with one. */
export class TopologyError extends FdnError {
  readonly closeCode: number | undefined;

  constructor(code: TopologyErrorCodeValue, message: string, options?: { closeCode?: number; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.closeCode = options?.closeCode;
  }
}
