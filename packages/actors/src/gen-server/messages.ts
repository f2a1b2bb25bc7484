// The wire-level protocol of calls and casts. Classes (not plain objects) so a user message can
// never be mistaken for one; @fdn/distribution registers codecs for them.

import type { Pid, Ref } from '../pid/pid.ts';
import { AliasMessage } from '../process/alias.ts';
import type { ProcessHost } from '../process/process.ts';
import { CARRIES_TRACE } from '../process/traced-message.ts';
import { nowMs } from '../trace/trace.ts';
import type { TraceCarrier } from '../trace/trace.ts';

/** Who is waiting for a call's reply; pass it to `GenServer.reply` to answer later. */
export interface From {
  readonly pid: Pid;
  /** The call's tag (also the caller's monitor of the server). */
  readonly ref: Ref;
}

/** Who called: the pid and the call's tag (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class FromImpl implements From {
  /** @internal Runtime of the server that received the call; used by `reply`. */
  replier: ProcessHost | null = null;
  constructor(
    readonly pid: Pid,
    readonly ref: Ref,
  ) {}

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `From(${this.pid.toString()}, ${this.ref.toString()})`;
  }
}

/** A `call`: the caller waits for a {@link CallReply} tagged with `from.ref` (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class CallRequest {
  constructor(
    readonly from: FromImpl,
    readonly request: unknown,
  ) {}
}

/**
 * A call made while a span was active: it carries the trace context, and when it arrived (set
 * where it is made locally, or where it is decoded on the server's node), so the server's span
 * shows the mailbox wait.
 */
export class TracedCallRequest extends CallRequest {
  /** @internal Wall-clock ms when this request reached the server's node. */
  readonly arrivedAt = nowMs();
  constructor(
    from: FromImpl,
    request: unknown,
    readonly trace: TraceCarrier,
  ) {
    super(from, request);
  }
}

(TracedCallRequest.prototype as unknown as Record<symbol, boolean>)[CARRIES_TRACE] = true;

/** A `cast`: no reply (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class CastRequest {
  constructor(readonly request: unknown) {}
}

/** A cast made while a span was active (see {@link TracedCallRequest}). */
export class TracedCastRequest extends CastRequest {
  /** @internal Wall-clock ms when this request reached the server's node. */
  readonly arrivedAt = nowMs();
  constructor(
    request: unknown,
    readonly trace: TraceCarrier,
  ) {
    super(request);
  }
}

(TracedCastRequest.prototype as unknown as Record<symbol, boolean>)[CARRIES_TRACE] = true;

/** The answer to a {@link CallRequest} (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class CallReply extends AliasMessage {
  constructor(
    readonly ref: Ref,
    readonly value: unknown,
  ) {
    super();
  }

  /** The call's tag is the caller's alias: a reply after the call timed out is dropped. */
  get alias(): Ref {
    return this.ref;
  }
}

export { SystemRequest } from '../process/system.ts';
