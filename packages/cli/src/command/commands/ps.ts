// `fdn ps`: processes of one node or of all, the largest first by mailbox, memory or reductions.

import { SORT_KEYS } from '@fdn/distribution';
import type { ProcessRow } from '@fdn/distribution';
import { Option } from 'commander';
import type { Command } from 'commander';
import { eachNode, exitCodeOf, noAnswers } from '../attach.ts';
import { bytes, print, table } from '../output.ts';
import { wholeNumber } from '../context.ts';
import type { CommandDefinition } from '../context.ts';

export const psCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('ps')
      .description('list processes (of every node unless --node), the largest first')
      .option('--node <name>', 'only this node')
      .addOption(new Option('--sort <key>', 'sort by').choices(SORT_KEYS).default('mailbox'))
      .option('--top <n>', 'how many to show', wholeNumber(1, 100_000), 20)
      .action(async (opts: { node?: string; sort: (typeof SORT_KEYS)[number]; top: number }, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const nodes = opts.node === undefined ? await cluster.nodes() : [opts.node];
          const answers = await eachNode(nodes, (n) => cluster.ask<{ total: number; processes: ProcessRow[] }>('ps', { sort: opts.sort, top: opts.top }, n));
          const rows = answers.flatMap((a) => a.value?.processes ?? []);
          rows.sort((a, b) => b[opts.sort] - a[opts.sort]);
          const top = rows.slice(0, opts.top);
          const total = answers.reduce((n, a) => n + (a.value?.total ?? 0), 0);
          print(context.io, globals.json, { total, processes: top, errors: answers.filter((a) => a.error !== undefined) }, () =>
            [
              table(top, [
                { title: 'PID', cell: (p) => String(p.pid) },
                { title: 'NAME', cell: (p) => p.name },
                { title: 'BEHAVIOUR', cell: (p) => p.behaviour },
                { title: 'STATUS', cell: (p) => p.status },
                { title: 'MAILBOX', cell: (p) => p.mailbox, right: true },
                { title: 'MEMORY', cell: (p) => bytes(p.memory), right: true },
                { title: 'REDUCTIONS', cell: (p) => p.reductions, right: true },
                { title: 'LINKS', cell: (p) => p.links, right: true },
              ]),
              `${String(top.length)} of ${String(total)} processes on ${String(answers.length - answers.filter((a) => a.error !== undefined).length)} node(s)`,
              ...noAnswers(answers),
            ].join('\n'),
          );
          return exitCodeOf(answers);
        });
      });
  },
};
