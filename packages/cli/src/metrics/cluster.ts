// The cluster as this node sees it: connected nodes, the overlay's members and neighbours, the
// topology's epoch and switches, and frames this node could not use.

import type { MetricGroup } from './group.ts';
import { counterOnScrape, gaugeOnScrape } from './group.ts';

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
