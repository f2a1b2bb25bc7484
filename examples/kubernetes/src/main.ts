// The service as it runs in a pod. Everything comes from the environment the Deployment sets:
// FDN_NAME (the pod's name), FDN_SECRET_FILE (a mounted Secret), FDN_LISTEN, FDN_APP_VERSION,
// FDN_CLUSTER_CONFIG (the libcluster-style topologies in a ConfigMap), OPERATIONS_PORT (probes and
// Prometheus metrics, @fdn/cli), OPERATIONS_TOKEN_FILE (the metrics' bearer token, from the Secret;
// the probes stay open). SIGTERM (what Kubernetes sends before it deletes a pod) stops the node in
// order: it goes unready, its ecosystem work is handed to the other pods, then it exits 0.

import { readFileSync } from 'node:fs';
import { serveOperations } from '@fdn/cli';
import type { GenServerBehaviour } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import { startCluster, startSplitBrainResolver } from '@fdn/cluster';

const node = await startNode({ handleSignals: true, logLevel: 'info' });

/** What the pods do for each other: here, squaring numbers. */
const squarer: GenServerBehaviour<null, undefined, number, number> = {
  init: () => ({ type: 'ok', state: null }),
  handleCall: (n, _from, state) => ({ type: 'reply', reply: n * n, state }),
};
node.factory.register('squarer', squarer);

const cluster = await startCluster(node);
startSplitBrainResolver(node, { strategy: { strategy: 'keepMajority' }, whenDowned: 'exit' });
const alone = cluster.topologies().length === 0;
const tokenFile = process.env.OPERATIONS_TOKEN_FILE;
const ops = await serveOperations(node, {
  host: process.env.OPERATIONS_HOST ?? '0.0.0.0',
  port: Number(process.env.OPERATIONS_PORT ?? 9464),
  ...(tokenFile === undefined ? {} : { token: readFileSync(tokenFile, 'utf8').trim() }),
  // Discovery finds the other pods: ready once connected to one (unless no topology is configured).
  readiness: [() => (alone || node.nodes().length > 0 ? null : 'no other pod connected yet')],
});
node.logger.info(`${node.name} ${node.appVersion ?? ''} is up at ${String(node.addresses[0])}; probes and metrics at ${ops.url}`);
