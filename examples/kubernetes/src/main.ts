// The service as it runs in a pod. Everything comes from the environment the Deployment sets:
// FDN_NAME (the pod's name), FDN_SECRET_FILE (a mounted Secret), FDN_LISTEN, FDN_APP_VERSION,
// FDN_CLUSTER_CONFIG (the libcluster-style topologies in a ConfigMap), HEALTH_PORT. SIGTERM (what
// Kubernetes sends before it deletes a pod) stops the node in order: its ecosystem work is handed
// to the other pods, then it exits 0.

import { consoleLogger } from '@fdn/core';
import type { GenServerBehaviour } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import { startCluster, startSplitBrainResolver } from '@fdn/cluster';
import { serveHealth } from './health.ts';

const node = await startNode({ handleSignals: true, logger: consoleLogger({ level: 'info' }) });

/** What the pods do for each other: here, squaring numbers. */
const squarer: GenServerBehaviour<null, undefined, number, number> = {
  init: () => ({ type: 'ok', state: null }),
  handleCall: (n, _from, state) => ({ type: 'reply', reply: n * n, state }),
};
node.factory.register('squarer', squarer);

const cluster = await startCluster(node);
startSplitBrainResolver(node, { strategy: { strategy: 'keepMajority' }, whenDowned: 'exit' });
const alone = cluster.topologies().length === 0;
await serveHealth(node, { ready: () => alone || node.nodes().length > 0 }, Number(process.env.HEALTH_PORT ?? 8080), process.env.HEALTH_HOST ?? '0.0.0.0');
node.logger.info(`${node.name} ${node.appVersion ?? ''} is up at ${String(node.addresses[0])}; health on :${String(process.env.HEALTH_PORT ?? 8080)}`);
