// `fdn info <pid|name>`: one process in detail (links, monitors, its state as its behaviour formats it).

import type { Command } from 'commander';
import type { ProcessInfo } from '@fdn/actors';
import { CliError, CliErrorCode, ExitCode } from '../../errors.ts';
import { eachNode } from '../attach.ts';
import { print } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

/** The node a printed pid lives on (`<node.id.incarnation>`), or undefined for a name. */
export function nodeOfPid(text: string): string | undefined {
  return /^<(.+)\.\d+\.\d+>$/.exec(text.trim())?.[1];
}

type Detail = ProcessInfo & { state: string | null };

function render(d: Detail): string {
  const list = (xs: readonly unknown[]): string => (xs.length === 0 ? '-' : xs.map(String).join(' '));
  return [
    `pid          ${String(d.pid)}`,
    `name         ${d.registeredName ?? '-'}`,
    `behaviour    ${d.behaviour ?? '-'}`,
    `status       ${d.status}`,
    `mailbox      ${String(d.messageQueueLen)}${d.maxMailbox === undefined ? '' : ` (bound ${String(d.maxMailbox)}, dropped ${String(d.dropped)})`}`,
    `reductions   ${String(d.reductions)}`,
    `memory       ${String(d.memory)} bytes (estimate)`,
    `parent       ${d.parent === undefined ? '-' : String(d.parent)}`,
    `links        ${list(d.links)}`,
    `monitors     ${list(d.monitors.map((m) => m.pid))}`,
    `monitored by ${list(d.monitoredBy)}`,
    `trap exit    ${String(d.trapExit)}`,
    `groups       ${list(d.groups)}`,
    `state        ${d.state ?? '-'}`,
    `last message ${typeof d.details?.lastMessage === 'string' ? d.details.lastMessage : '-'}`,
  ].join('\n');
}

export const infoCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('info')
      .argument('<process>', 'a pid (<node.id.incarnation>) or a registered name')
      .option('--node <name>', 'the node a name is registered on (default: look on every node)')
      .description('show one process: status, mailbox, links, monitors, state')
      .action(async (target: string, opts: { node?: string }, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const pidNode = nodeOfPid(target);
          let detail: Detail | undefined;
          if (pidNode !== undefined) detail = await cluster.ask<Detail>('info', { pid: target }, pidNode);
          else {
            const nodes = opts.node === undefined ? await cluster.nodes() : [opts.node];
            const found = await eachNode(nodes, (n) => cluster.ask<Detail>('info', { name: target }, n));
            detail = found.find((f) => f.value !== undefined)?.value;
            if (detail === undefined) throw new CliError(CliErrorCode.USAGE, `no process is registered as '${target}' on ${nodes.join(', ')}: \`fdn ps\` lists the processes`);
          }
          print(context.io, globals.json, detail, () => render(detail));
          return ExitCode.OK;
        });
      });
  },
};
