// OpenTelemetry for processes, through `@opentelemetry/api` only: with no SDK registered every
// call here is a no-op that allocates nothing. A call or cast made while a span is active carries
// the trace context (W3C `traceparent`, or whatever propagator the application registered) in its
// request; the server handles it inside a span parented on it, which starts when the request
// arrived, marks when handling started (the mailbox wait) and ends with the reply.

import { context, createContextKey, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';

/** The instrumentation scope of @fdn's spans. */
export const TRACER_NAME = '@fdn/actors';

/** The carrier of a trace context inside a request (`traceparent`, `tracestate`, baggage…). */
export type TraceCarrier = Record<string, string>;

/** Wall-clock milliseconds with sub-millisecond precision (what span times are in). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const PROBE = ROOT_CONTEXT.setValue(createContextKey('fdn.context-manager-probe'), true);
/** Whether the application registered a context manager (without one no span is ever active). */
let contextManager = probeContextManager();

/** A context manager keeps what `with` sets; the no-op one (no SDK) does not. */
function probeContextManager(): boolean {
  return context.with(PROBE, () => context.active()) === PROBE;
}

/**
 * Looks again for a context manager. The scheduler calls it at the start of every slice, so an SDK
 * registered after @fdn was loaded is seen from the next turn of the event loop on, and a runtime
 * with no SDK pays one boolean test per call or cast.
 */
export function refreshTracing(): void {
  contextManager = probeContextManager();
}

/** True while a span is active here: check it before building a span's attributes, so the untraced path allocates nothing. */
export function tracing(): boolean {
  if (!contextManager) return false;
  const active = context.active();
  return active !== ROOT_CONTEXT && trace.getSpan(active) !== undefined;
}

/**
 * A span for something this process starts (a call, a cast, a spawn), child of the active span;
 * null when no span is active (then nothing is traced and nothing travels).
 */
export function startOutgoing(name: string, kind: SpanKind, attributes: Attributes): Span | null {
  const active = context.active();
  if (trace.getSpan(active) === undefined) return null;
  return trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, active);
}

/** The trace context to send with a request, as `span`'s child. */
export function carrierOf(span: Span): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier;
}

/** Ends `span` as failed with `err`. */
export function fail(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/** Ends `span` when `outcome` settles (failed, with the error, if it rejects); settles as `outcome` does. */
export function endWith<T>(span: Span, outcome: PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    outcome.then(
      (value) => {
        span.end();
        resolve(value);
      },
      (err: unknown) => {
        fail(span, err);
        reject(err);
      },
    );
  });
}

/** A span for what arrived with `carrier` at `arrivedAt` and is taken now: it starts at the arrival and records the mailbox wait. Not made active. */
export function startIncoming(name: string, kind: SpanKind, carrier: TraceCarrier, arrivedAt: number, attributes: Attributes): Span {
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes, startTime: arrivedAt }, parent);
  const now = nowMs();
  span.setAttribute('fdn.mailbox_wait_ms', now - arrivedAt);
  span.addEvent('fdn.handling_started', now);
  return span;
}

/** Runs `fn` with `span` active (what it calls is the span's child). */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Runs `fn` inside a span for a request that arrived with `carrier` at `arrivedAt`: the span starts
 * then, records `fdn.handling_started` and `fdn.mailbox_wait_ms` now, and is active while `fn`
 * runs (so what `fn` calls is its child). Ending it is the caller's (`fn` may finish later).
 */
export function withIncoming<T>(name: string, kind: SpanKind, carrier: TraceCarrier, arrivedAt: number, attributes: Attributes, fn: (span: Span) => T): T {
  const span = startIncoming(name, kind, carrier, arrivedAt, attributes);
  return context.with(trace.setSpan(propagation.extract(ROOT_CONTEXT, carrier), span), fn, undefined, span);
}

/**
 * Runs `fn` with no active span: the scheduler runs processes this way, so a process handling an
 * untraced message never inherits the span of whoever happened to wake the scheduler.
 */
export function detached<T>(fn: () => T): T {
  // No context active (always so without an SDK): nothing to leave, and no wrapping on the hot path.
  return !contextManager || context.active() === ROOT_CONTEXT ? fn() : context.with(ROOT_CONTEXT, fn);
}

export { SpanKind };
export type { Span };
