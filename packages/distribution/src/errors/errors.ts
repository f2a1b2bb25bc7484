// Errors of @fdn/distribution, each with a stable code.

import { FdnError } from '@fdn/core';

/** The stable codes of @fdn/distribution's errors (`err.code`). */
export const DistributionErrorCode = {
  /** A message (or spawn argument) cannot be encoded: a function, a symbol, … (raised in the sender). */
  ENCODE_FAILED: 'FDN_ERR_ENCODE_FAILED',
  /** A frame from a peer could not be decoded (the frame is dropped and logged; the node keeps running). */
  DECODE_FAILED: 'FDN_ERR_DECODE_FAILED',
  /** The node is not connected (or was lost). */
  NOCONNECTION: 'FDN_ERR_NOCONNECTION',
  /** The target node has no behaviour registered under that name in its process factory. */
  UNKNOWN_BEHAVIOUR: 'FDN_ERR_UNKNOWN_BEHAVIOUR',
  /** The target node's factory refused or failed to start the process. */
  SPAWN_FAILED: 'FDN_ERR_SPAWN_FAILED',
  /** A spawn past one of the node's limits (processes, a behaviour's processes, a peer's rate); nothing started. */
  SPAWN_REFUSED: 'FDN_ERR_SPAWN_REFUSED',
  /** No answer to a remote spawn within its timeout. */
  SPAWN_TIMEOUT: 'FDN_ERR_SPAWN_TIMEOUT',
  /** The node configuration is invalid. */
  BAD_CONFIG: 'FDN_ERR_BAD_CONFIG',
  /** A write from a coordinator whose lease is older than the stored one (fencing). */
  FENCED: 'FDN_ERR_FENCED',
  /** An argument is not what the function takes (the message says what it takes). */
  BAD_ARGUMENT: 'FDN_ERR_BAD_ARGUMENT',
  /** A global registration got no answer from a connected node in time (try again). */
  REGISTRY_TIMEOUT: 'FDN_ERR_REGISTRY_TIMEOUT',
  /** A send to a global name nobody holds (Erlang's badarg from `global:send`). */
  NOT_REGISTERED: 'FDN_ERR_NOT_REGISTERED',
  /** The node did not join the cluster in time (`node.joined()`): the message says what the seeds answered. */
  NOT_JOINED: 'FDN_ERR_NOT_JOINED',
  /** The node could not listen where it was told to (the port is taken, or the address is not this machine's). */
  LISTEN_FAILED: 'FDN_ERR_LISTEN_FAILED',
  /** The node was stopped. */
  STOPPED: 'FDN_ERR_NODE_STOPPED',
} as const;

/** One of the {@link DistributionErrorCode} values. */
export type DistributionErrorCodeValue = (typeof DistributionErrorCode)[keyof typeof DistributionErrorCode];

/** An error of @fdn/distribution: a stable `code` and a message that says what to do. */
export class DistributionError extends FdnError {
  declare readonly code: DistributionErrorCodeValue;
}
