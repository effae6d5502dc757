import { afterEach, describe, expect, it, vi } from 'vitest';
import { TurnScheduler } from '../../src/server/turn-scheduler.js';

// Only performance.now() is faked: each test moves the clock itself, and immediates stay real.
const useClock = (): void => void vi.useFakeTimers({ toFake: ['performance'] });
const spend = (ms: number): void => void vi.advanceTimersByTime(ms);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
afterEach(() => void vi.useRealTimers());

describe('TurnScheduler', () => {
  it('spent: false when a turn starts, true once the budget has passed, false again in the next turn', async () => {
    useClock();
    const scheduler = new TurnScheduler({ budgetMs: 10, quantum: 32 });
    expect(scheduler.spent).toBe(false);
    spend(9);
    expect(scheduler.spent).toBe(false);
    spend(1);
    expect(scheduler.spent).toBe(true);
    await nextTurn();
    expect(scheduler.spent).toBe(false);
  });

  it('runs deferred tasks after the current turn, round-robin: one that defers itself again goes behind the others', async () => {
    const scheduler = new TurnScheduler({ budgetMs: 10, quantum: 32 });
    const order: string[] = [];
    const task = (name: string, visits: number): (() => void) => {
      const run = (): void => {
        order.push(name);
        if (--visits > 0) scheduler.defer(run);
      };
      return run;
    };
    scheduler.defer(task('a', 3));
    scheduler.defer(task('b', 2));
    scheduler.defer(task('c', 1));
    expect(order).toEqual([]); // nothing runs in the turn that defers
    expect(scheduler.waiting).toBe(3);
    await nextTurn();
    await nextTurn();
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'a']);
    expect(scheduler.waiting).toBe(0);
  });

  it('stops a run once the budget is spent, lets the loop turn, and goes on where it stopped', async () => {
    useClock();
    const scheduler = new TurnScheduler({ budgetMs: 10, quantum: 32 });
    const order: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      scheduler.defer(() => {
        order.push(name);
        if (name === 'a') setImmediate(() => order.push('other work'));
        spend(6); // two tasks spend the 10 ms budget
      });
    }
    for (let i = 0; i < 4 && scheduler.waiting > 0; i += 1) await nextTurn();
    expect(order).toEqual(['a', 'b', 'other work', 'c', 'd']);
  });

  it('a run starts its own budget, whatever the I/O before it spent', async () => {
    useClock();
    const scheduler = new TurnScheduler({ budgetMs: 10, quantum: 32 });
    expect(scheduler.spent).toBe(false);
    spend(50); // the I/O phase of this turn spent its budget and more
    expect(scheduler.spent).toBe(true);
    let spentInRun: boolean | undefined;
    scheduler.defer(() => (spentInRun = scheduler.spent));
    await nextTurn();
    expect(spentInRun).toBe(false);
  });
});
