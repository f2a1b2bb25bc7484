// The configuration: libcluster's shape as its documentation writes it, ours, the environment and
// files; every mistake named.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_STRATEGIES, ClusterErrorCode, clusterConfigFromEnvironment, parseClusterConfig, readClusterConfig } from '../../src/index.ts';

const parse = (config: unknown) => parseClusterConfig(config, BUILT_IN_STRATEGIES);
const badConfig = (message: RegExp | string): unknown => expect.objectContaining({ code: ClusterErrorCode.BAD_CONFIG, message: (typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message)) as unknown });

describe("libcluster's configurations, as its documentation writes them", () => {
  it('Kubernetes (the issue example)', () => {
    const [t] = parse({ topologies: { k8s: { strategy: 'Cluster.Strategy.Kubernetes', config: { kubernetes_selector: 'app=myapp', kubernetes_node_basename: 'myapp', mode: 'ip', polling_interval: 10_000 } } } });
    expect(t).toMatchObject({ name: 'k8s', strategy: 'kubernetes', options: { selector: 'app=myapp', nodeBasename: 'myapp', mode: 'ip', pollingIntervalMs: 10_000 } });
  });

  it('Kubernetes with atoms, lookup mode, service name, namespace and cluster name', () => {
    const [t] = parse({
      libcluster: {
        topologies: {
          erlang_nodes_in_k8s: {
            strategy: 'Elixir.Cluster.Strategy.Kubernetes',
            config: { mode: ':hostname', kubernetes_ip_lookup_mode: ':pods', kubernetes_node_basename: 'myapp', kubernetes_selector: 'app=myapp', kubernetes_namespace: 'my_namespace', kubernetes_service_name: 'myapp-headless', kubernetes_cluster_name: 'mycluster', kubernetes_use_cached_resources: true, polling_interval: 10_000 },
          },
        },
      },
    });
    expect(t?.options).toEqual({ mode: 'hostname', lookup: 'pods', nodeBasename: 'myapp', selector: 'app=myapp', namespace: 'my_namespace', serviceName: 'myapp-headless', clusterDomain: 'mycluster.local', useCachedResources: true, pollingIntervalMs: 10_000 });
  });

  it('Kubernetes.DNS (A records only), Kubernetes.DNSSRV and DNSPoll (with its documented poll_interval spelling)', () => {
    const ts = parse({
      topologies: {
        k8s_dns: { strategy: 'Cluster.Strategy.Kubernetes.DNS', config: { service: 'myapp-headless', application_name: 'myapp', polling_interval: 10_000 } },
        k8s_srv: { strategy: 'Cluster.Strategy.Kubernetes.DNSSRV', config: { service: 'myapp-headless', application_name: 'myapp', namespace: 'default', polling_interval: 10_000 } },
        dns_poll: { strategy: 'Cluster.Strategy.DNSPoll', config: { poll_interval: 5_000, query: 'my-app.example.com', node_basename: 'my_app' } },
      },
    });
    expect(ts.map((t) => [t.strategy, t.options])).toEqual([
      ['dnsPoll', { family: '4', query: 'myapp-headless', nodeBasename: 'myapp', pollingIntervalMs: 10_000 }],
      ['dnsSrv', { service: 'myapp-headless', nodeBasename: 'myapp', namespace: 'default', pollingIntervalMs: 10_000 }],
      ['dnsPoll', { pollingIntervalMs: 5_000, query: 'my-app.example.com', nodeBasename: 'my_app' }],
    ]);
  });

  it('Gossip and Epmd (its timeout is how often failed joins are tried again)', () => {
    const [g, e] = parse({
      topologies: {
        gossip_example: { strategy: 'Cluster.Strategy.Gossip', config: { port: 45892, if_addr: '0.0.0.0', multicast_if: '192.168.1.1', multicast_addr: '233.252.1.32', multicast_ttl: 1, secret: 'somepassword' } },
        epmd_example: { strategy: 'Cluster.Strategy.Epmd', config: { hosts: [':"a@127.0.0.1"', 'b@127.0.0.1'], timeout: 30_000 } },
      },
    });
    expect(g?.options).toEqual({ port: 45892, ifAddr: '0.0.0.0', multicastInterface: '192.168.1.1', multicastAddr: '233.252.1.32', multicastTtl: 1, secret: 'somepassword' });
    expect(e?.options).toEqual({ hosts: ['"a@127.0.0.1"', 'b@127.0.0.1'] });
    expect(e?.reconnectMs).toBe(30_000);
  });
});

