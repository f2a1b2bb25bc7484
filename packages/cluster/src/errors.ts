// Errors of @fdn/cluster, each with a stable code and a message that says what to do.

import { FdnError } from '@fdn/core';

/** The stable codes of @fdn/cluster's errors (`err.code`). */
export const ClusterErrorCode = {
  /** The cluster configuration is invalid: an unknown strategy or key, a bad value (the message names it). */
  BAD_CONFIG: 'FDN_ERR_CLUSTER_CONFIG',
  /** A discovery source could not be asked (DNS server down, API unreachable, a bad answer): retried with backoff. */
  DISCOVERY_FAILED: 'FDN_ERR_DISCOVERY_FAILED',
  /** The Kubernetes API refused the request (403): the service account lacks the RBAC rule the message names. */
  DISCOVERY_FORBIDDEN: 'FDN_ERR_DISCOVERY_FORBIDDEN',
  /** The Kubernetes API refused the token (401) even after reading it again from its file. */
  DISCOVERY_UNAUTHORIZED: 'FDN_ERR_DISCOVERY_UNAUTHORIZED',
  /** Joining a discovered node failed (it is tried again at the next round). */
  CONNECT_FAILED: 'FDN_ERR_CLUSTER_CONNECT_FAILED',
  /** The topology named does not exist. */
  UNKNOWN_TOPOLOGY: 'FDN_ERR_UNKNOWN_TOPOLOGY',
} as const;

/** One of the {@link ClusterErrorCode} values. */
export type ClusterErrorCodeValue = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** An error of @fdn/cluster: a stable `code` and a message that says what to do. */
export class ClusterError extends FdnError {
  declare readonly code: ClusterErrorCodeValue;
}
