// Discovery through the Kubernetes API (libcluster's `Kubernetes` strategy): the pods behind a
// label selector, read from EndpointSlices (default), Endpoints or Pods, as the pod's service
// account. Only ready pods count unless asked otherwise (a pod that is starting or terminating is
// not a node to join), and a refused or failed request keeps the nodes found so far.

import { POLLING_FIELDS, POLLING_KEYS, SCHEME_FIELD } from '../../config/common-fields.ts';
import { ClusterError, ClusterErrorCode } from '../../errors.ts';
import type { StrategyDefinition } from '../../strategy/definition.ts';
import { PollingStrategy } from '../../strategy/base.ts';
import type { PollingOptions } from '../../strategy/base.ts';
import { nodeAddress } from '../../strategy/peers.ts';
import type { Peer, StrategyComponents, StrategyFactory } from '../../strategy/strategy.ts';
import { KubernetesApi } from './api.ts';
import type { ApiClientOptions } from './api.ts';
import { endpointSliceTargets, endpointsTargets, podTargets } from './resources.ts';
import type { Target } from './resources.ts';

export interface KubernetesOptions extends PollingOptions, ApiClientOptions {
  /** Label selector of the pods (libcluster's `kubernetes_selector`), e.g. `app=myapp`. */
  selector: string;
  /** A node's name is `<nodeBasename>@<host>` (libcluster's `kubernetes_node_basename`). */
  nodeBasename: string;
  /** Default: the pod's own (the service account's `namespace` file). */
  namespace?: string;
  /** What `<host>` is: the pod IP (`ip`, default), `1-2-3-4.<ns>.pod.<domain>` (`dns`), or `<hostname>.<serviceName>.<ns>.svc.<domain>` (`hostname`, for a StatefulSet). */
  mode?: 'ip' | 'dns' | 'hostname';
  /** Which resource lists the pods (libcluster's `kubernetes_ip_lookup_mode`): `endpointslices` (default), `endpoints` or `pods`. */
  lookup?: 'endpointslices' | 'endpoints' | 'pods';
  /** The headless Service (`hostname` mode). */
  serviceName?: string;
  /** Default the CLUSTER_DOMAIN variable, else `cluster.local`. */
  clusterDomain?: string;
  /** The port nodes listen on; default the port named `portName` in the EndpointSlice (or the pod's container), else 4370. */
  port?: number;
  /** Default `fdn`. */
  portName?: string;
  /** List pods that are not ready (starting, failing probes, terminating) too (default false). */
  includeNotReady?: boolean;
  /** Ask the API server's cache (`resourceVersion=0`: cheaper, maybe a little stale; libcluster's `kubernetes_use_cached_resources`). */
  useCachedResources?: boolean;
  /** `wss` when the nodes use TLS (default `ws`). */
  scheme?: 'ws' | 'wss';
}

/** The `kubernetes` strategy. */
export function kubernetes(options: KubernetesOptions): StrategyFactory {
  if (options.mode === 'hostname' && options.serviceName === undefined) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, "kubernetes: mode 'hostname' needs `serviceName` (the headless Service the pods' hostnames live under)");
  return (components) => new KubernetesStrategy(options, components);
}

