// Backpressure from the mailboxes to the sockets. A socket is read as fast as it fills, and
// every message read lands in a mailbox at once; when the local processes fall behind, the
// mailboxes grow without bound (a fast sender measured 650,000 queued messages and a heap of
// 190 MB, most of the receiver's time then went to the garbage collector). So while the
// scheduler is overloaded, a channel that delivers a message stops being read until the
// scheduler's next slice: the socket's buffer fills, TCP pushes back, and the sender's
// channel reports `backpressure` as it would for a slow network. Reading always resumes on
// the next turn of the event loop, so no channel waits longer than one slice.

import type { RemoteEndpoint } from '@fdn/actors';
import type { Connection } from '@fdn/topology';

/** What the gate watches and acts on. */
export interface InboundGateHost {
  /** The runtime's side of the seam: whether it is overloaded, and when its next slice starts. */
  readonly endpoint: Pick<RemoteEndpoint, 'overloaded' | 'onNextSlice'>;
  /** The connection to `node`, if it is up. */
  connection(node: string): Connection | undefined;
}

/** Pauses reading a (node, channel) while the runtime is overloaded; resumes them all on the next slice. */
export class InboundGate {
  /** The connections paused in this slice, with their paused channels (the connection itself: a node's connection may be replaced meanwhile). */
  readonly #paused = new Map<Connection, Set<string>>();
  readonly #endpoint: Pick<RemoteEndpoint, 'overloaded' | 'onNextSlice'>;
  #pauses = 0;

  constructor(private readonly host: InboundGateHost) {
    this.#endpoint = host.endpoint;
  }

  /** After a message from `node` on `channel`: pause that channel if the runtime is overloaded. */
  afterMessage(node: string, channel: string): void {
    if (!this.#endpoint.overloaded) return;
    const connection = this.host.connection(node);
    if (connection === undefined) return;
    let channels = this.#paused.get(connection);
    if (channels?.has(channel) === true) return;
    if (this.#paused.size === 0) this.#endpoint.onNextSlice(this.#resumeAll);
    if (channels === undefined) this.#paused.set(connection, (channels = new Set()));
    channels.add(channel);
    this.#pauses++;
    connection.pause(channel);
  }

  /** How many times a channel was paused since the node started (a sign that processes fall behind their senders). */
  get pauses(): number {
    return this.#pauses;
  }

  readonly #resumeAll = (): void => {
    const paused = [...this.#paused];
    this.#paused.clear();
    for (const [connection, channels] of paused) for (const channel of channels) connection.resume(channel);
  };
}
