// A message sent while a span was active: the message, the trace context, and when it reached the
// receiver's node. It waits in the mailbox in this envelope, and the receiver never sees it: a
// receive or a handler gets the message itself, and the taking records the span (from the arrival
// to the start of handling: the mailbox wait).

import type { Span, TraceCarrier } from '../trace/trace.ts';
import { carrierOf, nowMs, SpanKind, startIncoming, startOutgoing } from '../trace/trace.ts';

/** Marks a message class that carries its own trace context (traced calls and casts): it is not wrapped again. */
export const CARRIES_TRACE: unique symbol = Symbol('fdn.carriesTrace');

/** A traced message (a wire class, for the distribution layer's codec: not for applications). */
export class TracedMessage {
  /** @internal Wall-clock ms when it reached the receiver's node (set where it is made or decoded). */
  readonly arrivedAt = nowMs();
  constructor(
    readonly message: unknown,
    readonly trace: TraceCarrier,
    /** The receiver as the sender named it, for the span (a pid or a name, printed). */
    readonly to: string,
  ) {}
}

/** True for a message that carries its own trace context. */
export function carriesTrace(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && (msg as { [CARRIES_TRACE]?: boolean })[CARRIES_TRACE] === true;
}

/** Wraps `msg`, sent to `to` while a span is active, with a `fdn.send` span's context (the span ends at once: a send does not wait). */
export function traced(msg: unknown, to: string): TracedMessage | null {
  const span = startOutgoing('fdn.send', SpanKind.PRODUCER, { 'fdn.to': to });
  if (span === null) return null;
  const message = new TracedMessage(msg, carrierOf(span), to);
  span.end();
  return message;
}

/** The receiver takes `message` now: its `fdn.receive` span, from the arrival to now (the caller ends it). */
export function handling(message: TracedMessage, receiver: string): Span {
  return startIncoming('fdn.receive', SpanKind.CONSUMER, message.trace, message.arrivedAt, { 'fdn.to': message.to, 'fdn.pid': receiver });
}
