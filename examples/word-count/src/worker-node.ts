// A worker node of the word count: joins the cluster through the seed given in FDN_NODE, offers
// the word-count worker in its process factory, and tells its parent (over IPC) where it listens.

import { startNode } from '@fdn/distribution';
import { WORKER, worker } from './word-count.ts';

const options = JSON.parse(process.env.FDN_NODE ?? '{}') as { name: string; secret: string; seeds: string[] };
const node = await startNode({ name: options.name, secret: options.secret, seeds: options.seeds });
node.factory.register(WORKER, worker);
process.send?.({ ready: true, address: node.addresses[0] });
process.on('disconnect', () => {
  void node.stop().then(() => process.exit(0));
});
