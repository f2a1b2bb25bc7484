// What the observer page shows, section by section, gathered from the inspectors: the cluster
// (nodes up and down, overlay and on-demand links, RTT), channels, the selected node's processes
// and supervision trees, the topology, ecosystems. A node seen once and gone since stays listed
// as down, so the page can show it go.

import type { NodeSummary, ProcessRow, TreeNode } from '@fdn/distribution';
import type { ChannelMetrics } from '@fdn/topology';
import type { InspectClient } from './client.ts';

/** At most this many nodes are asked about each tick (the observer is for looking, not for a thousand nodes). */
export const MAX_OBSERVED_NODES = 64;

export interface ObservedNode {
  name: string;
  up: boolean;
  /** When the observer last heard from it (ms since the epoch). */
  seenAt: number;
  summary?: NodeSummary;
  neighbors?: string[];
  /** Peers it has a connection to (neighbours and on-demand), with the RTT. */
  connections?: { peer: string; rttMs: number | null }[];
  error?: string;
}

export interface ChannelSample {
  node: string;
  peer: string;
  channel: string;
  m: ChannelMetrics;
}

export type Sections = Record<string, unknown>;

/** Remembers the nodes seen, so the ones gone show as down. One per page client. */
export class ClusterView {
  readonly #seen = new Map<string, ObservedNode>();

  constructor(private readonly client: InspectClient, private readonly now: () => number) {}

  /** The sections for this tick: `cluster` and `channels` always; the selected node's `processes` and `trees`; `topology`; `ecosystems` when asked. */
  async gather(selected: string, withEcosystems: boolean): Promise<Sections> {
    const names = (await this.client.nodes()).slice(0, MAX_OBSERVED_NODES);
    const channels: ChannelSample[] = [];
    await Promise.all(
      names.map(async (name) => {
        const entry: ObservedNode = { name, up: true, seenAt: this.now() };
        try {
          const [summary, topology, links] = await Promise.all([
            this.client.ask<NodeSummary>('node', {}, name),
            this.client.ask<{ neighbors: string[] }>('topology', {}, name),
            this.client.ask<{ peers: { peer: string; rttMs: number | null; channels: Record<string, ChannelMetrics> }[] }>('channels', {}, name),
          ]);
          entry.summary = summary;
          entry.neighbors = topology.neighbors;
          const visible = links.peers.filter((p) => names.includes(p.peer));
          entry.connections = visible.map((p) => ({ peer: p.peer, rttMs: p.rttMs }));
          for (const p of visible) for (const [channel, m] of Object.entries(p.channels)) channels.push({ node: name, peer: p.peer, channel, m });
        } catch (err) {
          entry.error = err instanceof Error ? err.message : String(err);
        }
        this.#seen.set(name, entry);
      }),
    );
    for (const [name, entry] of this.#seen) if (!names.includes(name) && entry.up) this.#seen.set(name, { name, up: false, seenAt: entry.seenAt, error: 'not connected to the cluster any more' });
    const target = names.includes(selected) ? selected : this.client.contact;
    const [processes, trees, topology, ecosystems] = await Promise.all([
      this.client.ask<{ total: number; processes: ProcessRow[] }>('ps', { sort: 'mailbox', top: 500 }, target).catch(errorOf),
      this.client.ask<TreeNode[]>('tree', {}, target).catch(errorOf),
      this.client.ask('topology').catch(errorOf),
      withEcosystems ? Promise.all(names.map((n) => this.client.ask<{ keepers: unknown[] }>('ecosystems', {}, n).then((e) => e.keepers.map((k) => ({ keeperNode: n, ...(k as object) })), () => []))).then((all) => all.flat()) : undefined,
    ]);
    const sections: Sections = {
      cluster: { contact: this.client.contact, nodes: [...this.#seen.values()].sort((a, b) => a.name.localeCompare(b.name)) },
      channels: { at: this.now(), samples: channels },
      processes: { node: target, ...(processes as object) },
      trees: { node: target, trees },
      topology,
    };
    if (ecosystems !== undefined) sections.ecosystems = ecosystems;
    return sections;
  }
}

function errorOf(err: unknown): { error: string } {
  return { error: err instanceof Error ? err.message : String(err) };
}
