// A local HTTPS server that answers as the Kubernetes API does for what discovery reads: an
// EndpointSliceList, EndpointsList or PodList in the documented shapes (discovery.k8s.io/v1 and
// v1), filtered by `labelSelector`; Status objects for 401 (a token it does not accept) and 403
// (RBAC). No real API server can run here: this serves the shapes of the API reference. Its
// certificate is made by openssl for 127.0.0.1 and signed by a CA written, with a token and a
// namespace, to a temp service-account directory as a pod would have them.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from '../../../../test/support/certificates.ts';

export interface FakePod {
  name: string;
  ip: string;
  ready?: boolean;
  terminating?: boolean;
  hostname?: string;
  labels?: Record<string, string>;
}

export class FakeKubernetesApi {
  readonly dir = mkdtempSync(join(tmpdir(), 'fdn-k8s-'));
  readonly accountPath = join(this.dir, 'serviceaccount');
  pods: FakePod[] = [];
  /** The token the API accepts (rotate it by writing a new one to the file and here). */
  acceptedToken = 'token-1';
  /** Answer 403 to every list (a service account without the RBAC rule). */
  forbidden = false;
  /** Answer 500. */
  failing = false;
  port = 4370;
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  #server: Server | null = null;
  url = '';

  constructor() {
    // The CA and the server's certificate, made once per test file (RSA key generation is slow).
    certificates ??= apiCertificates();
    for (const file of ['ca.pem', 'api.key', 'api.pem']) writeFileSync(join(this.dir, file), readFileSync(join(certificates, file)));
    mkdirSync(this.accountPath, { recursive: true });
    writeFileSync(join(this.accountPath, 'ca.crt'), readFileSync(join(this.dir, 'ca.pem')));
    writeFileSync(join(this.accountPath, 'token'), this.acceptedToken);
    writeFileSync(join(this.accountPath, 'namespace'), 'prod\n');
  }

  /** A new token, as the kubelet rotates it: written to the file, and the old one no longer accepted. */
  rotateToken(token: string): void {
    this.acceptedToken = token;
    writeFileSync(join(this.accountPath, 'token'), token);
  }

  async start(): Promise<void> {
    const server = createServer({ key: readFileSync(join(this.dir, 'api.key')), cert: readFileSync(join(this.dir, 'api.pem')) }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      this.requests.push({ path: url.pathname, authorization: req.headers.authorization });
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const status = (code: number, reason: string, message: string): void => {
        send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
      };
      if (req.headers.authorization !== `Bearer ${this.acceptedToken}`) { status(401, 'Unauthorized', 'Unauthorized'); return; }
      if (this.failing) { status(500, 'InternalError', 'etcdserver: request timed out'); return; }
      const m = /^\/(?:api\/v1|apis\/discovery\.k8s\.io\/v1)\/namespaces\/([^/]+)\/(endpointslices|endpoints|pods)$/.exec(url.pathname);
      if (m === null) { status(404, 'NotFound', 'the server could not find the requested resource'); return; }
      const [, namespace, resource] = m as unknown as [string, string, string];
      if (this.forbidden) { status(403, 'Forbidden', `${resource} is forbidden: User "system:serviceaccount:${namespace}:default" cannot list resource "${resource}" in API group "${resource === 'endpointslices' ? 'discovery.k8s.io' : ''}" in the namespace "${namespace}"`); return; }
      const selected = this.pods.filter((p) => matches(url.searchParams.get('labelSelector') ?? '', p.labels ?? { app: 'myapp' }));
      if (resource === 'endpointslices') { send(200, this.#endpointSlices(namespace, selected)); return; }
      if (resource === 'endpoints') { send(200, this.#endpoints(namespace, selected)); return; }
      send(200, this.#podList(namespace, selected));
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.url = `https://127.0.0.1:${String(typeof address === 'object' && address !== null ? address.port : 0)}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    rmSync(this.dir, { recursive: true, force: true });
  }

  #endpointSlices(namespace: string, pods: FakePod[]): unknown {
    // Two slices, as a Service with more endpoints than a slice holds would have.
    const halves = [pods.filter((_, i) => i % 2 === 0), pods.filter((_, i) => i % 2 === 1)];
    return {
      kind: 'EndpointSliceList',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { resourceVersion: '1234' },
      items: halves.map((half, i) => ({
        metadata: { name: `myapp-${String(i)}`, namespace, labels: { app: 'myapp', 'kubernetes.io/service-name': 'myapp' } },
        addressType: 'IPv4',
        endpoints: half.map((p) => ({
          addresses: [p.ip],
          conditions: { ready: (p.ready ?? true) && p.terminating !== true, serving: p.ready ?? true, terminating: p.terminating ?? false },
          ...(p.hostname === undefined ? {} : { hostname: p.hostname }),
          targetRef: { kind: 'Pod', namespace, name: p.name, uid: `uid-${p.name}` },
          nodeName: 'worker-1',
        })),
        ports: [{ name: 'fdn', port: this.port, protocol: 'TCP' }],
      })),
    };
  }

  #endpoints(namespace: string, pods: FakePod[]): unknown {
    const address = (p: FakePod): unknown => ({ ip: p.ip, ...(p.hostname === undefined ? {} : { hostname: p.hostname }), targetRef: { kind: 'Pod', namespace, name: p.name } });
    return {
      kind: 'EndpointsList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1234' },
      items: [{ metadata: { name: 'myapp', namespace }, subsets: [{ addresses: pods.filter((p) => p.ready ?? true).map(address), notReadyAddresses: pods.filter((p) => !(p.ready ?? true)).map(address), ports: [{ name: 'fdn', port: this.port, protocol: 'TCP' }] }] }],
    };
  }

  #podList(namespace: string, pods: FakePod[]): unknown {
    return {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1234' },
      items: pods.map((p) => ({
        metadata: { name: p.name, namespace, labels: p.labels ?? { app: 'myapp' }, ...(p.terminating === true ? { deletionTimestamp: '2026-12-07T00:00:00Z' } : {}) },
        spec: { ...(p.hostname === undefined ? {} : { hostname: p.hostname, subdomain: 'myapp' }), containers: [{ name: 'app', ports: [{ name: 'fdn', containerPort: this.port, protocol: 'TCP' }] }] },
        status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], conditions: [{ type: 'Ready', status: (p.ready ?? true) ? 'True' : 'False' }] },
      })),
    };
  }
}

let certificates: string | undefined;

/** A CA and a certificate for 127.0.0.1 signed by it, made by openssl in a temp directory. */
function apiCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fdn-k8s-certs-'));
  process.once('exit', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  makeCertificates(dir, 'api', 'fdn test kubernetes CA');
  return dir;
}

/** Equality-based label selectors (`app=myapp,tier=web`), as discovery uses them. */
function matches(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(',')
    .filter((s) => s !== '')
    .every((term) => {
      const [k, v] = term.split('=') as [string, string];
      return labels[k] === v;
    });
}
