// `fdn topology`: the overlay the cluster runs (epoch, members, neighbours, switch history);
// `fdn topology switch <name>`: a graceful switch of every node, with its verification result.

import type { Command } from 'commander';
import type { SwitchResult } from '@fdn/distribution';
import { ExitCode } from '../../errors.ts';
import { print, table } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

interface Topology {
  topology: string;
  epoch: number;
  members: string[];
  neighbors: string[];
  switchState: string;
  servers: string[];
  history: { time: number; from: string; to: string; reason: string }[];
}

const TOPOLOGIES = ['fullMesh', 'hyparview', 'clientServer', 'static', 'pubSub'];

export const topologyCommand: CommandDefinition = {
  register(program, context) {
    const topology = program
      .command('topology')
      .description('show the overlay: topology, epoch, members, switch history (`topology switch <name>` changes it)')
      .option('--node <name>', 'as this node sees it (default the contact)')
      .action(async (opts: { node?: string }, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const t = await cluster.ask<Topology>('topology', {}, opts.node);
          print(context.io, globals.json, t, () =>
            [
              `topology   ${t.topology} (epoch ${String(t.epoch)}, ${t.switchState})`,
              `members    ${String(t.members.length)}: ${t.members.join(' ')}`,
              `neighbours ${t.neighbors.join(' ') || '-'}`,
              ...(t.servers.length > 0 ? [`servers    ${t.servers.join(' ')}`] : []),
              t.history.length === 0 ? 'no switches asked by this node' : table(t.history, [
                { title: 'WHEN', cell: (h) => new Date(h.time).toISOString() },
                { title: 'FROM', cell: (h) => h.from },
                { title: 'TO', cell: (h) => h.to },
                { title: 'REASON', cell: (h) => h.reason },
              ]),
            ].join('\n'),
          );
          return ExitCode.OK;
        });
      });
    topology
      .command('switch')
      .argument('<name>', TOPOLOGIES.join(' | '))
      .description('switch every node to another overlay, gracefully: verified everywhere, then all cut over or all roll back')
      .action(async (name: string, _opts, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const result = await cluster.ask<SwitchResult>('switch', { to: name, reason: 'fdn topology switch' });
          print(context.io, globals.json, result, () => (result.ok ? `switched from ${result.from} to ${result.to} in ${String(result.ms)} ms; verified: ${JSON.stringify(result.verification)}` : `switch to ${name} failed: ${result.error}: ${result.why}`));
          return result.ok ? ExitCode.OK : ExitCode.FAILED;
        });
      });
  },
};
