import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/index.ts';

describe('VirtualClock', () => {
  it('fires timers in time order, ties in insertion order', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(20, () => fired.push('c'));
    clock.setTimer(30, () => fired.push('d'));
    expect(clock.advanceSync(25)).toBe(3);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('never fires a cleared timer and tolerates clearing twice', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const t = clock.setTimer(5, () => fired++);
    clock.clearTimer(t);
    clock.clearTimer(t);
    clock.advanceSync(10);
    expect(fired).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('runs timers set by timers within the same advance, at their own instants', () => {
    const clock = new VirtualClock({ start: 100, epoch: 1_000 });
    const at: number[] = [];
    clock.setTimer(10, () => {
      at.push(clock.now());
      clock.setTimer(10, () => at.push(clock.now()));
    });
    clock.advanceSync(30);
    expect(at).toEqual([110, 120]);
    expect(clock.wallTime()).toBe(1_130);
  });

  it('advance lets promise chains started by a timer run before the next timer', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimer(10, () => {
      void Promise.resolve().then(() => {
        log.push(`chain@${clock.now()}`);
        clock.setTimer(0, () => log.push(`zero@${clock.now()}`));
      });
    });
    clock.setTimer(11, () => log.push(`next@${clock.now()}`));
    await clock.advance(20);
    expect(log).toEqual(['chain@10', 'zero@10', 'next@11']);
    expect(clock.now()).toBe(20);
  });

  it('settle keeps yielding while a settler reports work', async () => {
    const clock = new VirtualClock();
    let work = 5;
    const remove = clock.addSettler(() => work-- > 0);
    await clock.settle();
    expect(work).toBeLessThanOrEqual(0);
    remove();
  });

  it('runUntilIdle is bounded for periodic timers', async () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      clock.setTimer(1, tick);
    };
    clock.setTimer(1, tick);
    expect(await clock.runUntilIdle(50)).toBe(50);
    expect(ticks).toBe(50);
  });

  it('stepSync fires one timer at a time', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimer(1, () => fired.push(1));
    clock.setTimer(2, () => fired.push(2));
    expect(clock.stepSync(10)).toBe(true);
    expect(fired).toEqual([1]);
    expect(clock.now()).toBe(1);
    expect(clock.stepSync(0)).toBe(false);
    expect(clock.now()).toBe(1);
  });
});
