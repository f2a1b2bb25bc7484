// Spans of the node's own rare operations (a topology switch, an ecosystem placement), through
// `@opentelemetry/api` only: with no SDK registered they cost nothing. Each is a child of the
// span active where it starts, or the root of a trace of its own.

import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';

const TRACER_NAME = '@fdn/distribution';

/**
 * Runs `fn` inside a span named `name` (active while `fn` runs, so what it calls is its child);
 * the span ends when `fn` settles, failed if it throws or if `failure` finds a reason in its result.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, failure: (result: T) => string | null = () => null): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await fn(span);
      const why = failure(result);
      if (why !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: why });
      return result;
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
