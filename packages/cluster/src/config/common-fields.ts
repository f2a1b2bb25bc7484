// Option fields several strategies share.

import type { Fields } from './fields.ts';

export const POLLING_FIELDS: Fields = {
  pollingIntervalMs: { type: 'number', doc: 'between two looks at the source, ms (default 5000)' },
  maxBackoffMs: { type: 'number', doc: 'longest wait between retries after failures, ms (default 30000)' },
};

export const SCHEME_FIELD: Fields = {
  scheme: { type: ['ws', 'wss'], doc: "'wss' when the nodes use TLS (default 'ws')" },
};

/** libcluster's polling interval (its DNSPoll docs say `poll_interval`, its code reads `polling_interval`: both are accepted). */
export const POLLING_KEYS = { polling_interval: 'pollingIntervalMs', poll_interval: 'pollingIntervalMs' } as const;
