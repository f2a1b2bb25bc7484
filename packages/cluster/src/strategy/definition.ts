// A strategy as configuration knows it: its names (ours and libcluster's), its options, how
// libcluster's option keys map to ours, and how to make it. Each strategy module exports its
// definition; the configuration reads a list of them, so a strategy of your own plugs in the same way.

import type { Fields } from '../config/fields.ts';
import type { StrategyFactory } from './strategy.ts';

/** How one libcluster key maps: to our key, optionally converting its value. */
export type KeyMapping = string | { key: string; convert: (value: unknown) => unknown };

export interface StrategyDefinition {
  /** Our name (`dnsSrv`): used in `strategy:` and FDN_DISCOVERY. */
  name: string;
  /** libcluster's module names that mean this strategy (`Cluster.Strategy.Kubernetes.DNSSRV`). */
  libcluster: readonly string[];
  /** Our options. */
  fields: Fields;
  /** libcluster's option keys → ours. */
  libclusterKeys: Readonly<Record<string, KeyMapping>>;
  /** Options fixed by the libcluster name (Kubernetes.DNS asks only A records): applied under the given ones. */
  libclusterDefaults?: Readonly<Record<string, Record<string, unknown>>>;
  /** Makes the strategy from checked options. */
  create(options: Record<string, unknown>): StrategyFactory;
}