const RESOURCES = {
  endpointslices: { path: (ns: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, apiGroup: 'discovery.k8s.io', targets: endpointSliceTargets },
  endpoints: { path: (ns: string) => `/api/v1/namespaces/${ns}/endpoints`, apiGroup: '', targets: endpointsTargets },
  pods: { path: (ns: string) => `/api/v1/namespaces/${ns}/pods`, apiGroup: '', targets: podTargets },
} as const;

class KubernetesStrategy extends PollingStrategy {
  readonly kind = 'kubernetes';
  readonly #api: KubernetesApi;
  #namespace: string | undefined;

  constructor(
    private readonly options: KubernetesOptions,
    components: StrategyComponents,
  ) {
    super(options, components);
    this.#api = new KubernetesApi(options);
    this.#namespace = options.namespace;
  }

  protected async lookup(): Promise<Peer[]> {
    const o = this.options;
    const namespace = (this.#namespace ??= this.#api.namespace());
    const lookup = o.lookup ?? 'endpointslices';
    const resource = RESOURCES[lookup];
    const query: Record<string, string> = { labelSelector: o.selector };
    if (o.useCachedResources === true) query.resourceVersion = '0';
    const list = await this.#api.getJson(resource.path(namespace), query, { resource: lookup, apiGroup: resource.apiGroup, namespace });
    const portName = o.portName ?? 'fdn';
    const targets = resource.targets(list, { includeNotReady: o.includeNotReady === true, portName });
    const domain = (o.clusterDomain ?? process.env.CLUSTER_DOMAIN ?? 'cluster.local').replace(/\.$/, '');
    return targets.flatMap((t) => {
      const host = this.#host(t, namespace, domain);
      if (host === null) return [];
      return [{ name: `${o.nodeBasename}@${host}`, address: nodeAddress(host, o.port ?? t.port ?? 4370, o.scheme) }];
    });
  }

  #host(t: Target, namespace: string, domain: string): string | null {
    switch (this.options.mode ?? 'ip') {
      case 'ip':
        return t.ip;
      case 'dns':
        return `${t.ip.replace(/[.:]/g, '-')}.${namespace}.pod.${domain}`;
      case 'hostname': {
        if (t.hostname === undefined) {
          this.components.logger.warn(`kubernetes: the pod at ${t.ip} has no hostname (mode 'hostname' is for pods of a StatefulSet under a headless Service): left out`);
          return null;
        }
        return `${t.hostname}.${this.options.serviceName ?? ''}.${namespace}.svc.${domain}`;
      }
    }
  }
}

/** The `kubernetes` strategy as configuration knows it (libcluster's `Kubernetes`). */
export const kubernetesDefinition: StrategyDefinition = {
  name: 'kubernetes',
  libcluster: ['Cluster.Strategy.Kubernetes'],
  fields: {
    ...POLLING_FIELDS,
    ...SCHEME_FIELD,
    selector: { type: 'string', required: true, doc: 'label selector of the pods (app=myapp)' },
    nodeBasename: { type: 'string', required: true, doc: "node names are '<nodeBasename>@<host>'" },
    namespace: { type: 'string', doc: "default the pod's own" },
    mode: { type: ['ip', 'dns', 'hostname'], doc: "what <host> is (default 'ip')" },
    lookup: { type: ['endpointslices', 'endpoints', 'pods'], doc: "which resource lists the pods (default 'endpointslices')" },
    serviceName: { type: 'string', doc: "the headless Service (mode 'hostname')" },
    clusterDomain: { type: 'string', doc: 'default CLUSTER_DOMAIN, else cluster.local' },
    port: { type: 'port', doc: "nodes' port (default the port named portName, else 4370)" },
    portName: { type: 'string', doc: "default 'fdn'" },
    includeNotReady: { type: 'boolean', doc: 'list pods that are not ready too' },
    useCachedResources: { type: 'boolean', doc: "ask the API server's cache (resourceVersion=0)" },
    apiUrl: { type: 'string', doc: 'the API (default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)' },
    master: { type: 'string', doc: 'the API host when those are unset (default kubernetes.default.svc)' },
    serviceAccountPath: { type: 'string', doc: 'token, ca.crt and namespace (default /var/run/secrets/kubernetes.io/serviceaccount)' },
    requestTimeoutMs: { type: 'number', doc: "a request's timeout, ms (default 5000)" },
  },
  libclusterKeys: {
    kubernetes_selector: 'selector',
    kubernetes_node_basename: 'nodeBasename',
    kubernetes_namespace: 'namespace',
    mode: 'mode',
    kubernetes_ip_lookup_mode: 'lookup',
    kubernetes_service_name: 'serviceName',
    kubernetes_master: 'master',
    // libcluster appends `.local` to its cluster name.
    kubernetes_cluster_name: { key: 'clusterDomain', convert: (v) => `${String(v)}.local` },
    kubernetes_service_account_path: 'serviceAccountPath',
    kubernetes_use_cached_resources: 'useCachedResources',
    ...POLLING_KEYS,
  },
  create: (o) => kubernetes(o as unknown as KubernetesOptions),
};
