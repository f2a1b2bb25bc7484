// The code lock example against OTP's gen_statem user guide: the code opens it, a state timeout
// locks it, buttons pressed while open are postponed until it is locked, an idle event timeout
// forgets what was typed, the code length is answered in every state, terminate runs on stop.

import { describe, expect, it } from 'vitest';
import { createRuntime, StateMachine } from '@fdn/actors';
import { VirtualClock } from '@fdn/core';
import { button, codeLock } from '../src/code-lock.ts';

async function lockOn(options: { openMs?: number; idleMs?: number } = {}) {
  const clock = new VirtualClock();
  const rt = createRuntime({ node: 'lock', clock });
  const log: string[] = [];
  const lock = await StateMachine.start(rt, codeLock({ ...options, log }), ['1', '2', '3']);
  return { clock, rt, log, lock };
}

describe('code lock (gen_statem example)', () => {
  it('opens on the code, locks again after the state timeout; buttons typed while open wait for the lock', async () => {
    const { clock, rt, log, lock } = await lockOn({ openMs: 10_000 });
    for (const b of ['9', '1', '2', '3']) button(rt, lock, b);
    await rt.idle();
    expect(log).toEqual(['locked', 'open']);
    expect(await StateMachine.call(rt, lock, 'codeLength')).toBe(3);
    for (const b of ['1', '2', '3']) button(rt, lock, b);
    await clock.advance(9_999);
    expect(log).toEqual(['locked', 'open']);
    await clock.advance(1);
    // Locked by the state timeout, then the postponed buttons are the code again.
    expect(log).toEqual(['locked', 'open', 'locked', 'open']);
    await clock.advance(10_000);
    await StateMachine.stop(rt, lock);
    expect(log).toEqual(['locked', 'open', 'locked', 'open', 'locked', 'terminate normal in locked']);
  });

  it('forgets a half-typed code after the idle timeout, and not before', async () => {
    const { clock, rt, log, lock } = await lockOn({ idleMs: 1_000 });
    button(rt, lock, '1');
    button(rt, lock, '2');
    await clock.advance(999);
    button(rt, lock, '3');
    await rt.idle();
    expect(log).toEqual(['locked', 'open']);
    const second = await lockOn({ idleMs: 1_000 });
    button(second.rt, second.lock, '1');
    button(second.rt, second.lock, '2');
    await second.clock.advance(1_000);
    button(second.rt, second.lock, '3');
    await second.rt.idle();
    expect(second.log).toEqual(['locked']);
  });
});
