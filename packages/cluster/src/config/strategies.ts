// The strategies a configuration can name unless told otherwise.

import { dnsPollDefinition, dnsSrvDefinition } from '../strategies/dns.ts';
import { gossipDefinition } from '../strategies/gossip/gossip.ts';
import { kubernetesDefinition } from '../strategies/kubernetes/kubernetes.ts';
import { staticDefinition } from '../strategies/static.ts';
import type { StrategyDefinition } from '../strategy/definition.ts';

/** `static`, `gossip`, `dnsPoll`, `dnsSrv`, `kubernetes` (and their libcluster names). Add yours: `[...BUILT_IN_STRATEGIES, mine]`. */
export const BUILT_IN_STRATEGIES: readonly StrategyDefinition[] = [staticDefinition, gossipDefinition, dnsPollDefinition, dnsSrvDefinition, kubernetesDefinition];
