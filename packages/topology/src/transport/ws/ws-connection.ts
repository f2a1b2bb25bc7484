// A connection to one peer over WebSockets: one authenticated socket per (channel, socket index),
// opened on first use; the control socket carries heartbeats and decides the connection's life.
//
// One socket per slot. Channel sockets are only ever dialled by one side of the pair (the node with
// the smaller name when both listen, else the one that can dial); the other side asks with
// DIAL_ME. Control sockets can cross (both nodes connect at once); the transport settles that
// during the handshake. Should two sockets still end up open for one slot, both nodes keep the one
// dialled by the smaller name (crossing) or the newer one (the same node dialled again) and close
// the other with CROSSED or REPLACED: the same rule on both sides, so they agree without talking.

import { PhiAccrual } from '../../failure/phi-accrual.ts';
import type { PhiAccrualOptions } from '../../failure/phi-accrual.ts';
import type { Clock, Logger, TimerHandle } from '@fdn/core';
import type { ChannelConfig } from '../../channels/config.ts';
import { CONTROL } from '../../channels/config.ts';
import { Outbox, SEND_LATENCY_BUCKETS_MS } from '../../channels/outbox.ts';
import type { WriteScheduler } from '../../channels/outbox.ts';
import { CloseCode, closeCodeName, TopologyError, TopologyErrorCode } from '../../errors.ts';
import type { NodeIdentity } from '../../node/identity.ts';
import type { ChannelMetrics, Connection, ConnectionDownReason, MessageHandler, SendOptions, SendStatus } from '../types.ts';
import { decodeData, encodeDialMe, encodePing, Frame, PER_MESSAGE_OVERHEAD } from '../../wire/frames.ts';
import type { ChannelSocket } from './channel-socket.ts';

/** What a connection needs from its transport. */
export interface ConnectionHost {
  readonly self: NodeIdentity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scheduler: WriteScheduler;
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** φ accrual options, or false for the idle timeout alone. */
  readonly failureDetector: PhiAccrualOptions | false;
  readonly handshakeTimeoutMs: number;
  readonly maxMessageBytes: number;
  handlerFor(channel: string): MessageHandler | undefined;
  /** Opens socket `index` of `channel` to the connection's peer. */
  dial(connection: WsConnection, channel: string, index: number): void;
  /** The connection went down (called once). */
  connectionDown(connection: WsConnection, reason: ConnectionDownReason): void;
}

/** One socket slot: its send queue and its socket. */
class Slot {
  sock: ChannelSocket | null = null;
  dialing = false;
  askedPeer = false;
  retryMs = 100;
  retryTimer: TimerHandle | null = null;
  messagesIn = 0;
  bytesIn = 0;
  constructor(
    readonly channel: string,
    readonly index: number,
    readonly outbox: Outbox,
  ) {}
}

const RTT_WEIGHT = 0.2;

/** One connection to a peer over WebSockets (made by WsTransport; not constructed by users). */
// Not `implements ConnHandler`: it is one structurally, and the clause would put the socket types
// (ws's) into the published declarations.
export class WsConnection implements Connection {
  state: 'up' | 'switching' | 'down' = 'up';
  readonly #slots = new Map<string, Slot[]>();
  readonly #paused = new Set<string>();
  #rtt: number | undefined = undefined;
  #lastHeard: number;
  /** Suspicion from the peer's heartbeats; null when the transport uses the plain idle timeout only. */
  readonly #detector: PhiAccrual | null;
  #pingId = 0;
  #pingTimer: TimerHandle | null = null;
  #graceTimer: TimerHandle | null = null;
  #probe: { id: number; resolve: (alive: boolean) => void } | null = null;

  constructor(
    readonly peer: NodeIdentity,
    readonly host: ConnectionHost,
  ) {
    this.#lastHeard = host.clock.now();
    this.#detector = host.failureDetector === false ? null : new PhiAccrual({ firstIntervalMs: host.pingIntervalMs, ...host.failureDetector });
    this.#schedulePing();
  }

  get up(): boolean {
    return this.state !== 'down';
  }

  get rttMs(): number | undefined {
    return this.#rtt;
  }

  get phi(): number | undefined {
    if (this.#detector === null || this.state === 'down') return undefined;
    const phi = this.#detector.phiAfter(this.host.clock.now() - this.#lastHeard);
    return Number.isFinite(phi) ? phi : undefined;
  }

  /** The smaller of the two node names: sockets it dialled win crossings. */
  get #minName(): string {
    return this.host.self.name < this.peer.name ? this.host.self.name : this.peer.name;
  }

