// The inspector's `ecosystems` op: the ecosystems whose keeper runs on this node (coordinator,
// workers per node, restarts, respawns, scaling), and how many worker slots this node hosts.

import { GenServer } from '@fdn/actors';
import type { Pid } from '@fdn/actors';
import type { InspectOp } from '../inspect/op.ts';
import type { EcosystemInfo } from './spec.ts';

/** Answers `{ keepers: EcosystemInfo[], hostedSlots }`; a keeper that does not answer within 2 s is listed with its error. */
export function ecosystemsOp(keepers: Set<Pid>, hostedSlots: () => number): InspectOp {
  return async (node, _args, ctx) => {
    const out: (EcosystemInfo | { keeper: Pid; error: string })[] = [];
    for (const keeper of [...keepers]) {
      if (!node.runtime.isAlive(keeper)) {
        keepers.delete(keeper);
        continue;
      }
      try {
        out.push(await GenServer.call<EcosystemInfo>(ctx, keeper, 'info', 2_000));
      } catch (err) {
        out.push({ keeper, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return { keepers: out, hostedSlots: hostedSlots() };
  };
}
