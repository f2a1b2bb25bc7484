// A ready-made broadcast handler: every message gets a unique id, every node keeps the most
// recent ones (for deduplication, grafts and anti-entropy) and hands each new one to `deliver`
// exactly once. Enough for notifications, cluster events and tests; applications with their own
// state (a CRDT, a registry) write a handler whose `merge` folds into that state instead.

import type { BroadcastHandler, DeliveryInfo } from './handler.ts';

export interface MessageLogOptions<P> {
  /** The handler's name, the same on every node. */
  name: string;
  /** This node's name (ids are `<node>:<sequence>`, so they are unique cluster-wide). */
  node: string;
  /** Channel for the payloads (default `control`). */
  channel?: string;
  /** Plumtree tree per sender (default) or one shared tree (see BroadcastHandler.tree). */
  tree?: 'perRoot' | 'shared';
  /** See BroadcastHandler.floodRepairs (default true). */
  floodRepairs?: boolean;
  /** Messages remembered (default 10,000; the oldest is forgotten first). */
  keep?: number;
  /** Messages offered in an anti-entropy digest (the most recent; default 256). */
  digestSize?: number;
  /** Replaces the digest of recent ids (e.g. the ids that make up some state); they must be kept. */
  digest?: () => string[];
  /** Called once per message, at the node that broadcast it too. */
  deliver?: (payload: P, info: DeliveryInfo & { id: string }) => void;
}

/** A broadcast handler that keeps the most recent messages by id. */
export class MessageLog<P = unknown> implements BroadcastHandler<P, P> {
  readonly name: string;
  readonly channel?: string;
  readonly tree?: 'perRoot' | 'shared';
  readonly floodRepairs?: boolean;
  readonly #node: string;
  readonly #keep: number;
  readonly #digestSize: number;
  readonly #deliver: MessageLogOptions<P>['deliver'];
  readonly #digest: MessageLogOptions<P>['digest'];
  /** id → payload, oldest first. */
  readonly #messages = new Map<string, P>();
  /** Ids forgotten recently: still stale, so an old message is not delivered twice. */
  readonly #forgotten = new Set<string>();
  /** The most recent ids, a ring of `digestSize`. */
  readonly #recent: string[] = [];
  #recentNext = 0;
  #sequence = 0;

  constructor(options: MessageLogOptions<P>) {
    this.name = options.name;
    if (options.channel !== undefined) this.channel = options.channel;
    if (options.tree !== undefined) this.tree = options.tree;
    if (options.floodRepairs !== undefined) this.floodRepairs = options.floodRepairs;
    this.#node = options.node;
    this.#keep = options.keep ?? 10_000;
    this.#digestSize = options.digestSize ?? 256;
    this.#deliver = options.deliver;
    this.#digest = options.digest;
  }

  /** How many messages are remembered. */
  get size(): number {
    return this.#messages.size;
  }

  /** True if `id` was delivered here (and not yet forgotten). */
  has(id: string): boolean {
    return this.#messages.has(id);
  }

  broadcastData(payload: P): { id: string; payload: P } {
    const id = `${this.#node}:${String(++this.#sequence)}`;
    this.#remember(id, payload);
    this.#deliver?.(payload, { id, from: this.#node, root: this.#node, round: 0 });
    return { id, payload };
  }

  merge(id: string, payload: P, info: DeliveryInfo): boolean {
    if (this.isStale(id)) return false;
    this.#remember(id, payload);
    this.#deliver?.(payload, { ...info, id });
    return true;
  }

  isStale(id: string): boolean {
    return this.#messages.has(id) || this.#forgotten.has(id);
  }

  graft(id: string): { ok: P } | 'stale' {
    return this.#messages.has(id) ? { ok: this.#messages.get(id) as P } : 'stale';
  }

  digest(): string[] {
    if (this.#digest !== undefined) return this.#digest().filter((id) => this.#messages.has(id));
    return this.#recent.filter((id) => this.#messages.has(id));
  }

  #remember(id: string, payload: P): void {
    this.#messages.set(id, payload);
    if (this.#digestSize > 0) {
      this.#recent[this.#recentNext] = id;
      this.#recentNext = (this.#recentNext + 1) % this.#digestSize;
    }
    if (this.#messages.size <= this.#keep) return;
    const oldest = this.#messages.keys().next().value as string;
    this.#messages.delete(oldest);
    this.#forgotten.add(oldest);
    if (this.#forgotten.size > this.#keep) this.#forgotten.delete(this.#forgotten.values().next().value as string);
  }
}
