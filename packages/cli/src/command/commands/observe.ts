// `fdn observe`: attaches as a hidden node and serves the observer page on loopback (or, with
// FDN_OPERATIONS_TOKEN, elsewhere), until Ctrl-C or SIGTERM.

import type { Command } from 'commander';
import { CliError, CliErrorCode } from '../../errors.ts';
import { startHttp } from '../../http/server.ts';
import { observerRoutes } from '../../observer/routes.ts';
import { attach } from '../attach.ts';
import type { CommandDefinition, Globals } from '../context.ts';
import { wholeNumber } from '../context.ts';

export const observeCommand: CommandDefinition = {
  register(program, context) {
    program
      .command('observe')
      .description('serve the observer page (processes, supervision trees, cluster graph, channels, topology, ecosystems) until Ctrl-C')
      .option('--port <port>', 'where the page is served (0: any free port)', wholeNumber(0, 65_535), 9465)
      .option('--host <host>', 'where it listens (another address than loopback needs FDN_OPERATIONS_TOKEN)', '127.0.0.1')
      .action(async (opts: { port: number; host: string }, cmd: Command) => {
        const io = context.io;
        const globals = cmd.optsWithGlobals<Globals>();
        const cluster = await attach(io, { contact: globals.contact, secretFile: globals.secretFile, timeoutMs: globals.timeout });
        const token = io.env.FDN_OPERATIONS_TOKEN;
        let http;
        try {
          http = await startHttp({ port: opts.port, host: opts.host, ...(token === undefined || token === '' ? {} : { token }) }, observerRoutes(cluster), cluster.node.logger);
        } catch (err) {
          await cluster.close();
          throw err instanceof CliError ? err : new CliError(CliErrorCode.USAGE, String(err));
        }
        const stop = (): void => {
          void http.close().then(() => cluster.close()).then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        io.out(`fdn: observing the cluster through ${cluster.contact} at ${http.url}/observer${token ? '?token=…' : ''}; Ctrl-C stops`);
        context.keepRunning();
      });
  },
};
