// The cluster as this node sees it: connected nodes, the overlay's members, neighbours, passive
// view and on-demand connections, Plumtree's trees and counters, the topology's epoch and
// switches, and frames this node could not use.

import type { MetricGroup } from './group.ts';
import { counterOnScrape, gaugeOnScrape, perScrape } from './group.ts';

export const clusterMetrics: MetricGroup = {
  name: 'cluster',
  register(registry, node) {
    gaugeOnScrape(registry, 'fdn_cluster_nodes', 'Other nodes this node is connected to.', [], (set) => {
      set({}, node.nodes().length);
    });
    gaugeOnScrape(registry, 'fdn_overlay_members', 'Members of the cluster as the overlay knows them (this node included), by overlay.', ['overlay'], (set) => {
      set({ overlay: node.overlay.kind }, node.overlay.memberCount());
    });
    gaugeOnScrape(registry, 'fdn_overlay_neighbors', 'Neighbours in the overlay (HyParView: the active view), by overlay.', ['overlay'], (set) => {
      set({ overlay: node.overlay.kind }, node.overlay.neighbors().length);
    });
    gaugeOnScrape(registry, 'fdn_overlay_passive_view', 'Nodes in the passive view (HyParView: known, not connected, ready to replace a neighbour), by overlay.', ['overlay'], (set) => {
      const overlay = node.overlay as { passiveView?: () => string[] };
      if (typeof overlay.passiveView === 'function') set({ overlay: node.overlay.kind }, overlay.passiveView().length);
    });
    gaugeOnScrape(registry, 'fdn_overlay_on_demand_connections', 'Connections that are not overlay links (opened to reach a non-neighbour, closed when idle).', [], (set) => {
      set({}, Math.max(0, node.transport.connections().length - node.overlay.neighbors().length));
    });
    const plumtree = perScrape(() => node.broadcastStats());
    gaugeOnScrape(registry, 'fdn_plumtree_eager_peers', "Plumtree: peers this node forwards broadcasts to at once (its own tree's eager push set).", [], (set) => {
      set({}, plumtree().eager);
    });
    gaugeOnScrape(registry, 'fdn_plumtree_lazy_peers', "Plumtree: peers told only by IHAVE announcements (its own tree's lazy set).", [], (set) => {
      set({}, plumtree().lazy);
    });
    const plumtreeCounter = (name: string, help: string, pick: (s: ReturnType<typeof plumtree>) => number): void => {
      counterOnScrape(registry, name, `Plumtree: ${help} (since the current overlay started).`, [], (set) => {
        set({}, pick(plumtree()));
      });
    };
    plumtreeCounter('fdn_plumtree_broadcasts_total', 'broadcasts started here', (p) => p.broadcasts);
    plumtreeCounter('fdn_plumtree_gossip_received_total', 'payload messages received, first copies and duplicates', (p) => p.gossipReceived);
    plumtreeCounter('fdn_plumtree_duplicates_total', 'duplicate payloads received (each prunes a link)', (p) => p.duplicates);
    plumtreeCounter('fdn_plumtree_ihave_messages_total', 'IHAVE messages sent', (p) => p.ihaveMessages);
    plumtreeCounter('fdn_plumtree_grafts_total', 'GRAFTs sent (a missing payload asked for, the link made eager)', (p) => p.grafts);
    plumtreeCounter('fdn_plumtree_prunes_total', 'PRUNEs sent', (p) => p.prunes);
    plumtreeCounter('fdn_plumtree_exchanges_total', 'anti-entropy exchanges', (p) => p.exchanges);
    gaugeOnScrape(registry, 'fdn_topology_epoch', 'Committed topology switches of the cluster (the epoch), labelled with the current topology.', ['topology'], (set) => {
      set({ topology: node.topology }, node.topologyEpoch().epoch);
    });
    gaugeOnScrape(registry, 'fdn_topology_switching', '1 while this node asks for or follows a topology switch.', [], (set) => {
      set({}, node.switching ? 1 : 0);
    });
    counterOnScrape(registry, 'fdn_topology_switches_asked_total', 'Topology switches this node asked for.', [], (set) => {
      set({}, node.topologyHistory().length);
    });
    counterOnScrape(registry, 'fdn_frames_dropped_total', 'Frames from other nodes that could not be decoded or understood (dropped alone; the connection carries on).', [], (set) => {
      set({}, node.framesDropped);
    });
    counterOnScrape(registry, 'fdn_encodes_total', 'Values encoded for other nodes (a broadcast to n nodes counts one).', [], (set) => {
      set({}, node.encodes);
    });
    counterOnScrape(registry, 'fdn_inbound_pauses_total', 'Times this node stopped reading a channel for a turn because its processes had more work than a slice.', [], (set) => {
      set({}, node.inboundPauses);
    });
  },
};