describe('mistakes are named', () => {
  it('an unknown key names the key, its topology and strategy, with a guess and what is allowed', () => {
    expect(() => parse({ topologies: { k8s: { strategy: 'Cluster.Strategy.Kubernetes', config: { kubernetes_selectr: 'app=x', kubernetes_node_basename: 'x' } } } })).toThrow(badConfig(/topology 'k8s' \(strategy kubernetes\): kubernetes_selectr: unknown option \(did you mean 'kubernetes_selector'\?\); allowed here: .*selector/));
  });

  it('an unknown strategy, with a guess', () => {
    expect(() => parse({ topologies: { a: { strategy: 'Cluster.Strategy.Kubernetes.DNSRV' } } })).toThrow(badConfig("unknown strategy 'Cluster.Strategy.Kubernetes.DNSRV' (did you mean 'Cluster.Strategy.Kubernetes.DNSSRV'?)"));
    expect(() => parse({ topologies: { a: { strategy: 'dnssrv', config: { query: 'x' } } } })).toThrow(badConfig("did you mean 'dnsSrv'"));
  });

  it('a missing required option, a bad value, a wrong word: all listed at once', () => {
    expect(() => parse({ topologies: { k: { strategy: 'kubernetes', config: { mode: 'pod', pollingIntervalMs: 'often' } } } })).toThrow(
      badConfig(/mode: must be one of 'ip', 'dns', 'hostname'; got "pod"\n {2}pollingIntervalMs: expected a number ≥ 0, got "often"\n {2}selector: required/),
    );
  });

  it("libcluster's Erlang MFAs (connect, disconnect, list_nodes) say what to do instead", () => {
    expect(() => parse({ topologies: { a: { strategy: 'static', config: { hosts: [] }, connect: ['net_kernel', 'connect_node', []] } } })).toThrow(badConfig('`connect` is an Erlang {M, F, A} in libcluster'));
  });

  it('unknown top-level and topology keys', () => {
    expect(() => parse({ topologys: {} })).toThrow(badConfig("did you mean 'topologies'"));
    expect(() => parse({ topologies: { a: { strategy: 'static', confg: {} } } })).toThrow(badConfig("did you mean 'config'"));
  });

  it('our own keys work as well, in our shape', () => {
    const [t] = parse({ topologies: { dns: { strategy: 'dnsSrv', config: { query: '_fdn._tcp.app.test', mode: 'ip', pollingIntervalMs: 1_000 }, reconnectMs: 2_000 } } });
    expect(t).toMatchObject({ strategy: 'dnsSrv', options: { query: '_fdn._tcp.app.test', mode: 'ip', pollingIntervalMs: 1_000 }, reconnectMs: 2_000 });
  });
});

describe('the environment and files', () => {
  it('FDN_DISCOVERY with FDN_DISCOVERY_<OPTION> variables, typed', () => {
    const config = clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY: 'kubernetes', FDN_DISCOVERY_SELECTOR: 'app=myapp', FDN_DISCOVERY_NODE_BASENAME: 'myapp', FDN_DISCOVERY_POLLING_INTERVAL_MS: '2000', FDN_DISCOVERY_INCLUDE_NOT_READY: 'true' });
    expect(config).toEqual({ topologies: { env: { strategy: 'kubernetes', config: { selector: 'app=myapp', nodeBasename: 'myapp', pollingIntervalMs: 2000, includeNotReady: true } } } });
    expect(parse(config)[0]?.options.pollingIntervalMs).toBe(2000);
    const hosts = clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY: 'static', FDN_DISCOVERY_HOSTS: 'ws://127.0.0.1:4370, ws://127.0.0.1:4371' });
    expect(hosts?.topologies?.env?.config).toEqual({ hosts: ['ws://127.0.0.1:4370', 'ws://127.0.0.1:4371'] });
  });

  it('nothing set: no configuration (a cluster of one)', () => {
    expect(clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, {})).toBeUndefined();
  });

  it('a misspelt variable, an unknown strategy, options without a strategy, a bad number: each named', () => {
    expect(() => clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY: 'kubernetes', FDN_DISCOVERY_SELECTR: 'x' })).toThrow(badConfig('FDN_DISCOVERY_SELECTR: not an option of the kubernetes strategy (did you mean FDN_DISCOVERY_SELECTOR?)'));
    expect(() => clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY: 'kubernets' })).toThrow(badConfig("FDN_DISCOVERY=kubernets: unknown strategy (did you mean 'kubernetes'?)"));
    expect(() => clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY_QUERY: 'x' })).toThrow(badConfig('FDN_DISCOVERY_QUERY set without FDN_DISCOVERY'));
    expect(() => clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_DISCOVERY: 'dnsPoll', FDN_DISCOVERY_PORT: 'eighty' })).toThrow(badConfig('FDN_DISCOVERY_PORT=eighty: expected a number'));
  });

  it('FDN_CLUSTER_CONFIG names a YAML or JSON file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-cluster-config-'));
    const yaml = join(dir, 'cluster.yaml');
    writeFileSync(yaml, ['libcluster:', '  topologies:', '    k8s:', '      strategy: Cluster.Strategy.Kubernetes.DNSSRV', '      config:', '        service: myapp-headless', '        namespace: prod', '        application_name: myapp', '        polling_interval: 10000', ''].join('\n'));
    const fromYaml = parse(clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_CLUSTER_CONFIG: yaml }));
    expect(fromYaml[0]).toMatchObject({ name: 'k8s', strategy: 'dnsSrv', options: { service: 'myapp-headless', namespace: 'prod', nodeBasename: 'myapp', pollingIntervalMs: 10_000 } });
    const json = join(dir, 'cluster.json');
    writeFileSync(json, JSON.stringify({ topologies: { lan: { strategy: 'gossip', config: { port: 45900 } } } }));
    expect(parse(readClusterConfig(json))[0]).toMatchObject({ strategy: 'gossip', options: { port: 45900 } });
    writeFileSync(json, '{ not json');
    expect(() => readClusterConfig(json)).toThrow(badConfig(`${json} is not valid JSON`));
    expect(() => readClusterConfig(join(dir, 'missing.yaml'))).toThrow(badConfig('cannot read the cluster configuration'));
    expect(() => clusterConfigFromEnvironment(BUILT_IN_STRATEGIES, { FDN_CLUSTER_CONFIG: yaml, FDN_DISCOVERY: 'static' })).toThrow(badConfig('set one'));
  });
});
