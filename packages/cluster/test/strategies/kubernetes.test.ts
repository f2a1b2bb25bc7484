// The Kubernetes strategy against a local HTTPS server serving the API's documented shapes (no
// real API server can run here): EndpointSlices, Endpoints and Pods, readiness, the three name
// modes, token rotation, RBAC refusal and a failing API.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode, kubernetes } from '../../src/index.ts';
import type { KubernetesOptions, Peer, Strategy } from '../../src/index.ts';
import { components, SELF, strategyCompliance } from '../support/compliance.ts';
import { FakeKubernetesApi } from '../support/kubernetes-api.ts';
import type { FakePod } from '../support/kubernetes-api.ts';
import { waitFor } from '../support/wait.ts';

const podsAt = (addresses: readonly string[]): FakePod[] => addresses.map((a, i) => ({ name: `myapp-${String(i)}`, ip: new URL(a).hostname }));

strategyCompliance('kubernetes', async () => {
  const api = new FakeKubernetesApi();
  await api.start();
  const initial = ['ws://127.0.0.2:4370', 'ws://127.0.0.3:4370'];
  api.pods = podsAt([...initial, 'ws://127.0.0.1:4370']);
  return {
    initial,
    extra: ['ws://127.0.0.9:4370', 'ws://127.0.0.10:4370'],
    setPeers: (addresses) => {
      api.pods = podsAt(addresses);
      return Promise.resolve();
    },
    create: (c) => kubernetes({ selector: 'app=myapp', nodeBasename: 'myapp', apiUrl: api.url, serviceAccountPath: api.accountPath, pollingIntervalMs: 50 })({ ...c, self: { name: SELF.name, addresses: ['ws://127.0.0.1:4370'] } }),
    breakSource: () => (api.failing = true),
    restoreSource: () => (api.failing = false),
    close: () => api.stop(),
  };
});

