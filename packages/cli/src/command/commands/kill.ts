// `fdn kill <pid>`: an exit signal (default `kill`, which even a process trapping exits cannot stop) to a process anywhere in the cluster.

import type { Command } from 'commander';
import { CliError, CliErrorCode, ExitCode } from '../../errors.ts';
import { print } from '../output.ts';
import type { CommandDefinition } from '../context.ts';
import { nodeOfPid } from './info.ts';

export const killCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('kill')
      .argument('<pid>', 'the process (<node.id.incarnation>)')
      .option('--reason <reason>', 'the exit reason (default kill; `shutdown` asks a trapping process to stop)', 'kill')
      .description('send an exit signal to a process (its supervisor restarts it, as in OTP)')
      .action(async (pid: string, opts: { reason: string }, cmd: Command) => {
        const node = nodeOfPid(pid);
        if (node === undefined) throw new CliError(CliErrorCode.USAGE, `'${pid}' is not a pid: pids print as <node.id.incarnation> (see \`fdn ps\`)`);
        await context.withCluster(cmd, async (cluster, globals) => {
          const done = await cluster.ask('kill', { pid, reason: opts.reason }, node);
          print(context.io, globals.json, done, () => `sent exit(${opts.reason}) to ${pid}`);
          return ExitCode.OK;
        });
      });
  },
};
