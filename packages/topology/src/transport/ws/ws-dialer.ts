// The dialling side of the WebSocket transport: opens a socket, says hello, checks the
// acceptor's proof of the cluster secret, proves its own, and binds the socket to its link (the
// control socket makes the link; the others attach to one). Crossing dials (both nodes dialling
// each other at once) resolve to the one link that comes up.

import type { Clock, Logger } from '@fdn/core';
import { WebSocket } from 'ws';
import type { ChannelConfig } from '../../channels/config.ts';
import { CONTROL } from '../../channels/config.ts';
import { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from '../../errors.ts';
import type { NodeIdentity } from '../../node/identity.ts';
import { acceptorProof, dialerProof, makeNonce, PROTOCOL_VERSION, proofsEqual } from '../../wire/handshake.ts';
import type { Challenge, HandshakeMessage, Hello } from '../../wire/handshake.ts';
import type { Link } from '../types.ts';
import { Conn } from './conn.ts';
import type { TlsOptions } from './tls-options.ts';
import type { WsLink } from './ws-link.ts';

/** @internal What the dialling side asks of its transport. */
export interface DialerHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly handshakeTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Sockets in their handshake, both sides (bounded by the listener). */
  readonly handshaking: Set<Conn>;
  self(): NodeIdentity;
  started(): boolean;
  link(name: string): WsLink | undefined;
  awaitLink(wants: (link: WsLink) => boolean): Promise<WsLink | null>;
  onMessages(conn: Conn, onHandshake: (msg: HandshakeMessage) => void): void;
  refuse(conn: Conn, code: number, reason: string): void;
  report(level: 'warn' | 'error', key: string, message: string, fields?: Record<string, unknown>): void;
  onClosed(conn: Conn, code: number, reason: string): void;
  attachControl(conn: Conn): Promise<void>;
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

  /** Dials the control socket of a link to `url`; resolves with the link (ours, or the peer's crossing one). */
  async dialControl(url: string, expectedName: string | undefined): Promise<Link> {
    const conn = await this.#dialSocket(url, CONTROL, 0, expectedName, null);
    // Known when our socket got as far as the challenge, or when we aborted it ourselves.
    const name = conn.crossedWith ?? conn.peer?.name ?? expectedName;
    if (conn.open && name !== undefined) {
      const link = this.host.link(name);
      if (link?.up === true) return link;
    }
    // Our socket lost a crossing (refused before the challenge, the peer's name may be unknown):
    // the link comes up on the socket the peer dialled, which advertises the address we dialled.
    const link = await this.host.awaitLink((l) => (name !== undefined ? l.peer.name === name : l.peer.addresses.includes(url)));
    if (link === null) throw new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: the link to ${name ?? 'the node there'} did not come up`);
    return link;
  }

  /** Our control dial still in its handshake toward the node `name` (reachable at `addresses`), if any. */
  pendingControlDial(name: string, addresses: readonly string[]): Conn | undefined {
    for (const conn of this.host.handshaking) {
      if (conn.role !== 'dialer' || conn.channel !== CONTROL || conn.state !== 'handshake') continue;
      // Our dial goes where that node listens now: a real crossing. A dial to an address it no
      // longer advertises (its previous start's) is no reason to refuse it: that dial will fail.
      if (addresses.length > 0 ? addresses.includes(conn.address) : conn.expectedName === name || conn.peer?.name === name) return conn;
    }
    return undefined;
  }

  /** Opens the socket of one channel slot of `link` (its peer's first address). */
  dialSlot(link: WsLink, channel: string, index: number): void {
    const url = link.peer.addresses[0];
    if (url === undefined || !this.host.started()) {
      link.dialFailed(channel, index);
      return;
    }
    this.#dialSocket(url, channel, index, link.peer.name, link).then(
      (conn) => {
        if (!conn.open) link.dialFailed(channel, index);
      },
      (err: unknown) => {
        this.host.logger.debug(`dial of ${channel}/${index} to ${link.peer.name} failed`, { reason: err });
        link.dialFailed(channel, index);
      },
    );
  }

  /**
   * Opens and authenticates one socket. Resolves with the connection once it is open and bound
   * (or once it lost a crossing: `conn.open` false, `conn.peer` set); rejects if it failed.
   */
  #dialSocket(url: string, channel: string, index: number, expectedName: string | undefined, link: WsLink | null): Promise<Conn> {
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
    const conn = new Conn(ws, 'dialer', this.host.maxMessageBytes, this.host.clock.now(), url);
    conn.dialedBy = this.host.self().name;
    conn.expectedName = expectedName;
    const hello: Hello = {
      t: 'hello',
      v: PROTOCOL_VERSION,
      name: this.host.self().name,
      incarnation: this.host.self().incarnation,
      addresses: [...this.host.self().addresses],
      channel,
      index,
      nonce: makeNonce(),
    };
    conn.hello = hello;
    return new Promise<Conn>((resolve, reject) => {
      let settled = false;
      const finish = (error: TopologyError | null): void => {
        if (settled) return;
        settled = true;
        this.host.clock.clearTimer(timer);
        this.host.handshaking.delete(conn);
        if (error === null) resolve(conn);
        else reject(error);
      };
      const timer = this.host.clock.setTimer(this.host.handshakeTimeoutMs, () => {
        conn.close(CloseCode.HANDSHAKE_TIMEOUT, 'handshake timed out');
        finish(new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: handshake timed out after ${this.host.handshakeTimeoutMs} ms`, { closeCode: CloseCode.HANDSHAKE_TIMEOUT }));
      });
      this.host.handshaking.add(conn);
      let challenge: Challenge | null = null;
      ws.on('open', () => {
        conn.sendText(hello);
      });
      this.host.onMessages(conn, (msg) => {
        if (challenge === null) {
          if (msg.t !== 'challenge') {
            this.host.refuse(conn, CloseCode.PROTOCOL_ERROR, `expected a challenge, got '${msg.t}'`);
            return;
          }
          if (msg.v !== PROTOCOL_VERSION) {
            this.host.refuse(conn, CloseCode.VERSION_MISMATCH, `the node at ${url} speaks protocol ${msg.v}, this node speaks ${PROTOCOL_VERSION}; run the same @fdn version on both`);
            return;
          }
          if (expectedName !== undefined && msg.name !== expectedName) {
            this.host.refuse(conn, CloseCode.WRONG_NODE, `dialled ${expectedName} at ${url} but ${msg.name} answered`);
            return;
          }
          if (msg.name === this.host.self().name) {
            this.host.refuse(conn, CloseCode.DUPLICATE_NAME, `the node at ${url} has this node's own name (${msg.name})`);
            return;
          }
          const expected = acceptorProof(this.options.secret, hello, msg.nonce, msg);
          if (!proofsEqual(msg.proof, expected)) {
            this.host.report('error', `auth:${url}`, `refused the node at ${url}: it does not prove the cluster secret; check that both nodes are configured with the same secret`, { peer: msg.name });
            this.host.refuse(conn, CloseCode.AUTH_FAILED, 'wrong cluster secret');
            return;
          }
          challenge = msg;
          conn.peer = { name: msg.name, incarnation: msg.incarnation, addresses: msg.addresses };
          conn.sendText({ t: 'proof', proof: dialerProof(this.options.secret, hello, msg.nonce, msg) });
          return;
        }
        if (msg.t !== 'welcome') {
          this.host.refuse(conn, CloseCode.PROTOCOL_ERROR, `expected welcome, got '${msg.t}'`);
          return;
        }
        conn.state = 'open';
        this.host.handshaking.delete(conn);
        void this.#bindDialled(conn, link).then(() => {
          finish(null);
        });
      });
      ws.on('close', (code: number, reason: Buffer) => {
        const text = reason.toString();
        const wasOpen = conn.state === 'open';
        conn.state = 'closed';
        this.host.onClosed(conn, code, text);
        if (!wasOpen || !settled) {
          const closeCode = conn.closedWith?.code ?? code;
          if (conn.crossedWith !== undefined || closeCode === CloseCode.CROSSED || (closeCode === CloseCode.REPLACED && conn.peer !== null)) {
            // Lost a crossing: the link comes up on the socket the peer dialled.
            finish(null);
            return;
          }
          const why = conn.closedWith ?? { code, reason: text };
          finish(new TopologyError(why.code === CloseCode.AUTH_FAILED || why.code === CloseCode.VERSION_MISMATCH || why.code === CloseCode.DUPLICATE_NAME || why.code === CloseCode.WRONG_NODE ? TopologyErrorCode.LINK_REFUSED : TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: ${closeCodeName(why.code)}${why.reason === '' ? '' : ` (${why.reason})`}`, { closeCode: why.code }));
        }
      });
      ws.on('error', (err: Error) => {
        this.host.logger.debug(`socket error on ${url}`, { reason: err });
        // We aborted this dial ourselves because the peer's crossing dial won (possibly before our
        // upgrade finished, which ws reports as an error): the link comes up on the peer's socket.
        if (conn.crossedWith !== undefined) {
          finish(null);
          return;
        }
        if (conn.state !== 'open') finish(new TopologyError(TopologyErrorCode.CONNECT_FAILED, `connect to ${url}: ${err.message}${connectHint(url, err)}`, { cause: err }));
      });
    });
  }

  async #bindDialled(conn: Conn, link: WsLink | null): Promise<void> {
    const peer = conn.peer as NodeIdentity;
    if (conn.channel === CONTROL) {
      await this.host.attachControl(conn);
      return;
    }
    const target = link ?? this.host.link(peer.name);
    if (target?.up !== true || target.peer.incarnation !== peer.incarnation) {
      conn.close(CloseCode.NO_LINK, 'the link this socket belonged to is gone');
      return;
    }
    target.attach(conn);
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
