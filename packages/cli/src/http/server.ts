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

/** Bodies larger than this are refused (a POST carries a pid or a topology name). */
const MAX_BODY = 64 * 1024;

const text = (status: number, body: string): Reply => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });

/** Starts the endpoint serving `routes`. Rejects with FDN_ERR_OPERATIONS_LISTEN when it cannot listen. */
export async function startHttp(options: HttpOptions, routes: readonly Route[], logger: Logger): Promise<HttpEndpoint> {
  const { host, port, token } = checkHttpOptions(options);
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const expected = token === undefined ? null : { header: Buffer.from(`Bearer ${token}`), token: Buffer.from(token) };
  const server: Server = createServer((req, res) => {
    void answer(req, res).catch((err: unknown) => {
      logger.error('operations: a request failed', { reason: err });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://endpoint');
    const route = byPath.get(url.pathname);
    const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    let reply: Reply | null = refusal(req, url, route, expected, headers);
    if (reply === null && route === undefined) reply = text(404, `no ${url.pathname} here; try ${[...byPath.keys()].join(', ')}`);
    if (reply === null && route !== undefined) {
      const request = { query: url.searchParams, body: undefined as unknown };
      try {
        if (req.method === 'POST' && route.post !== undefined) {
          const body = await readJson(req);
          reply = typeof body === 'string' ? text(400, body) : await route.post({ ...request, body: body.value });
        } else if ((req.method === 'GET' || req.method === 'HEAD') && route.events !== undefined && req.method === 'GET') {
          streamEvents(req, res, headers, route.events.bind(route), request);
          return;
        } else if ((req.method === 'GET' || req.method === 'HEAD') && route.get !== undefined) reply = await route.get(request);
        else reply = text(405, `${url.pathname} takes ${[route.get !== undefined || route.events !== undefined ? 'GET' : '', route.post !== undefined ? 'POST' : ''].filter(Boolean).join(' and ')}`);
      } catch (err) {
        logger.error(`operations: ${url.pathname} failed`, { reason: err });
        reply = text(500, `${url.pathname} failed: ${String(err)}`);
      }
    }
    const done = reply as Reply;
    res.writeHead(done.status, { ...headers, 'content-type': done.type });
    res.end(req.method === 'HEAD' ? undefined : done.body);
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

/**
 * Why a request is refused before its route runs, or null. With a token: the bearer header, or
 * the cookie a page got by opening `?token=…` once (a browser cannot add a header to an
 * EventSource). Without one (loopback only): a Host that is not loopback is refused, so a web page
 * cannot reach the endpoint by pointing a name of its own at 127.0.0.1 (DNS rebinding).
 */
function refusal(req: IncomingMessage, url: URL, route: Route | undefined, expected: { header: Buffer; token: Buffer } | null, headers: Record<string, string>): Reply | null {
  if (route?.public === true) return null;
  if (expected === null) {
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
    return LOOPBACK_HOSTS.has(hostname) ? null : text(403, `Host ${hostname} refused: without a token this endpoint answers loopback names only (127.0.0.1, localhost, [::1])`);
  }
  if (matches(req.headers.authorization, expected.header) || matches(cookie(req.headers.cookie, TOKEN_COOKIE), expected.token)) return null;
  const given = url.searchParams.get('token');
  if (given !== null && matches(given, expected.token)) {
    headers['set-cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`;
    return null;
  }
  return text(401, 'a token is required: Authorization: Bearer <token> (or open the page once with ?token=<token>)');
}

const TOKEN_COOKIE = 'fdn_token';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** A POST's JSON body, or why it is refused (see `Route.post`). */
async function readJson(req: IncomingMessage): Promise<{ value: unknown } | string> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json') || req.headers['x-fdn-request'] !== '1') return 'a POST needs content-type: application/json and x-fdn-request: 1';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return `the body is over ${String(MAX_BODY)} bytes`;
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown };
  } catch {
    return 'the body is not JSON';
  }
}

/** Serves server-sent events until the client goes; a comment every 15 s keeps proxies from closing it. */
function streamEvents(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, events: NonNullable<Route['events']>, request: { query: URLSearchParams; body: unknown }): void {
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const stop = events(request, (event, data) => {
    if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    stop();
  });
}

function matches(value: string | undefined, expected: Buffer): boolean {
  if (value === undefined) return false;
  const given = Buffer.from(value);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
