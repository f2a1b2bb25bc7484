// Ecosystems whose keeper runs on this node: workers per node, restarts, respawns, the failover
// lease's epoch; and the worker slots this node hosts. Asked of the node's inspector once per scrape (a call to each keeper).

import { inspect } from '@fdn/distribution';
import type { EcosystemInfo } from '@fdn/distribution';
import { Counter, Gauge } from 'prom-client';
import type { MetricGroup } from './group.ts';

interface Answer {
  keepers: (EcosystemInfo | { error: string })[];
  hostedSlots: number;
}

export const ecosystemMetrics: MetricGroup = {
  name: 'ecosystems',
  register(registry, node) {
    // One question per scrape, shared by the four collectors (they run in one pass).
    let pending: Promise<Answer> | null = null;
    const answer = (): Promise<Answer> => {
      pending ??= inspect<Answer>(node, node.name, 'ecosystems', {}, { timeoutMs: 3_000 })
        .catch((): Answer => ({ keepers: [], hostedSlots: 0 }))
        .finally(() => {
          setImmediate(() => {
            pending = null;
          });
        });
      return pending;
    };
    const keepers = async (): Promise<EcosystemInfo[]> => (await answer()).keepers.filter((k): k is EcosystemInfo => !('error' in k));
    new Gauge({
      name: 'fdn_ecosystem_workers',
      help: 'Workers of an ecosystem whose keeper runs here, by the node they run on.',
      labelNames: ['ecosystem', 'worker_node'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await keepers()) for (const [on, n] of Object.entries(e.workersPerNode)) this.set({ ecosystem: e.name, worker_node: on }, n);
      },
    });
    new Counter({
      name: 'fdn_ecosystem_restarts_total',
      help: 'Worker restarts (by their slot supervisors) of an ecosystem whose keeper runs here.',
      labelNames: ['ecosystem'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await keepers()) if (e.restarts > 0) this.inc({ ecosystem: e.name }, e.restarts);
      },
    });
    new Counter({
      name: 'fdn_ecosystem_respawns_total',
      help: 'Worker slots started again on another node after theirs was lost, for an ecosystem whose keeper runs here.',
      labelNames: ['ecosystem'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await keepers()) if (e.respawns > 0) this.inc({ ecosystem: e.name }, e.respawns);
      },
    });
    new Gauge({
      name: 'fdn_ecosystem_lease_epoch',
      help: "A failover ecosystem's lease epoch on the node that holds it: one more with each election, so changes() over it counts the failovers.",
      labelNames: ['ecosystem'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await keepers()) if (e.leaseEpoch !== null) this.set({ ecosystem: e.name }, e.leaseEpoch);
      },
    });
    new Gauge({
      name: 'fdn_ecosystem_slots_hosted',
      help: 'Ecosystem worker slots (slot supervisors) running on this node, whatever node keeps them.',
      registers: [registry],
      async collect() {
        this.set((await answer()).hostedSlots);
      },
    });
  },
};
