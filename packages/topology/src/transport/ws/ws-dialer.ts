// The dialling side of the WebSocket transport: opens a socket, says hello, checks the
// acceptor's proof of the cluster secret, proves its own, and binds the socket to its connection (the
// control socket makes the connection; the others attach to one). Crossing dials (both nodes dialling
// each other at once) resolve to the one connection that comes up.

import type { Clock, Logger } from '@fdn/core';
import { WebSocket } from 'ws';
import type { ChannelConfig } from '../../channels/config.ts';
import { CONTROL } from '../../channels/config.ts';
import { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from '../../errors.ts';
import type { NodeIdentity } from '../../node/identity.ts';
import { acceptorProof, dialerProof, makeNonce, PROTOCOL_VERSION, proofsEqual } from '../../wire/handshake.ts';
import type { Challenge, HandshakeMessage, Hello } from '../../wire/handshake.ts';
import type { Connection } from '../types.ts';
import { ChannelSocket } from './channel-socket.ts';
import type { TlsOptions } from './tls-options.ts';
import type { WsConnection } from './ws-connection.ts';

/** @internal What the dialling side asks of its transport. */
export interface DialerHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly handshakeTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Sockets in their handshake, both sides (bounded by the listener). */
  readonly handshaking: Set<ChannelSocket>;
  self(): NodeIdentity;
  started(): boolean;
  connection(name: string): WsConnection | undefined;
  awaitConnection(wants: (connection: WsConnection) => boolean): Promise<WsConnection | null>;
  onMessages(sock: ChannelSocket, onHandshake: (msg: HandshakeMessage) => void): void;
  refuse(sock: ChannelSocket, code: number, reason: string): void;
  report(level: 'warn' | 'error', key: string, message: string, fields?: Record<string, unknown>): void;
  onClosed(sock: ChannelSocket, code: number, reason: string): void;
  attachControl(sock: ChannelSocket): Promise<void>;
}

/** @internal How the dialling side is set up. */
export interface DialerOptions {
  secret: Buffer;
  tls: TlsOptions | undefined;
  maxPayload: number;
}

const ZERO_MASK = (mask: Buffer): void => {
  // Node-to-node sockets are authenticated and not behind caching proxies: a zero mask lets ws
  // skip masking (no XOR, no copy of the payload).
  mask.fill(0);
};

/** @internal The transport's dialling side (see the file comment). */
export class Dialer {
  constructor(
    private readonly host: DialerHost,
    private readonly options: DialerOptions,
  ) {}

