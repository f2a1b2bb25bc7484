// A small client of the Kubernetes API for what discovery reads: the service account's token
// (read again for every request, so a rotated token is picked up; once more after a 401) and CA,
// one GET, and errors that say what to do (a 403 names the RBAC rule that is missing).

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { ClusterError, ClusterErrorCode } from '../../errors.ts';

/** The standard in-pod path of the service account's token, CA and namespace. */
export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** One HTTP GET: status and body. Injectable for tests of your own; the default uses node:https. */
export type HttpGet = (url: URL, init: { headers: Record<string, string>; ca?: string | undefined; timeoutMs: number }) => Promise<{ status: number; body: string }>;

export interface ApiClientOptions {
  /** The API's base URL (default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, else `https://<master>`). */
  apiUrl?: string;
  /** Host name of the API when the variables are not set (default `kubernetes.default.svc`, libcluster's `kubernetes_master`). */
  master?: string;
  /** Where the token, `ca.crt` and `namespace` are (default the standard in-pod path). */
  serviceAccountPath?: string;
  /** A request's timeout (default 5,000 ms). */
  requestTimeoutMs?: number;
  httpGet?: HttpGet;
}

/** Reads the Kubernetes API as the pod's service account. */
export class KubernetesApi {
  readonly base: URL;
  readonly #accountPath: string;
  readonly #timeoutMs: number;
  readonly #get: HttpGet;

  constructor(options: ApiClientOptions, env: Readonly<Record<string, string | undefined>> = process.env) {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    const fromEnv = host !== undefined && host !== '' ? `https://${host.includes(':') ? `[${host}]` : host}${port === undefined || port === '' ? '' : `:${port}`}` : undefined;
    this.base = new URL(options.apiUrl ?? fromEnv ?? `https://${options.master ?? 'kubernetes.default.svc'}`);
    this.#accountPath = options.serviceAccountPath ?? SERVICE_ACCOUNT_PATH;
    this.#timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#get = options.httpGet ?? nodeGet;
  }

  /** The namespace this pod runs in (the service account's `namespace` file). */
  namespace(): string {
    try {
      return readFileSync(join(this.#accountPath, 'namespace'), 'utf8').trim();
    } catch (err) {
      throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `kubernetes: no namespace given and none readable at ${join(this.#accountPath, 'namespace')} (${(err as Error).message}): set the strategy's \`namespace\`, or run in a pod with a service account`, { cause: err });
    }
  }

  /** GET `path` (with `query`) as JSON; `what` names the resource in errors (`endpointslices`). */
  async getJson(path: string, query: Record<string, string>, what: { resource: string; apiGroup: string; namespace: string }): Promise<unknown> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let answer = await this.#send(url);
    // A bound token rotates (about hourly): the kubelet writes the new one to the same file.
    if (answer.status === 401) answer = await this.#send(url);
    if (answer.status === 200) {
      try {
        return JSON.parse(answer.body) as unknown;
      } catch {
        throw new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `kubernetes: ${url.href} answered 200 with a body that is not JSON; retrying`);
      }
    }
    const said = statusMessage(answer.body);
    if (answer.status === 401) throw new ClusterError(ClusterErrorCode.DISCOVERY_UNAUTHORIZED, `kubernetes: the API refused the service account token (401${said}) from ${join(this.#accountPath, 'token')}: check that the pod mounts its service account token (automountServiceAccountToken) and that it has not expired`);
    if (answer.status === 403) {
      throw new ClusterError(ClusterErrorCode.DISCOVERY_FORBIDDEN, `kubernetes: the service account may not list ${what.resource} in namespace '${what.namespace}' (403${said}). Bind it to a Role with rules: [{ apiGroups: ["${what.apiGroup}"], resources: ["${what.resource}"], verbs: ["get", "list", "watch"] }] (examples/kubernetes/rbac.yaml). The nodes found so far stay; retrying`);
    }
    throw new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `kubernetes: GET ${url.pathname} answered ${String(answer.status)}${said}; retrying`);
  }

  async #send(url: URL): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.#readOptional('token');
    if (token !== undefined) headers.authorization = `Bearer ${token.trim()}`;
    try {
      return await this.#get(url, { headers, ca: this.#readOptional('ca.crt'), timeoutMs: this.#timeoutMs });
    } catch (err) {
      throw new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `kubernetes: cannot reach the API at ${this.base.origin} (${(err as Error).message}): check apiUrl (or KUBERNETES_SERVICE_HOST), the network policy, and that ca.crt matches the API's certificate; retrying`, { cause: err });
    }
  }

  #readOptional(file: string): string | undefined {
    try {
      return readFileSync(join(this.#accountPath, file), 'utf8');
    } catch {
      return undefined;
    }
  }
}

/** `: <message>` from a Kubernetes Status body, if it has one. */
function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? `: ${m}` : '';
  } catch {
    return '';
  }
}

const nodeGet: HttpGet = (url, init) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = send(url, { method: 'GET', headers: init.headers, ...(init.ca === undefined ? {} : { ca: init.ca }), timeout: init.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // A list of a few thousand endpoints is a few MB; more is not an answer to use.
        if (size > 64 * 1024 * 1024) req.destroy(new Error('answer larger than 64 MB'));
        else chunks.push(c);
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${String(init.timeoutMs)} ms`)));
    req.on('error', reject);
    req.end();
  });
