// Runs the code lock on a virtual clock and prints what it does: `npm start -w @fdn/example-code-lock`.

import { createRuntime, StateMachine } from '@fdn/actors';
import { VirtualClock } from '@fdn/core';
import { button, codeLock } from './code-lock.ts';

const clock = new VirtualClock();
const rt = createRuntime({ node: 'lock', clock });
const log: string[] = [];
const lock = await StateMachine.start(rt, codeLock({ openMs: 10_000, log }), ['1', '2', '3'], { name: 'code_lock' });
const show = async (what: string): Promise<void> => {
  await rt.idle();
  console.log(`${String(clock.now()).padStart(6)} ms  ${what.padEnd(36)} lock: ${log.join(' → ')}`);
};
console.log(`code length: ${String(await StateMachine.call<number>(rt, lock, 'codeLength'))}`);
for (const b of ['9', '1', '2', '3']) button(rt, lock, b);
await show('typed 9 1 2 3');
for (const b of ['1', '2', '3']) button(rt, lock, b);
await show('typed 1 2 3 while open (postponed)');
await clock.advance(10_000);
await show('10 s later: locked, then the postponed');
await clock.advance(10_000);
await StateMachine.stop(rt, lock);
await show('stopped');
