// The wire-level protocol of calls and casts. Classes (not plain objects) so a user message can
// never be mistaken for one; @fdn/distribution registers codecs for them.

import type { Pid, Ref } from '../pid/pid.ts';
import type { Runtime } from '../runtime/runtime.ts';

/** Who is waiting for a call's reply; pass it to `GenServer.reply` to answer later. */
export interface From {
  readonly pid: Pid;
  /** The call's tag (also the caller's monitor of the server). */
  readonly ref: Ref;
}

/** @internal */
export class FromImpl implements From {
  /** @internal Runtime of the server that received the call; used by `reply`. */
  replier: Runtime | null = null;
  constructor(
    readonly pid: Pid,
    readonly ref: Ref,
  ) {}

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `From(${this.pid.toString()}, ${this.ref.toString()})`;
  }
}

/** @internal A `call`: the caller waits for a {@link CallReply} tagged with `from.ref`. */
export class CallRequest {
  constructor(
    readonly from: FromImpl,
    readonly request: unknown,
  ) {}
}

/** @internal A `cast`: no reply. */
export class CastRequest {
  constructor(readonly request: unknown) {}
}

/** @internal The answer to a {@link CallRequest}. */
export class CallReply {
  constructor(
    readonly ref: Ref,
    readonly value: unknown,
  ) {}
}

export { SystemRequest } from '../process/system.ts';
