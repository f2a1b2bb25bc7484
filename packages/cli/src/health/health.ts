// Kubernetes probes. `/health` (liveness): the node answers, its runtime runs. `/ready`
// (readiness): started, part of a cluster (connected to another node, or a cluster of its own by
// configuration: no seeds), any extra checks passed (discovery done, say), and not leaving —
// a draining node goes unready so the Service stops sending it work.

import type { Node } from '@fdn/distribution';
import { json } from '../http/route.ts';
import type { Route } from '../http/route.ts';

/** An extra readiness check: a reason the node is not ready yet, or null. */
export type ReadinessCheck = () => string | null;

/** The `/health` and `/ready` routes of `node`. */
export function healthRoutes(node: Node, checks: readonly ReadinessCheck[] = []): Route[] {
  return [
    {
      path: '/health',
      public: true,
      get: () => (node.runtime.stopped ? json(503, { status: 'stopped', node: node.name }) : json(200, { status: 'ok', node: node.name })),
    },
    {
      path: '/ready',
      public: true,
      get: () => {
        const reasons: string[] = [];
        if (node.runtime.stopped) reasons.push('the node is stopped');
        if (node.isLeaving(node.name)) reasons.push('the node is leaving (draining)');
        const status = node.overlay.joinStatus();
        if (node.nodes().length === 0 && (status.seeds > 0 || node.overlay.kind === 'static')) {
          reasons.push(status.lastFailure === null ? 'not joined yet: no seed has answered' : `not joined yet: ${status.lastFailure}`);
        }
        for (const check of checks) {
          const reason = check();
          if (reason !== null) reasons.push(reason);
        }
        return reasons.length === 0 ? json(200, { status: 'ready', node: node.name, nodes: node.nodes().length }) : json(503, { status: 'not ready', node: node.name, reasons });
      },
    },
  ];
}
