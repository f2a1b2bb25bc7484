// Telemetry as named events with measurements and metadata (as Erlang's :telemetry), behind a
// small interface that Prometheus or OpenTelemetry adapters can subscribe to.

/** Numeric measurements of one event (durations in ms, counts). */
export type Measurements = Readonly<Record<string, number>>;
/** Descriptive metadata of one event (pids, names, reasons). */
export type Metadata = Readonly<Record<string, unknown>>;

/** Receives events; `event` is a dotted name such as `fdn.actors.process.spawn`. */
export type TelemetryHandler = (event: string, measurements: Measurements, metadata: Metadata) => void;

/**
 * Emits named events to attached handlers. Emitters check `active` before building the
 * measurement objects, so an unobserved event costs one property read.
 */
export interface Telemetry {
  /** True while at least one handler is attached. */
  readonly active: boolean;
  emit(event: string, measurements: Measurements, metadata: Metadata): void;
  /**
   * Calls `handler` for every event whose name starts with `prefix` (`''` for all).
   * Returns a function that detaches it. A throwing handler is detached, as in :telemetry.
   */
  attach(prefix: string, handler: TelemetryHandler): () => void;
}

/** A fresh telemetry hub. */
export function createTelemetry(): Telemetry {
  return new TelemetryHub();
}

class TelemetryHub implements Telemetry {
  #handlers: { prefix: string; handler: TelemetryHandler }[] = [];

  get active(): boolean {
    return this.#handlers.length > 0;
  }

  emit(event: string, measurements: Measurements, metadata: Metadata): void {
    for (const entry of this.#handlers) {
      if (!event.startsWith(entry.prefix)) continue;
      try {
        entry.handler(event, measurements, metadata);
      } catch {
        this.#handlers = this.#handlers.filter((e) => e !== entry);
      }
    }
  }

  attach(prefix: string, handler: TelemetryHandler): () => void {
    const entry = { prefix, handler };
    this.#handlers = [...this.#handlers, entry];
    return () => {
      this.#handlers = this.#handlers.filter((e) => e !== entry);
    };
  }
}