  /** Dials the control socket of a connection to `url`; resolves with the connection (ours, or the peer's crossing one). */
  async dialControl(url: string, expectedName: string | undefined): Promise<Connection> {
    const sock = await this.#dialSocket(url, CONTROL, 0, expectedName, null);
    // Known when our socket got as far as the challenge, or when we aborted it ourselves.
    const name = sock.crossedWith ?? sock.peer?.name ?? expectedName;
    if (sock.open && name !== undefined) {
      const connection = this.host.connection(name);
      if (connection?.up === true) return connection;
    }
    // Our socket lost a crossing (refused before the challenge, the peer's name may be unknown):
    // the connection comes up on the socket the peer dialled, which advertises the address we dialled.
    const connection = await this.host.awaitConnection((l) => (name !== undefined ? l.peer.name === name : l.peer.addresses.includes(url)));
    if (connection === null) throw new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: the connection to ${name ?? 'the node there'} did not come up`);
    return connection;
  }

  /** Our control dial still in its handshake toward the node `name` (reachable at `addresses`), if any. */
  pendingControlDial(name: string, addresses: readonly string[]): ChannelSocket | undefined {
    for (const sock of this.host.handshaking) {
      if (sock.role !== 'dialer' || sock.channel !== CONTROL || sock.state !== 'handshake') continue;
      // Our dial goes where that node listens now: a real crossing. A dial to an address it no
      // longer advertises (its previous start's) is no reason to refuse it: that dial will fail.
      if (addresses.length > 0 ? addresses.includes(sock.address) : sock.expectedName === name || sock.peer?.name === name) return sock;
    }
    return undefined;
  }

  /** Opens the socket of one channel slot of `connection` (its peer's first address). */
  dialSlot(connection: WsConnection, channel: string, index: number): void {
    const url = connection.peer.addresses[0];
    if (url === undefined || !this.host.started()) {
      connection.dialFailed(channel, index);
      return;
    }
    this.#dialSocket(url, channel, index, connection.peer.name, connection).then(
      (sock) => {
        if (!sock.open) connection.dialFailed(channel, index);
      },
      (err: unknown) => {
        this.host.logger.debug(`dial of ${channel}/${index} to ${connection.peer.name} failed`, { reason: err });
        connection.dialFailed(channel, index);
      },
    );
  }

  /**
   * Opens and authenticates one socket. Resolves with the socket once it is open and bound
   * (or once it lost a crossing: `sock.open` false, `sock.peer` set); rejects if it failed.
   */
  #dialSocket(url: string, channel: string, index: number, expectedName: string | undefined, connection: WsConnection | null): Promise<ChannelSocket> {
    const config = this.host.channels.get(channel) as ChannelConfig;
    const tls = this.options.tls;
    const ws = new WebSocket(`${url}/fdn${config.compression === 'deflate' ? '/z' : ''}`, {
      perMessageDeflate: config.compression === 'deflate',
      maxPayload: this.options.maxPayload,
      generateMask: ZERO_MASK,
      allowSynchronousEvents: true,
      handshakeTimeout: this.host.handshakeTimeoutMs,
      // The dialling side always shows its certificate: a mutual-TLS listener requires it.
      ...(tls === undefined ? {} : { ca: tls.ca, key: tls.key, cert: tls.cert, rejectUnauthorized: tls.rejectUnauthorized ?? true }),
    });
    ws.binaryType = 'fragments';
    const sock = new ChannelSocket(ws, 'dialer', this.host.maxMessageBytes, this.host.clock.now(), url);
    sock.dialedBy = this.host.self().name;
    sock.expectedName = expectedName;
    const hello: Hello = {
      t: 'hello',
      v: PROTOCOL_VERSION,
      name: this.host.self().name,
      incarnation: this.host.self().incarnation,
      addresses: [...this.host.self().addresses],
      channel,
      index,
      nonce: makeNonce(),
      ...(this.host.self().appVersion === undefined ? {} : { app: this.host.self().appVersion }),
    };
    sock.hello = hello;
    return new Promise<ChannelSocket>((resolve, reject) => {
      let settled = false;
      const finish = (error: TopologyError | null): void => {
        if (settled) return;
        settled = true;
        this.host.clock.clearTimer(timer);
        this.host.handshaking.delete(sock);
        if (error === null) resolve(sock);
        else reject(error);
      };
      const timer = this.host.clock.setTimer(this.host.handshakeTimeoutMs, () => {
        sock.close(CloseCode.HANDSHAKE_TIMEOUT, 'handshake timed out');
        finish(new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: handshake timed out after ${this.host.handshakeTimeoutMs} ms`, { closeCode: CloseCode.HANDSHAKE_TIMEOUT }));
      });
      this.host.handshaking.add(sock);
      let challenge: Challenge | null = null;
      ws.on('open', () => {
        sock.sendText(hello);
      });
      this.host.onMessages(sock, (msg) => {
        if (challenge === null) {
          if (msg.t !== 'challenge') {
            this.host.refuse(sock, CloseCode.PROTOCOL_ERROR, `expected a challenge, got '${msg.t}'`);
            return;
          }
          if (msg.v !== PROTOCOL_VERSION) {
            this.host.refuse(sock, CloseCode.VERSION_MISMATCH, `the node at ${url} speaks protocol ${msg.v}, this node speaks ${PROTOCOL_VERSION}; run the same @fdn version on both`);
            return;
          }
          if (expectedName !== undefined && msg.name !== expectedName) {
            this.host.refuse(sock, CloseCode.WRONG_NODE, `dialled ${expectedName} at ${url} but ${msg.name} answered`);
            return;
          }
          if (msg.name === this.host.self().name) {
            this.host.refuse(sock, CloseCode.DUPLICATE_NAME, `the node at ${url} has this node's own name (${msg.name})`);
            return;
          }
          const expected = acceptorProof(this.options.secret, hello, msg.nonce, msg);
          if (!proofsEqual(msg.proof, expected)) {
            this.host.report('error', `auth:${url}`, `refused the node at ${url}: it does not prove the cluster secret; check that both nodes are configured with the same secret`, { peer: msg.name });
            this.host.refuse(sock, CloseCode.AUTH_FAILED, 'wrong cluster secret');
            return;
          }
          challenge = msg;
          sock.peer = { name: msg.name, incarnation: msg.incarnation, addresses: msg.addresses, ...(msg.app === undefined ? {} : { appVersion: msg.app }) };
          sock.sendText({ t: 'proof', proof: dialerProof(this.options.secret, hello, msg.nonce, msg) });
          return;
        }
        if (msg.t !== 'welcome') {
          this.host.refuse(sock, CloseCode.PROTOCOL_ERROR, `expected welcome, got '${msg.t}'`);
          return;
        }
        sock.state = 'open';
        this.host.handshaking.delete(sock);
        void this.#bindDialled(sock, connection).then(() => {
          finish(null);
        });
      });
      ws.on('close', (code: number, reason: Buffer) => {
        const text = reason.toString();
        const wasOpen = sock.state === 'open';
        sock.state = 'closed';
        this.host.onClosed(sock, code, text);
        if (!wasOpen || !settled) {
          const closeCode = sock.closedWith?.code ?? code;
          if (sock.crossedWith !== undefined || closeCode === CloseCode.CROSSED || (closeCode === CloseCode.REPLACED && sock.peer !== null)) {
            // Lost a crossing: the connection comes up on the socket the peer dialled.
            finish(null);
            return;
          }
          const why = sock.closedWith ?? { code, reason: text };
          finish(new TopologyError(why.code === CloseCode.AUTH_FAILED || why.code === CloseCode.VERSION_MISMATCH || why.code === CloseCode.DUPLICATE_NAME || why.code === CloseCode.WRONG_NODE ? TopologyErrorCode.CONNECTION_REFUSED : TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: ${closeCodeName(why.code)}${why.reason === '' ? '' : ` (${why.reason})`}`, { closeCode: why.code }));
        }
      });
      ws.on('error', (err: Error) => {
        this.host.logger.debug(`socket error on ${url}`, { reason: err });
        // We aborted this dial ourselves because the peer's crossing dial won (possibly before our
        // upgrade finished, which ws reports as an error): the connection comes up on the peer's socket.
        if (sock.crossedWith !== undefined) {
          finish(null);
          return;
        }
        if (sock.state !== 'open') finish(new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: ${err.message}${connectHint(url, err)}`, { cause: err }));
      });
    });
  }

  async #bindDialled(sock: ChannelSocket, connection: WsConnection | null): Promise<void> {
    const peer = sock.peer as NodeIdentity;
    if (sock.channel === CONTROL) {
      await this.host.attachControl(sock);
      return;
    }
    const target = connection ?? this.host.connection(peer.name);
    if (target?.up !== true || target.peer.incarnation !== peer.incarnation) {
      sock.close(CloseCode.NO_CONNECTION, 'the connection this socket belonged to is gone');
      return;
    }
    target.attach(sock);
  }
}

/** What a dial failure usually means, for the message. */
function connectHint(url: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return ' (nothing listens there: is the node running, and is the port right?)';
  if (url.startsWith('ws://') && (err.message.includes('socket hang up') || err.code === 'ECONNRESET')) return ' (the node there may use TLS: try wss://, and give this node the cluster\'s tls options)';
  if (url.startsWith('wss://') && /certificate|self.signed|SSL|TLS/i.test(err.message)) return ' (its certificate is not trusted: give this node the cluster CA as tls.ca)';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return ' (the host name does not resolve)';
  return '';
}
