// The example as far as this machine can run it: the manifests say what the code expects (probe
// paths, the port discovery reads, the RBAC rule, environment variables the node reads, a cluster
// configuration that loads), and the service itself runs as two OS processes on 127.0.0.1 with a
// static topology instead of the API: they join, their probes answer, SIGTERM exits 0.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_STRATEGIES, parseClusterConfig } from '@fdn/cluster';
import { ENVIRONMENT_VARIABLES } from '@fdn/distribution';

const dir = fileURLToPath(new URL('..', import.meta.url));
const docs = (file: string): unknown[] => parseAllDocuments(readFileSync(join(dir, 'k8s', file), 'utf8')).map((d) => d.toJSON() as unknown);
const ofKind = (file: string, kind: string): unknown => docs(file).find((d) => (d as { kind?: unknown }).kind === kind);

/** The parts of the manifests the tests read (the shapes of the Kubernetes API). */
interface Container {
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
}
interface Deployment {
  spec: { template: { spec: { containers: Container[]; serviceAccountName: string } } };
}
interface Service {
  spec: { clusterIP: string; ports: { name: string }[] };
}

describe('the manifests', () => {
  const deployment = ofKind('deployment.yaml', 'Deployment') as Deployment;
  const container = deployment.spec.template.spec.containers[0] as Container;

  it('probe what the service serves, on the port it serves them', () => {
    // The service serves @fdn/cli's operations endpoint: its probes are /health and /ready.
    expect(readFileSync(join(dir, 'src/main.ts'), 'utf8')).toContain('serveOperations(node');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.port).toBe('ops');
    expect(container.env.find((e) => e.name === 'OPERATIONS_PORT')?.value).toBe(String(container.ports.find((p) => p.name === 'ops')?.containerPort));
    // Listening beyond loopback needs the metrics' token: it comes from the mounted Secret.
    expect(container.env.find((e) => e.name === 'OPERATIONS_TOKEN_FILE')?.value).toMatch(/^\/etc\/fdn\/secret\//);
  });

  it('name the node port `fdn` (what discovery reads from the EndpointSlices) and set only variables the node reads', () => {
    const service = ofKind('deployment.yaml', 'Service') as Service;
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.ports[0]?.name).toBe('fdn');
    expect(container.ports.find((p) => p.name === 'fdn')?.containerPort).toBe(4370);
    const fdnVariables = container.env.map((e) => e.name).filter((n) => n.startsWith('FDN_'));
    for (const v of fdnVariables) expect([...ENVIRONMENT_VARIABLES, 'FDN_CLUSTER_CONFIG'], v).toContain(v);
  });

  it('grant the service account the rule discovery needs', () => {
    const role = ofKind('rbac.yaml', 'Role') as { rules: unknown[] };
    expect(role.rules).toContainEqual({ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('myapp');
  });

  it('hold a libcluster configuration that loads', () => {
    const configMap = ofKind('cluster.yaml', 'ConfigMap') as { data: Record<string, string> };
    const [topology] = parseClusterConfig(parseAllDocuments(configMap.data['cluster.yaml'] ?? '')[0]?.toJSON(), BUILT_IN_STRATEGIES);
    expect(topology).toMatchObject({ name: 'k8s', strategy: 'kubernetes', options: { selector: 'app=myapp', nodeBasename: 'myapp', mode: 'ip', pollingIntervalMs: 10_000 } });
  });
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

async function get(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the service', () => {
  it('two pods (OS processes here) join through their topology, answer their probes, and exit 0 on SIGTERM', async () => {
    const work = mkdtempSync(join(tmpdir(), 'fdn-k8s-example-'));
    writeFileSync(join(work, 'secret'), 'a-long-shared-cluster-secret');
    writeFileSync(join(work, 'operations-token'), 'an-operations-token-for-prometheus\n');
    const [p1, p2, h1, h2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const config = join(work, 'cluster.yaml');
    writeFileSync(config, `topologies:\n  pods:\n    strategy: static\n    config:\n      hosts: [ws://127.0.0.1:${String(p1)}, ws://127.0.0.1:${String(p2)}]\n`);
    const start = (name: string, port: number, health: number): ChildProcess => {
      const child = fork(join(dir, 'src/main.ts'), [], {
        env: { ...process.env, FDN_NAME: name, FDN_LISTEN: `127.0.0.1:${String(port)}`, FDN_SECRET_FILE: join(work, 'secret'), FDN_CLUSTER_CONFIG: config, FDN_APP_VERSION: '1.0.0', OPERATIONS_PORT: String(health), OPERATIONS_HOST: '127.0.0.1', OPERATIONS_TOKEN_FILE: join(work, 'operations-token') },
        execArgv: ['--conditions=@fdn/source', '--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(child);
      return child;
    };
    const a = start('myapp-a', p1, h1);
    start('myapp-b', p2, h2);
    await until('liveness', async () => (await get(`http://127.0.0.1:${String(h1)}/health`)) === 200);
    await until('both ready (joined)', async () => (await get(`http://127.0.0.1:${String(h1)}/ready`)) === 200 && (await get(`http://127.0.0.1:${String(h2)}/ready`)) === 200);
    const body = (await (await fetch(`http://127.0.0.1:${String(h1)}/ready`)).json()) as { nodes: number };
    expect(body.nodes).toBe(1);
    // Metrics need the token from the Secret; the probes above did not.
    expect(await get(`http://127.0.0.1:${String(h1)}/metrics`)).toBe(401);
    const metrics = await (await fetch(`http://127.0.0.1:${String(h1)}/metrics`, { headers: { authorization: 'Bearer an-operations-token-for-prometheus' } })).text();
    expect(metrics).toContain('fdn_cluster_nodes{node="myapp-a"} 1');
    const exited = new Promise<number | null>((resolve) => a.once('exit', (code) => { resolve(code); }));
    a.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
