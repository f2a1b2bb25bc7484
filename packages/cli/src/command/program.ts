// The `fdn` command: commander's program with the global options, and each command registered by
// its own module (command/commands/). Exit codes: 0 done, 1 the cluster said no (or a node did not
// answer), 2 wrong usage, 3 could not attach. Errors name their code and what to do.

import { Command, CommanderError } from 'commander';
import { CliError, CliErrorCode, ExitCode } from '../errors.ts';
import { attach } from './attach.ts';
import { COMMANDS } from './commands/index.ts';
import { wholeNumber } from './context.ts';
import type { CommandContext, Globals } from './context.ts';
import type { CommandIo } from './io.ts';

/** What a run of `fdn` ended with: its exit code, and whether something keeps running. */
export interface FdnRun {
  code: number;
  running: boolean;
}

/** Runs `fdn` with `argv` (the arguments after the program's name). */
export async function runFdn(argv: readonly string[], io: CommandIo): Promise<FdnRun> {
  const run: FdnRun = { code: ExitCode.OK, running: false };
  const context: CommandContext = {
    io,
    exit: (code) => {
      run.code = code;
    },
    keepRunning: () => {
      run.running = true;
    },
    async withCluster(cmd, fn) {
      const globals = cmd.optsWithGlobals<Globals>();
      const cluster = await attach(io, { contact: globals.contact, secretFile: globals.secretFile, timeoutMs: globals.timeout });
      try {
        run.code = await fn(cluster, globals);
      } finally {
        await cluster.close();
      }
    },
  };
  const output = {
    writeOut: (s: string): void => {
      io.out(s);
    },
    writeErr: (s: string): void => {
      io.err(s);
    },
  };
  const program = new Command('fdn')
    .description('Start @fdn nodes and look inside a running cluster (attached as a hidden node that takes no work).')
    .option('--contact <address>', 'any node of the cluster (default FDN_CONTACT, else the first of FDN_SEEDS)')
    .option('--secret-file <path>', 'a file holding the cluster secret (default FDN_SECRET, else FDN_SECRET_FILE)')
    .option('--json', 'print JSON instead of tables', false)
    .option('--timeout <ms>', 'how long to wait for the cluster', wholeNumber(100, 600_000), 10_000)
    .showHelpAfterError('(fdn help <command> shows its options)')
    .configureOutput(output)
    .exitOverride();
  for (const command of COMMANDS) command.register(program, context);
  for (const sub of program.commands) sub.exitOverride().configureOutput(output);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    return { code: failure(io, err), running: false };
  }
  return run;
}

/** The exit code of a failure, its message printed with its code. */
function failure(io: CommandIo, err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.OK;
    return ExitCode.USAGE;
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'FDN_ERR_FAILED';
  io.err(`fdn: ${code}: ${typeof e.message === 'string' ? e.message : String(err)}`);
  if (err instanceof CliError && err.code === CliErrorCode.ATTACH_FAILED) return ExitCode.ATTACH;
  if (err instanceof CliError && err.code === CliErrorCode.USAGE) return ExitCode.USAGE;
  return ExitCode.FAILED;
}
