// `fdn nodes`: every node the contact is connected to, each describing itself.

import type { Command } from 'commander';
import type { NodeSummary } from '@fdn/distribution';
import { eachNode, exitCodeOf, noAnswers } from '../attach.ts';
import { bytes, print, table } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

export const nodesCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('nodes')
      .description('list the nodes of the cluster: topology, processes, run queue, memory, uptime')
      .action(async (_opts, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const answers = await eachNode(await cluster.nodes(), (n) => cluster.ask<NodeSummary>('node', {}, n));
          const ok = answers.flatMap((a) => (a.value === undefined ? [] : [a.value]));
          print(context.io, globals.json, answers, () =>
            [
              table(ok, [
                { title: 'NODE', cell: (s) => (s.name === cluster.contact ? `${s.name} *` : s.name) },
                { title: 'TOPOLOGY', cell: (s) => s.topology },
                { title: 'EPOCH', cell: (s) => s.epoch, right: true },
                { title: 'PEERS', cell: (s) => s.nodes.length, right: true },
                { title: 'PROCESSES', cell: (s) => s.processes, right: true },
                { title: 'RUNQ', cell: (s) => s.runQueue, right: true },
                { title: 'RSS', cell: (s) => bytes(s.rssBytes), right: true },
                { title: 'UPTIME', cell: (s) => `${String(s.uptimeSeconds)}s`, right: true },
                { title: 'VERSION', cell: (s) => s.appVersion },
                { title: 'ADDRESS', cell: (s) => s.addresses[0] },
              ]),
              ...noAnswers(answers),
            ].join('\n'),
          );
          return exitCodeOf(answers);
        });
      });
  },
};
