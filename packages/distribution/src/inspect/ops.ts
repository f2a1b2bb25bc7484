// The inspector's built-in ops: what a node says about itself. Each takes its arguments from the
// network, so each checks them; each answers plain data (pids travel as pids).

import { GenServer, isPid, Pid, Supervisor } from '@fdn/actors';
import type { ChildInfo, ProcessInfo } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { Node } from '../node/node.ts';
import type { TopologyName } from '../switching/topologies.ts';
import type { InspectOp } from './op.ts';

/** One row of `ps`. */
export interface ProcessRow {
  pid: Pid;
  name: string | null;
  behaviour: string | null;
  status: ProcessInfo['status'];
  mailbox: number;
  memory: number;
  reductions: number;
  links: number;
  monitors: number;
}

/** What `node` answers. */
export interface NodeSummary {
  name: string;
  addresses: readonly string[];
  appVersion: string | null;
  topology: string;
  epoch: number;
  nodes: string[];
  leaving: boolean;
  processes: number;
  runQueue: number;
  reductions: number;
  rssBytes: number;
  heapUsedBytes: number;
  uptimeSeconds: number;
}

/** A supervisor and what it supervises, as `tree` answers. */
export interface TreeNode {
  pid: Pid;
  name: string | null;
  behaviour: string | null;
  /** The child id under its supervisor (roots: null). */
  id: string | null;
  /** `worker` or `supervisor`, or null for a root. */
  type: string | null;
  /** A child being restarted has no pid yet. */
  restarting?: boolean;
  children: TreeNode[];
}

export const SORT_KEYS = ['mailbox', 'memory', 'reductions'] as const;
const MAX_TREE_NODES = 10_000;
const MAX_TREE_DEPTH = 32;

function bad(message: string): DistributionError {
  return new DistributionError(DistributionErrorCode.BAD_ARGUMENT, message);
}

/** A pid argument: a Pid, or its printed form `<node.id.incarnation>` (the node's name may hold dots). */
export function pidArgument(node: Node, value: unknown): Pid {
  if (isPid(value)) return value;
  const m = typeof value === 'string' ? /^<(.+)\.(\d+)\.(\d+)>$/.exec(value.trim()) : null;
  if (m === null) throw bad(`expected a pid such as <${node.name}.42.1>, got ${JSON.stringify(value)}`);
  return node.runtime.pidFor(m[1] as string, Number(m[2]), Number(m[3]));
}

function row(info: ProcessInfo): ProcessRow {
  return {
    pid: info.pid,
    name: info.registeredName ?? null,
    behaviour: info.behaviour ?? null,
    status: info.status,
    mailbox: info.messageQueueLen,
    memory: info.memory,
    reductions: info.reductions,
    links: info.links.length,
    monitors: info.monitors.length,
  };
}

/** Every live process's info (those that exit meanwhile are skipped). */
function infos(node: Node): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const pid of node.runtime.processes()) {
    const info = node.runtime.processInfo(pid);
    if (info !== undefined) out.push(info);
  }
  return out;
}

const summary: InspectOp = (node): NodeSummary => {
  const epoch = node.topologyEpoch();
  const memory = process.memoryUsage();
  return {
    name: node.name,
    addresses: node.addresses,
    appVersion: node.appVersion ?? null,
    topology: epoch.topology,
    epoch: epoch.epoch,
    nodes: node.nodes(),
    leaving: node.isLeaving(node.name),
    processes: node.runtime.processCount,
    runQueue: node.runtime.runQueueLength,
    reductions: node.runtime.reductions,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    uptimeSeconds: Math.round(process.uptime()),
  };
};

/** Processes, sorted (`mailbox`, `memory`, `reductions`, descending) and cut to `top`. */
const ps: InspectOp = (node, args) => {
  const sort = args.sort ?? 'mailbox';
  if (typeof sort !== 'string' || !(SORT_KEYS as readonly string[]).includes(sort)) throw bad(`sort by one of ${SORT_KEYS.join(', ')}`);
  const top = args.top ?? 20;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > 100_000) throw bad('top is a whole number from 1 to 100,000');
  const key = sort as (typeof SORT_KEYS)[number];
  const rows = infos(node).map(row);
  rows.sort((a, b) => b[key] - a[key] || a.pid.id - b.pid.id);
  return { total: rows.length, processes: rows.slice(0, top) };
};