describe('kubernetes', () => {
  let api: FakeKubernetesApi;
  const running: Strategy[] = [];
  beforeEach(async () => {
    api = new FakeKubernetesApi();
    await api.start();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await api.stop();
  });
  const start = async (options: Partial<KubernetesOptions> = {}): Promise<{ s: Strategy; errors: { code: string; message: string }[] }> => {
    const s = kubernetes({ selector: 'app=myapp', nodeBasename: 'myapp', apiUrl: api.url, serviceAccountPath: api.accountPath, pollingIntervalMs: 50, ...options })(components());
    const errors: { code: string; message: string }[] = [];
    s.on('error', (e) => errors.push(e));
    running.push(s);
    await s.start();
    return { s, errors };
  };

  it('lists ready pods of the selector from EndpointSlices, named <basename>@<ip>, on the port named fdn, in the namespace of the service account', async () => {
    api.port = 4380;
    api.pods = [
      { name: 'a', ip: '10.1.0.1' },
      { name: 'b', ip: '10.1.0.2', ready: false },
      { name: 'c', ip: '10.1.0.3', terminating: true },
      { name: 'd', ip: '10.1.0.4' },
      { name: 'other', ip: '10.1.0.5', labels: { app: 'other' } },
    ];
    const { s } = await start();
    expect(s.peers()).toEqual<Peer[]>([
      { name: 'myapp@10.1.0.1', address: 'ws://10.1.0.1:4380' },
      { name: 'myapp@10.1.0.4', address: 'ws://10.1.0.4:4380' },
    ]);
    expect(api.requests[0]?.path).toBe('/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices');
    expect(api.requests[0]?.authorization).toBe('Bearer token-1');
  });

  it('includes pods that are not ready when asked', async () => {
    api.pods = [
      { name: 'a', ip: '10.1.0.1' },
      { name: 'b', ip: '10.1.0.2', ready: false },
    ];
    const { s } = await start({ includeNotReady: true });
    expect(s.peers().map((p) => p.address)).toEqual(['ws://10.1.0.1:4370', 'ws://10.1.0.2:4370']);
  });

  it.each(['endpoints', 'pods'] as const)('reads %s as well, ready ones only', async (lookup) => {
    api.pods = [
      { name: 'a', ip: '10.1.0.1' },
      { name: 'b', ip: '10.1.0.2', ready: false },
    ];
    const { s } = await start({ lookup });
    expect(s.peers()).toEqual<Peer[]>([{ name: 'myapp@10.1.0.1', address: 'ws://10.1.0.1:4370' }]);
    expect(api.requests[0]?.path).toBe(`/api/v1/namespaces/prod/${lookup}`);
  });

  it('names hosts by pod DNS (dns) or StatefulSet hostname (hostname), in the cluster domain', async () => {
    api.pods = [{ name: 'myapp-0', ip: '10.1.0.1', hostname: 'myapp-0' }];
    const dns = await start({ mode: 'dns', clusterDomain: 'example.local' });
    expect(dns.s.peers()).toEqual<Peer[]>([{ name: 'myapp@10-1-0-1.prod.pod.example.local', address: 'ws://10-1-0-1.prod.pod.example.local:4370' }]);
    const host = await start({ mode: 'hostname', serviceName: 'myapp-headless' });
    expect(host.s.peers()).toEqual<Peer[]>([{ name: 'myapp@myapp-0.myapp-headless.prod.svc.cluster.local', address: 'ws://myapp-0.myapp-headless.prod.svc.cluster.local:4370' }]);
  });

  it('a 403 says which RBAC rule is missing, keeps the nodes found so far, and recovers once granted', async () => {
    api.pods = [{ name: 'a', ip: '10.1.0.1' }];
    const { s, errors } = await start();
    expect(s.peers()).toHaveLength(1);
    api.forbidden = true;
    const error = await waitFor('a 403', () => errors[0]);
    expect(error.code).toBe(ClusterErrorCode.DISCOVERY_FORBIDDEN);
    expect(error.message).toContain('resources: ["endpointslices"]');
    expect(error.message).toContain('apiGroups: ["discovery.k8s.io"]');
    expect(s.peers()).toHaveLength(1);
    api.pods.push({ name: 'b', ip: '10.1.0.2' });
    api.forbidden = false;
    await waitFor('recovery', () => s.peers().length === 2, 5_000);
  });

  it('reads a rotated token from its file', async () => {
    api.pods = [{ name: 'a', ip: '10.1.0.1' }];
    const { s, errors } = await start();
    api.rotateToken('token-2');
    api.pods.push({ name: 'b', ip: '10.1.0.2' });
    await waitFor('the next answer, with the new token', () => s.peers().length === 2, 5_000);
    expect(errors).toEqual([]);
    expect(api.requests.at(-1)?.authorization).toBe('Bearer token-2');
  });

  it('a token the API refuses is a 401 error that says where the token comes from', async () => {
    api.acceptedToken = 'something-else';
    const { s, errors } = await start();
    expect(errors[0]?.code).toBe(ClusterErrorCode.DISCOVERY_UNAUTHORIZED);
    expect(errors[0]?.message).toContain(api.accountPath);
    expect(s.peers()).toEqual([]);
  });

  it('an API it cannot reach is an error that says what to check', async () => {
    const { errors } = await start({ apiUrl: 'https://127.0.0.1:1' });
    expect(errors[0]?.code).toBe(ClusterErrorCode.DISCOVERY_FAILED);
    expect(errors[0]?.message).toMatch(/cannot reach the API at https:\/\/127\.0\.0\.1:1/);
  });

  it('an API whose certificate the CA does not sign is refused (an error, no nodes)', async () => {
    api.pods = [{ name: 'a', ip: '10.1.0.1' }];
    const other = join(api.dir, 'other-account');
    mkdirSync(other);
    writeFileSync(join(other, 'token'), api.acceptedToken);
    writeFileSync(join(other, 'namespace'), 'prod');
    // Trusting the server's own (CA-signed, not self-signed) certificate as if it were the CA: verification fails.
    writeFileSync(join(other, 'ca.crt'), readFileSync(join(api.dir, 'api.pem')));
    const { s, errors } = await start({ serviceAccountPath: other });
    expect(errors[0]?.code).toBe(ClusterErrorCode.DISCOVERY_FAILED);
    expect(errors[0]?.message).toMatch(/ca\.crt/);
    expect(s.peers()).toEqual([]);
  });

  it('hostname mode without serviceName is a configuration error', () => {
    expect(() => kubernetes({ selector: 'app=x', nodeBasename: 'x', mode: 'hostname' })).toThrow(expect.objectContaining({ code: ClusterErrorCode.BAD_CONFIG }));
  });
});
