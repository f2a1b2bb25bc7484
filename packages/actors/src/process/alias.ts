// Aliases (OTP 24): a reference a process makes active while it waits for an answer. A message
// sent to an alias is delivered only while the alias is active, so an answer that comes after its
// wait ended (a call that timed out) never lands in the mailbox. GenServer replies are such messages.

import type { Ref } from '../pid/pid.ts';

/** A message addressed to an alias of its receiver: dropped unless the receiver keeps that alias active. */
export abstract class AliasMessage {
  /** The alias this message answers. */
  abstract readonly alias: Ref;
}
