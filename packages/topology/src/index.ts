// @fdn/topology: links and channels between nodes, over WebSockets or a simulated network.

export { BULK, CONTROL, DEFAULT_CHANNEL, resolveChannels } from './channels/config.ts';
export type { ChannelConfig, ChannelOptions, Priority, WhenFull } from './channels/config.ts';
export { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from './errors.ts';
export type { CloseCodeValue, TopologyErrorCodeValue } from './errors.ts';
export { addressToUrl, isValidNodeName } from './node/identity.ts';
export type { Address, NodeIdentity } from './node/identity.ts';
export type { ChannelMetrics, Link, LinkDownReason, MessageHandler, SendOptions, SendStatus, Transport, TransportEvents } from './transport/types.ts';
export { createWsTransport, WsTransport } from './transport/ws/ws-transport.ts';
export type { TlsOptions, WsTransportComponents, WsTransportOptions } from './transport/ws/ws-transport.ts';
export { PROTOCOL_VERSION } from './wire/handshake.ts';
export { SimNetwork } from './transport/sim/sim-network.ts';
export type { SimNetworkOptions, SimNodeOptions, SimStats } from './transport/sim/sim-network.ts';
export { SimLink, SimTransport } from './transport/sim/sim-transport.ts';
