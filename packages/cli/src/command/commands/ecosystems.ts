// `fdn ecosystems`: every ecosystem with its coordinator, workers per node, restarts, respawns and scaling.

import type { Command } from 'commander';
import type { EcosystemInfo } from '@fdn/distribution';
import { eachNode, exitCodeOf } from '../attach.ts';
import { print, table } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

interface Answer {
  keepers: (EcosystemInfo | { keeper: unknown; error: string })[];
  hostedSlots: number;
}

export const ecosystemsCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('ecosystems')
      .description('list the ecosystems: coordinator, workers per node, restarts, respawns, scaling')
      .action(async (_opts, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const answers = await eachNode(await cluster.nodes(), (n) => cluster.ask<Answer>('ecosystems', {}, n));
          const ecosystems = answers.flatMap((a) => (a.value?.keepers ?? []).filter((k): k is EcosystemInfo => !('error' in k)).map((k) => ({ keeperNode: a.node, ...k })));
          print(context.io, globals.json, { ecosystems, errors: answers.filter((a) => a.error !== undefined) }, () =>
            ecosystems.length === 0
              ? 'no ecosystems'
              : table(ecosystems, [
                  { title: 'ECOSYSTEM', cell: (e) => e.name },
                  { title: 'COORDINATOR', cell: (e) => `${String(e.coordinator.pid)} on ${e.coordinator.node}` },
                  { title: 'KEEPER ON', cell: (e) => e.keeperNode },
                  { title: 'WORKERS', cell: (e) => Object.entries(e.workersPerNode).map(([n, c]) => `${n}:${String(c)}`).join(' ') },
                  { title: 'RESTARTS', cell: (e) => e.restarts, right: true },
                  { title: 'RESPAWNS', cell: (e) => e.respawns, right: true },
                  { title: 'LAST SCALING', cell: (e) => { const s = e.scaling.at(-1); return s === undefined ? '-' : `${String(s.from)}→${String(s.to)} (${s.reason})`; } },
                ]),
          );
          return exitCodeOf(answers);
        });
      });
  },
};
