// System requests (OTP's `sys` messages): every behaviour process answers them itself. Here
// rather than with GenServer because the runtime sends one too, to stop a process in order.

import type { ExitReason } from '../exit/reason.ts';

/** A system request (`sys`) (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class SystemRequest {
  constructor(
    readonly op: 'getState' | 'stop',
    readonly reason: ExitReason = 'normal',
  ) {}
}
