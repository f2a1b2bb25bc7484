// `fdn channels`: per channel and peer, messages and bytes each way, queues, drops, send latency, RTT.

import type { Command } from 'commander';
import type { ChannelMetrics } from '@fdn/topology';
import { eachNode, exitCodeOf, noAnswers } from '../attach.ts';
import { bytes, print, table } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

interface Channels {
  peers: { peer: string; rttMs: number | null; channels: Record<string, ChannelMetrics> }[];
}

interface Row {
  node: string;
  peer: string;
  channel: string;
  rttMs: number | null;
  m: ChannelMetrics;
}

export const channelsCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('channels')
      .description('show each channel to each peer: messages and bytes out/in, queued, dropped, latency, RTT')
      .option('--node <name>', 'only this node (default every node)')
      .option('--all', 'include channels that carried nothing', false)
      .action(async (opts: { node?: string; all: boolean }, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const nodes = opts.node === undefined ? await cluster.nodes() : [opts.node];
          const answers = await eachNode(nodes, (n) => cluster.ask<Channels>('channels', {}, n));
          const rows: Row[] = answers.flatMap((a) =>
            (a.value?.peers ?? []).filter((p) => p.peer !== cluster.node.name).flatMap((p) =>
              Object.entries(p.channels)
                .filter(([, m]) => opts.all || m.messagesOut + m.messagesIn > 0)
                .map(([channel, m]) => ({ node: a.node, peer: p.peer, channel, rttMs: p.rttMs, m })),
            ),
          );
          print(context.io, globals.json, answers, () =>
            [
              table(rows, [
                { title: 'NODE', cell: (r) => r.node },
                { title: 'PEER', cell: (r) => r.peer },
                { title: 'CHANNEL', cell: (r) => r.channel },
                { title: 'MSGS OUT', cell: (r) => r.m.messagesOut, right: true },
                { title: 'MSGS IN', cell: (r) => r.m.messagesIn, right: true },
                { title: 'BYTES OUT', cell: (r) => bytes(r.m.bytesOut), right: true },
                { title: 'BYTES IN', cell: (r) => bytes(r.m.bytesIn), right: true },
                { title: 'QUEUED', cell: (r) => r.m.queuedMessages, right: true },
                { title: 'DROPPED', cell: (r) => r.m.dropped, right: true },
                { title: 'LATENCY', cell: (r) => `${r.m.sendLatencyMs.toFixed(2)} ms`, right: true },
                { title: 'RTT', cell: (r) => (r.rttMs === null ? '-' : `${r.rttMs.toFixed(2)} ms`), right: true },
              ]),
              ...noAnswers(answers),
            ].join('\n'),
          );
          return exitCodeOf(answers);
        });
      });
  },
};
