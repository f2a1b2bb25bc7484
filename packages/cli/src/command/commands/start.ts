// `fdn start`: a node from a configuration file (the options of `loadNodeConfig`, with profiles),
// discovery from @fdn/cluster (`--cluster` file or FDN_CLUSTER_CONFIG / FDN_DISCOVERY), the
// operations endpoint on request, and the application's module started with the node. SIGTERM and
// SIGINT stop it in order (processes, then leaving the cluster), then it exits 0.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readClusterConfig, startCluster } from '@fdn/cluster';
import { loadNodeConfig, startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { CliError, CliErrorCode } from '../../errors.ts';
import { serveOperations } from '../../operations.ts';
import { wholeNumber } from '../context.ts';
import type { CommandDefinition } from '../context.ts';

interface StartOptions {
  config?: string;
  profile?: string;
  name?: string;
  cluster?: string;
  app?: string;
  operationsPort?: number;
  operationsHost: string;
  observer: boolean;
}

/** Imports the application's module and calls its `start(node)` (or default export) with the node. */
async function startApp(path: string, node: Node): Promise<void> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as { start?: unknown; default?: unknown };
  const start = typeof module.start === 'function' ? module.start : module.default;
  if (typeof start !== 'function') throw new CliError(CliErrorCode.USAGE, `${path} exports no start(node) function (nor a default one)`);
  await (start as (node: Node) => unknown)(node);
}

export const startCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('start')
      .description('start a node from a configuration file; SIGTERM stops it in order')
      .option('--config <file>', 'the node configuration (JSON, as loadNodeConfig reads; default: the environment only)')
      .option('--profile <name>', 'the profile to lay over it (default FDN_PROFILE)')
      .option('--name <name>', "the node's name (overrides the file and FDN_NAME)")
      .option('--cluster <file>', 'discovery: a cluster configuration, ours or libcluster\'s (JSON or YAML; default FDN_CLUSTER_CONFIG / FDN_DISCOVERY)')
      .option('--app <module>', 'an ES module whose start(node) (or default export) runs once the node is up')
      .option('--operations-port <port>', 'serve /metrics, /health and /ready on this port', wholeNumber(0, 65_535))
      .option('--operations-host <host>', 'where the operations endpoint listens (another address than loopback needs FDN_OPERATIONS_TOKEN)', '127.0.0.1')
      .option('--observer', 'serve the observer page at /observer on the operations endpoint (it can kill processes: off by default)', false)
      .action(async (opts: StartOptions) => {
        const io = context.io;
        const options = loadNodeConfig(opts.config ?? {}, { env: io.env, ...(opts.profile === undefined ? {} : { profile: opts.profile }), overrides: opts.name === undefined ? {} : { name: opts.name } });
        const node = await startNode({ ...options, handleSignals: true });
        try {
          await startCluster(node, opts.cluster === undefined ? undefined : readClusterConfig(opts.cluster), { env: io.env });
          let operations = '';
          if (opts.operationsPort !== undefined) {
            const token = io.env.FDN_OPERATIONS_TOKEN;
            const served = await serveOperations(node, { port: opts.operationsPort, host: opts.operationsHost, observer: opts.observer, ...(token === undefined || token === '' ? {} : { token }) });
            operations = `, operations on ${served.url}${opts.observer ? ` (observer: ${served.url}/observer)` : ''}`;
          }
          if (opts.app !== undefined) await startApp(opts.app, node);
          io.out(`fdn: node ${node.name} listening on ${node.addresses.join(' ') || '(no listener)'}${operations}; SIGTERM or Ctrl-C stops it in order`);
          context.keepRunning();
        } catch (err) {
          await node.stop({ timeoutMs: 2_000 });
          throw err;
        }
      });
  },
};