/** One process (`pid`, or `name` registered on this node) in detail, with its state as its behaviour formats it (asked with `getState`, 1 s). */
const info: InspectOp = async (node, args, ctx) => {
  const pid = typeof args.name === 'string' ? node.runtime.whereis(args.name) : pidArgument(node, args.pid);
  if (pid === undefined) throw bad(`no process is registered as '${String(args.name)}' on ${node.name}`);
  if (pid.node !== node.name) throw bad(`${String(pid)} lives on ${pid.node}, not ${node.name}: ask that node`);
  const found = node.runtime.processInfo(pid);
  if (found === undefined) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `${String(pid)} is not alive`);
  let state: unknown = null;
  if (found.behaviour === 'GenServer' || found.behaviour === 'Supervisor' || found.behaviour === 'StateMachine') {
    state = await GenServer.getState(ctx, pid, 1_000).then(
      (s) => describeValue(s),
      (err: unknown) => `(no state: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return { ...found, state };
};

/** A value as text an operator can read, bounded (a state can be large). */
function describeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_k, v: unknown): unknown => (typeof v === 'bigint' ? `${String(v)}n` : v instanceof Map ? Object.fromEntries(v as Map<unknown, unknown>) : v instanceof Set ? [...(v as Set<unknown>)] : v));
  } catch {
    text = String(value);
  }
  text ??= String(value);
  return text.length > 4_000 ? `${text.slice(0, 4_000)}… (${String(text.length)} characters)` : text;
}

/** The supervision trees rooted here: supervisors whose parent is no supervisor of this node. */
const tree: InspectOp = async (node, _args, ctx) => {
  const all = infos(node);
  const supervisors = new Set(all.filter((i) => i.behaviour === 'Supervisor').map((i) => i.pid));
  const roots = all.filter((i) => i.behaviour === 'Supervisor' && (i.parent === undefined || !supervisors.has(i.parent)));
  let budget = MAX_TREE_NODES;
  const walk = async (pid: Pid, depth: number, child: ChildInfo | null): Promise<TreeNode> => {
    budget--;
    const i = node.runtime.processInfo(pid);
    const here: TreeNode = { pid, name: i?.registeredName ?? null, behaviour: i?.behaviour ?? null, id: child?.id ?? null, type: child?.type ?? null, children: [] };
    if (i?.behaviour !== 'Supervisor' || depth >= MAX_TREE_DEPTH) return here;
    // In start order (which_children lists the newest first, as OTP's does).
    const children = (await Supervisor.whichChildren(ctx, pid).catch(() => [] as ChildInfo[])).reverse();
    for (const c of children) {
      if (budget <= 0) break;
      if (c.pid instanceof Pid) here.children.push(await walk(c.pid, depth + 1, c));
      else if (c.pid === 'restarting') here.children.push({ pid, name: null, behaviour: null, id: c.id, type: c.type, restarting: true, children: [] });
    }
    return here;
  };
  const out: TreeNode[] = [];
  for (const r of roots) if (budget > 0) out.push(await walk(r.pid, 0, null));
  return out;
};

/** Sends an exit signal (default `kill`) to a process of this node. */
const kill: InspectOp = (node, args) => {
  const pid = pidArgument(node, args.pid);
  if (pid.node !== node.name) throw bad(`${String(pid)} lives on ${pid.node}, not ${node.name}`);
  const reason = args.reason ?? 'kill';
  if (typeof reason !== 'string' || reason.length > 200) throw bad('an exit reason is a string (default kill)');
  if (!node.runtime.isAlive(pid)) throw bad(`${String(pid)} is not alive`);
  node.runtime.exit(pid, reason);
  return { pid, reason };
};

/** Per channel (summed) and per channel and peer: messages, bytes, queues, drops, latency; per peer the RTT. */
const channels: InspectOp = (node) => {
  const transport = node.transport;
  const peers = transport.connections().map((connection) => ({
    peer: connection.peer.name,
    rttMs: connection.rttMs ?? null,
    channels: Object.fromEntries([...transport.channels.keys()].map((c) => [c, connection.metrics(c)])),
  }));
  return { channels: node.getChannelMetrics('all'), peers };
};

/** The overlay: topology, epoch, members, neighbours, switch history and state. */
const topology: InspectOp = (node) => ({
  ...node.topologyEpoch(),
  members: node.overlay.members(),
  neighbors: node.overlay.neighbors(),
  switchState: node.switchState,
  history: node.topologyHistory(),
});

/** Switches the cluster's overlay (asked by this node); answers the switch's result. */
const switchTopology: InspectOp = async (node, args) => {
  if (typeof args.to !== 'string') throw bad('switch needs { to: fullMesh | hyparview | clientServer | static | pubSub }');
  return node.switchTopology(args.to as TopologyName, { reason: typeof args.reason === 'string' ? args.reason.slice(0, 200) : 'asked by an operator' });
};

export const BUILT_IN_OPS: Readonly<Record<string, InspectOp>> = { node: summary, ps, info, tree, kill, channels, topology, switch: switchTopology };
