// Connections: per channel and peer, messages and bytes each way, what waits in the send queues,
// drops, send latency (smoothed, and as a histogram); per peer, the round-trip time and φ; per
// channel, at-least-once figures.

import type { NodeChannelMetrics } from '@fdn/distribution';
import { SEND_LATENCY_BUCKETS_MS } from '@fdn/topology';
import type { ChannelMetrics } from '@fdn/topology';
import type { MetricGroup } from './group.ts';
import { gaugeOnScrape, histogramOnScrape, onScrape, perScrape } from './group.ts';

export const channelMetrics: MetricGroup = {
  name: 'channels',
  register(registry, node) {
    const transport = node.transport;
    // Every connection's counters of every channel, read once per scrape for the nine series below.
    const counters = perScrape(() => transport.connections().flatMap((connection) => [...transport.channels.keys()].map((channel) => ({ labels: { channel, peer: connection.peer.name }, m: connection.metrics(channel) }))));
    const perChannel = (name: string, help: string, kind: 'counter' | 'gauge', pick: (m: ChannelMetrics) => number): void => {
      onScrape(kind, registry, name, help, ['channel', 'peer'], (set) => {
        for (const { labels, m } of counters()) set(labels, pick(m));
      });
    };
    perChannel('fdn_channel_messages_sent_total', 'Messages sent on a channel to a peer (this connection).', 'counter', (m) => m.messagesOut);
    perChannel('fdn_channel_sent_bytes_total', 'Bytes sent on a channel to a peer (this connection).', 'counter', (m) => m.bytesOut);
    perChannel('fdn_channel_messages_received_total', 'Messages received on a channel from a peer (this connection).', 'counter', (m) => m.messagesIn);
    perChannel('fdn_channel_received_bytes_total', 'Bytes received on a channel from a peer (this connection).', 'counter', (m) => m.bytesIn);
    perChannel('fdn_channel_dropped_total', 'Messages dropped or refused on a channel to a peer (a full queue, the connection down).', 'counter', (m) => m.dropped);
    perChannel('fdn_channel_queued_messages', 'Messages waiting in a channel\'s send queues to a peer.', 'gauge', (m) => m.queuedMessages);
    perChannel('fdn_channel_queued_bytes', 'Bytes waiting in a channel\'s send queues to a peer.', 'gauge', (m) => m.queuedBytes);
    perChannel('fdn_channel_send_latency_seconds', 'Smoothed time from send until the bytes reached the socket, per channel and peer.', 'gauge', (m) => m.sendLatencyMs / 1000);
    perChannel('fdn_channel_sockets', 'Sockets open for a channel to a peer.', 'gauge', (m) => m.sockets);
    histogramOnScrape(registry, 'fdn_channel_send_wait_seconds', 'For each write of queued messages to a socket, how long its oldest message had waited since send, per channel and peer.', SEND_LATENCY_BUCKETS_MS.map((ms) => ms / 1000), (set) => {
      for (const { labels, m } of counters()) if (m.sendLatency !== undefined) set(labels, m.sendLatency.counts, m.sendLatency.sumMs / 1000);
    });
    gaugeOnScrape(registry, 'fdn_connection_phi', "The failure detector's suspicion of a peer now (φ accrual; the connection is dropped above its threshold, 8 by default).", ['peer'], (set) => {
      for (const connection of transport.connections()) if (connection.phi !== undefined) set({ peer: connection.peer.name }, connection.phi);
    });
    gaugeOnScrape(registry, 'fdn_connection_rtt_seconds', 'Smoothed round-trip time of the control channel\'s pings to a peer.', ['peer'], (set) => {
      for (const connection of transport.connections()) if (connection.rttMs !== undefined) set({ peer: connection.peer.name }, connection.rttMs / 1000);
    });
    const perNodeChannel = perScrape(() => Object.entries(node.getChannelMetrics('all')));
    const reliable = (name: string, help: string, kind: 'counter' | 'gauge', pick: (m: NodeChannelMetrics) => number): void => {
      onScrape(kind, registry, name, help, ['channel'], (set) => {
        for (const [channel, m] of perNodeChannel()) set({ channel }, pick(m));
      });
    };
    reliable('fdn_reliable_unacknowledged_messages', 'At-least-once messages sent and not yet acknowledged, per channel.', 'gauge', (m) => m.unacknowledged);
    reliable('fdn_reliable_resent_total', 'At-least-once messages sent again (on a new connection, or after silence), per channel.', 'counter', (m) => m.resent);
    reliable('fdn_reliable_duplicates_dropped_total', 'At-least-once messages received again and dropped (delivered once already), per channel.', 'counter', (m) => m.duplicatesDropped);
  },
};
