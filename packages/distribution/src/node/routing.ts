// Routing rules: which channel a plain send takes, chosen from the message itself. Rules are data
// (a user can load them from configuration) tried in order; the first that matches wins; no match
// is the default channel. With no rules, the check costs nothing.

import { Wire } from '@fdn/actors/internal';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/**
 * A rule: a message matches when every given condition holds.
 * - `type`: the message's `type` field equals it (or is one of them).
 * - `shape`: the message has every key listed, with equal values where given (`undefined`: any value).
 * - `instanceOf`: the message is an instance of the class.
 * - `largerThan`: the message is a Buffer/Uint8Array/string longer than this many bytes/chars.
 * - `test`: a predicate, for anything else.
 */
export interface RoutingRule {
  type?: string | string[];
  shape?: Record<string, unknown>;
  instanceOf?: abstract new (...args: never[]) => unknown;
  largerThan?: number;
  test?: (msg: unknown) => boolean;
  channel: string;
}

/** The routing rules: which channel a send that names none goes on. */
export class Router {
  #rules: RoutingRule[] = [];

  constructor(readonly channels: ReadonlySet<string>) {}

  /** Replaces the rules (validated: every channel must exist, every rule must say something). */
  configure(rules: RoutingRule[]): void {
    for (const [i, rule] of rules.entries()) {
      if (!this.channels.has(rule.channel)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `routing rule ${String(i)}: unknown channel '${rule.channel}' (channels: ${[...this.channels].join(', ')})`);
      if (rule.type === undefined && rule.shape === undefined && rule.instanceOf === undefined && rule.largerThan === undefined && rule.test === undefined) {
        throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `routing rule ${String(i)} has no condition (type, shape, instanceOf, largerThan or test)`);
      }
    }
    this.#rules = rules.slice();
  }

  get rules(): readonly RoutingRule[] {
    return this.#rules;
  }

  /** The channel for `msg`, or undefined for the default. */
  route(msg: unknown): string | undefined {
    if (this.#rules.length === 0) return undefined;
    // A message sent under a span travels in a trace envelope: the rules look at the message.
    const plain = msg instanceof Wire.TracedMessage ? msg.message : msg;
    for (const rule of this.#rules) if (matches(rule, plain)) return rule.channel;
    return undefined;
  }
}

function matches(rule: RoutingRule, msg: unknown): boolean {
  if (rule.type !== undefined) {
    const t = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
    if (Array.isArray(rule.type) ? !rule.type.includes(t as string) : t !== rule.type) return false;
  }
  if (rule.shape !== undefined) {
    if (typeof msg !== 'object' || msg === null) return false;
    for (const [k, v] of Object.entries(rule.shape)) {
      if (!(k in msg)) return false;
      if (v !== undefined && (msg as Record<string, unknown>)[k] !== v) return false;
    }
  }
  if (rule.instanceOf !== undefined && !(msg instanceof rule.instanceOf)) return false;
  if (rule.largerThan !== undefined) {
    const size = typeof msg === 'string' ? msg.length : msg instanceof Uint8Array ? msg.byteLength : -1;
    if (size <= rule.largerThan) return false;
  }
  if (rule.test !== undefined && !rule.test(msg)) return false;
  return true;
}