  // ==== Sending ====

  send(channel: string, payload: Uint8Array, options?: SendOptions): SendStatus {
    if (payload.length > this.host.maxMessageBytes) {
      throw new TopologyError(TopologyErrorCode.MESSAGE_TOO_LARGE, `a message of ${payload.length} bytes exceeds the maximum of ${this.host.maxMessageBytes} (maxMessageBytes)`);
    }
    if (this.state === 'down') return 'dropped';
    const slots = this.#slotsOf(channel);
    const key = options?.partitionKey ?? 0;
    const slot = slots.length === 1 ? (slots[0] as Slot) : (slots[Math.abs(key) % slots.length] as Slot);
    return slot.outbox.enqueue(payload, options?.key);
  }

  whenWritable(channel: string, partitionKey = 0): Promise<void> {
    if (this.state === 'down') return Promise.resolve();
    const slots = this.#slotsOf(channel);
    return (slots[Math.abs(partitionKey) % slots.length] as Slot).outbox.whenWritable();
  }

  #slotsOf(channel: string): Slot[] {
    let slots = this.#slots.get(channel);
    if (slots === undefined) {
      const config = this.host.channels.get(channel);
      if (config === undefined) {
        throw new TopologyError(TopologyErrorCode.UNKNOWN_CHANNEL, `unknown channel '${channel}'; configured: ${[...this.host.channels.keys()].join(', ')}`);
      }
      slots = [];
      for (let i = 0; i < config.parallelism; i++) {
        const index = i;
        const slot: Slot = new Slot(
          channel,
          index,
          new Outbox(config, this.host.clock, this.host.scheduler, () => {
            this.#wantSocket(slot);
          }),
        );
        slots.push(slot);
      }
      this.#slots.set(channel, slots);
    }
    return slots;
  }

  #slot(channel: string, index: number): Slot | undefined {
    return this.#slotsOf(channel)[index];
  }

  /** Whether this node dials the channel sockets of this connection (see the file comment). */
  get #dialsChannels(): boolean {
    const canDial = this.peer.addresses.length > 0;
    const peerCanDial = this.host.self.addresses.length > 0;
    return canDial && (!peerCanDial || this.host.self.name < this.peer.name);
  }

  /** An outbox has data and no socket: dial, or ask the peer to dial. */
  #wantSocket(slot: Slot): void {
    if (this.state === 'down' || slot.sock !== null || slot.dialing || slot.retryTimer !== null) return;
    if (this.#dialsChannels) {
      slot.dialing = true;
      this.host.dial(this, slot.channel, slot.index);
    } else if (!slot.askedPeer) {
      const control = this.#slot(CONTROL, 0)?.sock;
      if (control?.open === true) {
        slot.askedPeer = true;
        control.write(encodeDialMe(slot.channel, slot.index), NOOP);
        // The request, or the peer's dial, can be lost (a control socket replaced in a crossing, a
        // dial that fails: the peer has nothing of its own to send on this slot and would not retry).
        // Ask again, with backoff (from 1 s: a dial takes a moment), until the socket comes.
        const delay = Math.max(1_000, slot.retryMs);
        slot.retryMs = Math.min(slot.retryMs * 2, 5_000);
        slot.retryTimer = this.host.clock.setTimer(delay, () => {
          slot.retryTimer = null;
          slot.askedPeer = false;
          if (slot.sock === null && slot.outbox.queuedMessages > 0) this.#wantSocket(slot);
        });
      }
    }
  }

  /** The transport's dial for a slot ended without a socket: retry with backoff while there is data. */
  dialFailed(channel: string, index: number): void {
    const slot = this.#slot(channel, index);
    if (slot === undefined) return;
    slot.dialing = false;
    if (this.state === 'down' || slot.sock !== null || slot.outbox.queuedMessages === 0) return;
    const delay = slot.retryMs;
    slot.retryMs = Math.min(slot.retryMs * 2, 5_000);
    slot.retryTimer = this.host.clock.setTimer(delay, () => {
      slot.retryTimer = null;
      this.#wantSocket(slot);
    });
  }

  // ==== Sockets ====

  /**
   * @internal Binds an authenticated socket to its slot, resolving a second socket for the same slot by the
   * rule above. Returns whether `sock` was kept (if not, it has been closed).
   */
  attach(sock: ChannelSocket): boolean {
    const slot = this.#slot(sock.channel, sock.index);
    if (slot === undefined || this.state === 'down') {
      sock.close(CloseCode.NO_CONNECTION, 'no such socket slot');
      return false;
    }
    slot.dialing = false;
    const current = slot.sock;
    if (current?.open !== true) {
      this.#bind(slot, sock);
      return true;
    }
    const crossed = current.dialedBy !== sock.dialedBy;
    const winner = crossed ? (current.dialedBy === this.#minName ? current : sock) : sock;
    const loser = winner === sock ? current : sock;
    loser.close(crossed ? CloseCode.CROSSED : CloseCode.REPLACED, crossed ? `both nodes dialled; keeping the socket ${this.#minName} dialled` : 'replaced by a newer socket from the same node');
    if (winner === sock) this.#bind(slot, sock);
    return winner === sock;
  }

  #bind(slot: Slot, sock: ChannelSocket): void {
    if (slot.sock !== null) slot.outbox.detach();
    slot.sock = sock;
    slot.askedPeer = false;
    slot.retryMs = 100;
    if (slot.retryTimer !== null) {
      this.host.clock.clearTimer(slot.retryTimer);
      slot.retryTimer = null;
    }
    sock.handler = this;
    sock.yieldAfterChunk = slot.outbox.config.priority === 'low';
    if (this.#paused.has(slot.channel)) {
      sock.userPaused = true;
      sock.ws.pause();
    }
    slot.outbox.sink = sock;
    if (slot.outbox.queuedMessages > 0) this.host.scheduler.schedule(slot.outbox);
    if (slot.channel === CONTROL) {
      if (this.state === 'switching') {
        this.state = 'up';
        if (this.#graceTimer !== null) this.host.clock.clearTimer(this.#graceTimer);
        this.#graceTimer = null;
      }
      // Requests to dial that could not be sent without a control socket (or went out on one that
      // is gone) go out now.
      for (const slots of this.#slots.values()) {
        for (const s of slots) {
          if (s.sock !== null || s.outbox.queuedMessages === 0) continue;
          if (s.askedPeer && s.retryTimer !== null) {
            this.host.clock.clearTimer(s.retryTimer);
            s.retryTimer = null;
          }
          s.askedPeer = false;
          this.#wantSocket(s);
        }
      }
    }
  }

  /** @internal A socket of this connection closed. */
  connClosed(sock: ChannelSocket, code: number, reason: string): void {
    if (this.state === 'down') return;
    const slot = this.#slots.get(sock.channel)?.[sock.index];
    if (slot?.sock !== sock) return;
    slot.sock = null;
    slot.outbox.detach();
    if (sock.channel !== CONTROL) {
      if (code === CloseCode.MESSAGE_TOO_LARGE) {
        const size = slot.outbox.dropCurrent();
        this.host.logger.error(`${this.peer.name} refused a message of ${size} bytes on '${sock.channel}' as too large; it was dropped (align maxMessageBytes across the cluster)`);
      }
      if (slot.outbox.queuedMessages > 0) this.#wantSocket(slot);
      return;
    }
    const ours = sock.closedWith;
    if (ours === null && (code === CloseCode.CROSSED || code === CloseCode.REPLACED)) {
      // The peer keeps another socket for this connection: wait for it rather than dropping the connection.
      this.state = 'switching';
      this.#graceTimer = this.host.clock.setTimer(this.host.handshakeTimeoutMs, () => {
        this.#graceTimer = null;
        if (this.state === 'switching') this.down({ kind: 'lost', closeCode: code, message: 'the replacement control socket never arrived' });
      });
      return;
    }
    this.down(downReason(ours, code, reason));
  }

  // ==== ConnHandler: what open sockets deliver (internal: sockets are the transport's) ====

  /** @internal */
  onMessage(sock: ChannelSocket, payload: Buffer): void {
    const slot = this.#slots.get(sock.channel)?.[sock.index];
    if (slot !== undefined) {
      slot.messagesIn++;
      slot.bytesIn += payload.length;
    }
    this.#deliver(sock, this.host.handlerFor(sock.channel), payload);
  }

  /** @internal */
  onData(sock: ChannelSocket, frame: Buffer): string | null {
    // The slot and the handler once per frame, not once per message of it.
    const slot = this.#slots.get(sock.channel)?.[sock.index];
    const handler = this.host.handlerFor(sock.channel);
    let count = 0;
    const error = decodeData(frame, (payload) => {
      count++;
      this.#deliver(sock, handler, payload);
    });
    if (slot !== undefined) {
      slot.messagesIn += count;
      slot.bytesIn += frame.length - 1 - count * PER_MESSAGE_OVERHEAD;
    }
    return error;
  }

  #deliver(sock: ChannelSocket, handler: MessageHandler | undefined, payload: Buffer): void {
    if (handler === undefined) return;
    try {
      handler(this, payload);
    } catch (err) {
      this.host.logger.error(`message handler of channel '${sock.channel}' threw`, { peer: this.peer.name, reason: err });
    }
  }


  /** @internal */
  onPing(sock: ChannelSocket, id: number, sentAt: number): void {
    // The peer's pings are its heartbeats (one per ping interval).
    this.#detector?.heartbeat(this.host.clock.now());
    sock.write(encodePing(Frame.PONG, id, sentAt), NOOP);
  }

  /** @internal */
  onPong(_conn: ChannelSocket, id: number, sentAt: number): void {
    const sample = this.host.clock.now() - sentAt;
    if (sample >= 0) this.#rtt = this.#rtt === undefined ? sample : this.#rtt + RTT_WEIGHT * (sample - this.#rtt);
    if (this.#probe?.id === id) {
      this.#probe.resolve(true);
      this.#probe = null;
    }
  }

  /** @internal */
  onDialMe(_conn: ChannelSocket, channel: string, index: number): void {
    const config = this.host.channels.get(channel);
    if (config === undefined || index >= config.parallelism || this.peer.addresses.length === 0) return;
    const slot = this.#slot(channel, index);
    if (slot?.sock !== null || slot.dialing) return;
    slot.dialing = true;
    this.host.dial(this, channel, index);
  }

  onActivity(): void {
    this.#lastHeard = this.host.clock.now();
  }

  // ==== Heartbeats ====

  #schedulePing(): void {
    this.#pingTimer = this.host.clock.setTimer(this.host.pingIntervalMs, () => {
      this.#pingTimer = null;
      if (this.state === 'down') return;
      const now = this.host.clock.now();
      // Anything heard counts as alive; φ measures the silence since then against the heartbeats' rhythm.
      const detector = this.#detector;
      if (detector !== null && now - this.#lastHeard > this.host.pingIntervalMs) {
        const phi = detector.phiAfter(now - this.#lastHeard);
        if (phi > detector.threshold) {
          const silent = Math.round(now - this.#lastHeard);
          this.#slot(CONTROL, 0)?.sock?.close(CloseCode.IDLE_TIMEOUT, `suspected: nothing heard for ${String(silent)} ms (φ ${phi.toFixed(1)})`);
          this.down({ kind: 'idle_timeout', closeCode: CloseCode.IDLE_TIMEOUT, message: `${this.peer.name} suspected by the failure detector: nothing heard for ${String(silent)} ms (φ ${phi.toFixed(1)} > ${String(detector.threshold)})` });
          return;
        }
      }
      if (now - this.#lastHeard > this.host.idleTimeoutMs) {
        const control = this.#slot(CONTROL, 0)?.sock;
        control?.close(CloseCode.IDLE_TIMEOUT, `nothing heard for ${Math.round(now - this.#lastHeard)} ms`);
        this.down({ kind: 'idle_timeout', closeCode: CloseCode.IDLE_TIMEOUT, message: `nothing heard from ${this.peer.name} for ${Math.round(now - this.#lastHeard)} ms` });
        return;
      }
      this.ping();
      this.#schedulePing();
    });
  }

  /** Sends a ping on the control socket; returns its id. */
  ping(): number {
    const id = ++this.#pingId;
    this.#slot(CONTROL, 0)?.sock?.write(encodePing(Frame.PING, id, this.host.clock.now()), NOOP);
    return id;
  }

  /** Resolves true if the peer answers a ping within `timeoutMs` (used before accepting a same-named node). */
  probe(timeoutMs: number): Promise<boolean> {
    if (this.state === 'down' || this.#slot(CONTROL, 0)?.sock?.open !== true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = this.host.clock.setTimer(timeoutMs, () => {
        if (this.#probe?.resolve === done) this.#probe = null;
        resolve(false);
      });
      const done = (alive: boolean): void => {
        this.host.clock.clearTimer(timer);
        resolve(alive);
      };
      this.#probe = { id: this.ping(), resolve: done };
    });
  }

  // ==== Flow control and metrics ====

  pause(channel: string): void {
    this.#slotsOf(channel);
    this.#paused.add(channel);
    for (const slot of this.#slots.get(channel) ?? []) {
      if (slot.sock === null) continue;
      slot.sock.userPaused = true;
      slot.sock.ws.pause();
    }
  }

  resume(channel: string): void {
    this.#paused.delete(channel);
    for (const slot of this.#slots.get(channel) ?? []) {
      if (slot.sock === null) continue;
      slot.sock.userPaused = false;
      slot.sock.ws.resume();
    }
  }

  metrics(channel: string): ChannelMetrics {
    const m: ChannelMetrics = {
      channel,
      messagesOut: 0,
      bytesOut: 0,
      messagesIn: 0,
      bytesIn: 0,
      queuedMessages: 0,
      queuedBytes: 0,
      dropped: 0,
      sendLatencyMs: 0,
      sockets: 0,
      sendLatency: { counts: new Array<number>(SEND_LATENCY_BUCKETS_MS.length + 1).fill(0), sumMs: 0 },
    };
    const latency = m.sendLatency as { counts: number[]; sumMs: number };
    const slots = this.#slotsOf(channel);
    for (const s of slots) {
      const o = s.outbox;
      m.messagesOut += o.messagesOut;
      m.bytesOut += o.bytesOut;
      m.messagesIn += s.messagesIn;
      m.bytesIn += s.bytesIn;
      m.queuedMessages += o.queuedMessages;
      m.queuedBytes += o.queuedBytes;
      m.dropped += o.dropped;
      m.sendLatencyMs = Math.max(m.sendLatencyMs, o.sendLatencyMs);
      for (let i = 0; i < latency.counts.length; i++) (latency.counts[i] as number) += o.latencyCounts[i] as number;
      latency.sumMs += o.latencySumMs;
      if (s.sock?.open === true) m.sockets++;
    }
    return m;
  }

  /** Channels this connection has used. */
  channelNames(): string[] {
    return [...this.#slots.keys()];
  }

  // ==== Closing ====

  close(message = 'closed by this node', code: number = CloseCode.CLOSED_BY_PEER): void {
    if (this.state === 'down') return;
    this.down({ kind: 'closed', closeCode: code, message }, code);
  }

  /** Takes the connection down once: closes its sockets, drops its queues, tells the transport. */
  down(reason: ConnectionDownReason, closeCode: number = CloseCode.SHUTDOWN, terminate = false): void {
    if (this.state === 'down') return;
    this.state = 'down';
    if (this.#pingTimer !== null) this.host.clock.clearTimer(this.#pingTimer);
    if (this.#graceTimer !== null) this.host.clock.clearTimer(this.#graceTimer);
    this.#probe?.resolve(false);
    this.#probe = null;
    for (const slots of this.#slots.values()) {
      for (const slot of slots) {
        if (slot.retryTimer !== null) this.host.clock.clearTimer(slot.retryTimer);
        slot.outbox.discard();
        const sock = slot.sock;
        slot.sock = null;
        if (sock !== null) {
          if (terminate) sock.terminate();
          else sock.close(closeCode, reason.message);
        }
      }
    }
    this.host.connectionDown(this, reason);
  }
}

const NOOP = (): void => undefined;

function downReason(ours: { code: number; reason: string } | null, code: number, reason: string): ConnectionDownReason {
  if (ours !== null) {
    if (ours.code === CloseCode.IDLE_TIMEOUT) return { kind: 'idle_timeout', closeCode: ours.code, message: ours.reason };
    return { kind: 'closed', closeCode: ours.code, message: ours.reason };
  }
  const detail = reason === '' ? closeCodeName(code) : `${closeCodeName(code)}: ${reason}`;
  switch (code) {
    case CloseCode.SHUTDOWN:
    case CloseCode.CLOSED_BY_PEER:
    case CloseCode.IDLE_TIMEOUT:
    case CloseCode.NORMAL:
    case 1001:
      return { kind: 'peer_closed', closeCode: code, message: detail };
    case CloseCode.DUPLICATE_NAME:
    case CloseCode.AUTH_FAILED:
    case CloseCode.VERSION_MISMATCH:
      return { kind: 'refused', closeCode: code, message: detail };
    default:
      return { kind: 'lost', closeCode: code, message: detail };
  }
}
