// The operations endpoint's HTTP server: GET of the registered routes, loopback by default. Bound
// to another address it requires a token (`Authorization: Bearer <token>`) on every route but the
// public ones (the probes): metrics and process details are not for everyone on the network.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '@fdn/core';
import { CliError, CliErrorCode } from '../errors.ts';
import type { Reply, Route } from './route.ts';

/** Where and how the endpoint listens. */
export interface HttpOptions {
  /** Default 127.0.0.1. Any other address requires `token`. */
  host?: string;
  /** Default 9464 (Prometheus exporters' convention); 0 picks a free port. */
  port?: number;
  /** Required when `host` is not a loopback address: requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** A running endpoint. */
export interface HttpEndpoint {
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Checks the options (a non-loopback address without a token is refused with FDN_ERR_OPERATIONS_CONFIG). */
export function checkHttpOptions(options: HttpOptions): { host: string; port: number; token: string | undefined } {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError(CliErrorCode.BAD_CONFIG, `operations: port must be an integer from 0 to 65535, not ${JSON.stringify(options.port)}`);
  if (options.token !== undefined && options.token.length < 16) throw new CliError(CliErrorCode.BAD_CONFIG, 'operations: the token must be at least 16 characters (use a random string, e.g. `openssl rand -hex 24`)');
  if (!LOOPBACK.has(host) && options.token === undefined) {
    throw new CliError(CliErrorCode.BAD_CONFIG, `operations: listening on ${host} (not loopback) requires a token: set \`token\` (FDN_OPERATIONS_TOKEN), and give Prometheus the same as a bearer token`);
  }
  return { host, port, token: options.token };
}

/** Starts the endpoint serving `routes`. Rejects with FDN_ERR_OPERATIONS_LISTEN when it cannot listen. */
export async function startHttp(options: HttpOptions, routes: readonly Route[], logger: Logger): Promise<HttpEndpoint> {
  const { host, port, token } = checkHttpOptions(options);
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const expected = token === undefined ? null : Buffer.from(`Bearer ${token}`);
  const server: Server = createServer((req, res) => {
    void answer(req, res);
  });
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let reply: Reply;
    const path = (req.url ?? '/').split('?')[0] as string;
    const route = byPath.get(path);
    if (expected !== null && route?.public !== true && !authorized(req.headers.authorization, expected)) reply = { status: 401, type: 'text/plain', body: 'a bearer token is required (Authorization: Bearer <token>)\n' };
    else if (req.method !== 'GET' && req.method !== 'HEAD') reply = { status: 405, type: 'text/plain', body: 'only GET\n' };
    else if (route === undefined) reply = { status: 404, type: 'text/plain', body: `no ${path} here; try ${[...byPath.keys()].join(', ')}\n` };
    else {
      try {
        reply = await route.get();
      } catch (err) {
        logger.error(`operations: ${path} failed`, { reason: err });
        reply = { status: 500, type: 'text/plain', body: `${path} failed: ${String(err)}\n` };
      }
    }
    res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new CliError(CliErrorCode.LISTEN_FAILED, `operations: cannot listen on ${host}:${String(port)} (${err.code ?? err.message}): ${err.code === 'EADDRINUSE' ? 'the port is taken; choose another `port`' : 'check the host is an address of this machine'}`, { cause: err }));
    });
    server.listen(port, host, () => {
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${String(address.port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
