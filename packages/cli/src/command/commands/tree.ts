// `fdn tree`: the supervision trees of one node or of all, drawn as trees.

import type { Command } from 'commander';
import type { TreeNode } from '@fdn/distribution';
import { eachNode, exitCodeOf } from '../attach.ts';
import { print } from '../output.ts';
import type { CommandDefinition } from '../context.ts';

function label(t: TreeNode): string {
  if (t.restarting === true) return `${t.id ?? '?'} (restarting)`;
  const parts = [t.id ?? t.name ?? 'supervisor', String(t.pid)];
  if (t.name !== null && t.id !== null) parts.push(`'${t.name}'`);
  if (t.type === 'supervisor' || t.behaviour === 'Supervisor') parts.push('[supervisor]');
  return parts.join(' ');
}

/** One tree as lines, with ├─ └─ │ guides. */
export function drawTree(root: TreeNode): string[] {
  const lines = [label(root)];
  const walk = (t: TreeNode, prefix: string): void => {
    t.children.forEach((c, i) => {
      const last = i === t.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(c)}`);
      walk(c, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return lines;
}

export const treeCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('tree')
      .description('draw the supervision trees (of every node unless --node)')
      .option('--node <name>', 'only this node')
      .action(async (opts: { node?: string }, cmd: Command) => {
        await context.withCluster(cmd, async (cluster, globals) => {
          const nodes = opts.node === undefined ? await cluster.nodes() : [opts.node];
          const answers = await eachNode(nodes, (n) => cluster.ask<TreeNode[]>('tree', {}, n));
          print(context.io, globals.json, answers, () =>
            answers
              .map((a) => {
                if (a.error !== undefined) return `${a.node}: no answer (${a.error})`;
                const trees = a.value ?? [];
                return [`${a.node}${trees.length === 0 ? ': no supervisors' : ''}`, ...trees.flatMap((t) => drawTree(t).map((l) => `  ${l}`))].join('\n');
              })
              .join('\n\n'),
          );
          return exitCodeOf(answers);
        });
      });
  },
};
