// Kubernetes probes over HTTP: `/health/live` answers 200 while the node runs (a hung event loop
// fails it: the kubelet restarts the pod), `/health/ready` answers 200 once the node is in a
// cluster (or alone on purpose) and 503 while it stops, so a rolling update waits for it and no
// Service sends it traffic while it hands its work off.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Node } from '@fdn/distribution';

export interface Health {
  /** Whether the node counts as ready: it joined, or it is alone by design. */
  ready(): boolean;
}

export function serveHealth(node: Node, health: Health, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.url === '/health/live' ? true : req.url === '/health/ready' ? health.ready() && !node.isLeaving(node.name) : null;
    if (ok === null) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ node: node.name, ok, nodes: node.nodes().length }));
  });
  return new Promise((resolve) => server.listen(port, host, () => { resolve(server); }));
}
