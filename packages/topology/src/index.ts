// @fdn/topology: connections and channels between nodes, over WebSockets or a simulated network.

export { BULK, CONTROL, DEFAULT_CHANNEL, resolveChannels } from './channels/config.ts';
export { SEND_LATENCY_BUCKETS_MS } from './channels/outbox.ts';
export type { ChannelConfig, ChannelOptions, Priority, WhenFull } from './channels/config.ts';
export { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from './errors.ts';
export type { CloseCodeValue, TopologyErrorCodeValue } from './errors.ts';
export { addressToUrl, isValidNodeName } from './node/identity.ts';
export type { Address, NodeIdentity } from './node/identity.ts';
export type { ChannelMetrics, Connection, ConnectionDownReason, MessageHandler, SendOptions, SendStatus, Transport, TransportEvents } from './transport/types.ts';
export { createWsTransport, WsTransport } from './transport/ws/ws-transport.ts';
export type { TlsOptions, WsTransportComponents, WsTransportOptions } from './transport/ws/ws-transport.ts';
export { PROTOCOL_VERSION } from './wire/handshake.ts';
export { SimNetwork } from './transport/sim/sim-network.ts';
export type { SimNetworkOptions, SimNodeOptions, SimStats } from './transport/sim/sim-network.ts';
export { SimConnection, SimTransport } from './transport/sim/sim-transport.ts';

// Peer services (overlays) and broadcast.
export type { DownReason, ForwardStatus, JoinStatus, PeerMessageHandler, PeerService, PeerServiceEvents, PeerSpec } from './peer-service/types.ts';
export type { PeerServiceComponents, PeerServiceOptions } from './peer-service/base.ts';
export { FullMesh, fullMesh } from './peer-service/full-mesh/full-mesh.ts';
export type { FullMeshOptions, MemberSpec } from './peer-service/full-mesh/full-mesh.ts';
export { HyParView, hyparview } from './peer-service/hyparview/hyparview.ts';
export type { HyParViewOptions } from './peer-service/hyparview/hyparview.ts';
export { MembershipDirectory } from './peer-service/hyparview/directory.ts';
export type { DirectoryOptions } from './peer-service/hyparview/directory.ts';
export { ClientServer, clientServer } from './peer-service/client-server/client-server.ts';
export type { ClientServerOptions, Role } from './peer-service/client-server/client-server.ts';
export { StaticPeerService, staticMembers } from './peer-service/static/static.ts';
export type { StaticOptions } from './peer-service/static/static.ts';
export { HiddenPeerService, hidden } from './peer-service/hidden/hidden.ts';
export type { HiddenOptions } from './peer-service/hidden/hidden.ts';
export { Plumtree, plumtree } from './broadcast/plumtree.ts';
export type { Exchange, PlumtreeComponents, PlumtreeOptions, PlumtreeStats, TreePeers } from './broadcast/plumtree.ts';
export type { BroadcastHandler, DeliveryInfo } from './broadcast/handler.ts';
export { MessageLog } from './broadcast/message-log.ts';
export type { MessageLogOptions } from './broadcast/message-log.ts';

// Simulation.
export { runInSteps, Simulation } from './sim/simulation.ts';
export type { SimulatedNode, SimulationOptions } from './sim/simulation.ts';
export { graphProperties } from './sim/graph.ts';
export type { Adjacency, GraphProperties } from './sim/graph.ts';
export { PhiAccrual } from './failure/phi-accrual.ts';
export type { PhiAccrualOptions } from './failure/phi-accrual.ts';
