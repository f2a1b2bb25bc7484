// The pods a Kubernetes list names, read from the documented shapes of EndpointSliceList
// (discovery.k8s.io/v1), EndpointsList and PodList (v1). Anything missing or of another type is
// skipped, never trusted: a bad answer lists fewer nodes, it does not crash the node.

import { ClusterError, ClusterErrorCode } from '../../errors.ts';

/** A pod found: its IP, its hostname when it has one, the node port when the resource names it. */
export interface Target {
  ip: string;
  hostname?: string;
  port?: number;
}

export interface TargetOptions {
  includeNotReady: boolean;
  /** The name of the port nodes listen on. */
  portName: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function items(list: unknown, kind: string): Json[] {
  const o = obj(list);
  if (o === undefined || !Array.isArray(o.items)) throw new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `kubernetes: the answer is not a ${kind} (no items): is apiUrl the Kubernetes API?`);
  return o.items.flatMap((i) => {
    const item = obj(i);
    return item === undefined ? [] : [item];
  });
}

function namedPort(ports: unknown, name: string): number | undefined {
  for (const p of arr(ports)) {
    const port = obj(p);
    if (port?.name === name && typeof port.port === 'number') return port.port;
  }
  return undefined;
}

/** EndpointSliceList: `items[].endpoints[]` with `addresses`, `conditions.ready` (absent = ready), `hostname`; `items[].ports[]`. */
export function endpointSliceTargets(list: unknown, options: TargetOptions): Target[] {
  const out: Target[] = [];
  for (const slice of items(list, 'EndpointSliceList')) {
    if (slice.addressType === 'FQDN') continue;
    const port = namedPort(slice.ports, options.portName);
    for (const e of arr(slice.endpoints)) {
      const endpoint = obj(e);
      if (endpoint === undefined) continue;
      const conditions = obj(endpoint.conditions) ?? {};
      const ready = conditions.ready !== false && conditions.terminating !== true;
      if (!ready && !options.includeNotReady) continue;
      const ip = str(arr(endpoint.addresses)[0]);
      if (ip === undefined) continue;
      out.push(target(ip, str(endpoint.hostname), port));
    }
  }
  return out;
}

/** EndpointsList: `items[].subsets[]` with `addresses[]` (ready), `notReadyAddresses[]`, `ports[]`. */
export function endpointsTargets(list: unknown, options: TargetOptions): Target[] {
  const out: Target[] = [];
  for (const endpoints of items(list, 'EndpointsList')) {
    for (const s of arr(endpoints.subsets)) {
      const subset = obj(s);
      if (subset === undefined) continue;
      const port = namedPort(subset.ports, options.portName);
      const addresses = [...arr(subset.addresses), ...(options.includeNotReady ? arr(subset.notReadyAddresses) : [])];
      for (const a of addresses) {
        const address = obj(a);
        const ip = str(address?.ip);
        if (ip !== undefined) out.push(target(ip, str(address?.hostname), port));
      }
    }
  }
  return out;
}

/** PodList: running pods (`status.phase`), ready (`status.conditions` Ready=True), not being deleted; the port from the containers. */
export function podTargets(list: unknown, options: TargetOptions): Target[] {
  const out: Target[] = [];
  for (const pod of items(list, 'PodList')) {
    const status = obj(pod.status) ?? {};
    const metadata = obj(pod.metadata) ?? {};
    const spec = obj(pod.spec) ?? {};
    const ip = str(status.podIP);
    if (ip === undefined || metadata.deletionTimestamp !== undefined) continue;
    const ready = status.phase === 'Running' && arr(status.conditions).some((c) => obj(c)?.type === 'Ready' && obj(c)?.status === 'True');
    if (!ready && !options.includeNotReady) continue;
    let port: number | undefined;
    for (const c of arr(spec.containers)) {
      for (const p of arr(obj(c)?.ports)) {
        const cp = obj(p);
        if (cp?.name === options.portName && typeof cp.containerPort === 'number') port = cp.containerPort;
      }
    }
    out.push(target(ip, str(spec.hostname), port));
  }
  return out;
}

function target(ip: string, hostname: string | undefined, port: number | undefined): Target {
  const t: Target = { ip };
  if (hostname !== undefined) t.hostname = hostname;
  if (port !== undefined) t.port = port;
  return t;
}
