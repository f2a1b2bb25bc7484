// The incarnation of a node's start: what tells a restarted node from the one before it, in pids,
// links and the member directories gossiped between nodes. Directories keep the newer of two
// entries for one name, so incarnations must grow from one start to the next: the start's wall
// time in milliseconds (since 2024), times 1,000, plus a random part for starts within one
// millisecond. A node restarted on a host whose clock is behind the old one's by more than the
// time between the starts would look older: keep clocks synchronised (NTP), as every cluster does.

import type { Clock } from '../clock/clock.ts';
import type { Random } from '../random/random.ts';

const EPOCH_MS = Date.UTC(2024, 0, 1);

/** A new start's incarnation: ordered by the wall clock, unique within a millisecond (safe integer until the year 2300). */
export function newIncarnation(clock: Pick<Clock, 'wallTime'>, random: Random): number {
  return Math.max(0, Math.floor(clock.wallTime()) - EPOCH_MS) * 1_000 + 1 + random.int(999);
}
