import { forEachBounded, Limiter, Pacer } from '../../shared/concurrency';

/** Resolves at once but still yields to the event loop, so concurrent tasks really overlap. */
const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('never runs more tasks than its limit, and runs them all', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await yieldOnce();
          running--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('starts waiting tasks in the order they asked', async () => {
    const limiter = new Limiter(1);
    const started: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        limiter.run(async () => {
          started.push(i);
          await yieldOnce();
        }),
      ),
    );
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('frees the slot of a task that throws', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });
});

describe('forEachBounded', () => {
  it('runs every item once with at most the limit in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachBounded(
      Array.from({ length: 40 }, (_, i) => i),
      16,
      async (i) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(i);
        inFlight -= 1;
      },
    );
    expect(peak).toBe(16);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('starts nothing new after a failure, waits for the calls in flight, and throws the first error', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = forEachBounded([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      finished += 1;
      if (i === 0) throw new Error('first');
      if (i === 1) throw new Error('second');
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toBe(2);
  });

  it('starts nothing new once asked to stop, lets the tasks in flight finish, and resolves', async () => {
    const started: number[] = [];
    let finished = 0;
    let stopped = false;
    await forEachBounded(
      [0, 1, 2, 3, 4, 5],
      2,
      async (i) => {
        started.push(i);
        await yieldOnce();
        if (i === 2) stopped = true;
        finished += 1;
      },
      { stop: () => stopped },
    );
    // 0 and 1 start together; 2 and 3 replace them; once 2 asked to stop, neither worker takes 4.
    expect(started).toEqual([0, 1, 2, 3]);
    expect(finished).toBe(4);
  });

  it('resolves at once for an empty list', async () => {
    const task = jest.fn(async () => {});
    await forEachBounded([], 4, task);
    expect(task).not.toHaveBeenCalled();
  });
});

describe('Pacer', () => {
  /** A pacer on a clock the test moves; its sleeps move the clock too and are recorded. */
  function pacer() {
    let now = 1_000_000;
    const sleeps: number[] = [];
    const p = new Pacer({
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    return { p, sleeps, advance: (ms: number) => (now += ms) };
  }

  /** MIN_ANSWERS throttles at once and no success: the lowest rate. */
  function throttleToLowestRate(p: Pacer): void {
    for (let i = 0; i < Pacer.MIN_ANSWERS; i++) p.throttled();
  }

  it('does not pace before the account throttles', async () => {
    const { p, sleeps } = pacer();
    for (let i = 0; i < 100; i++) {
      await p.acquire();
      p.succeeded();
    }
    expect(sleeps).toEqual([]);
    expect(p.currentRate()).toBe(Number.POSITIVE_INFINITY);
  });

  it('paces a little under the rate the account admitted before it throttled', async () => {
    const { p, sleeps, advance } = pacer();
    // 300 successes over one second, then a throttle.
    for (let i = 0; i < 300; i++) {
      p.succeeded();
      advance(1000 / 300);
    }
    p.throttled();
    expect(p.currentRate()).toBeCloseTo(0.9 * 300, 0);
    await p.acquire();
    await p.acquire();
    // The second post waits one slot: 1000 / 270 ms.
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeCloseTo(1000 / 270, 1);
  });

  it('reads a first burst over at least a tenth of a second, not as thousands a second', () => {
    const { p } = pacer();
    for (let i = 0; i < 30; i++) p.succeeded();
    p.throttled();
    // 30 successes in no time: 300/s at most, paced at 270/s.
    expect(p.currentRate()).toBeCloseTo(270, 6);
  });

  it('reads no rate from fewer answers than MIN_ANSWERS: a throttle among a few posts leaves it unpaced, or where it was', () => {
    const { p, advance } = pacer();
    p.succeeded();
    p.throttled();
    expect(p.currentRate()).toBe(Number.POSITIVE_INFINITY);
    // 300 answered in a second, then a throttle: paced at 270 a second.
    for (let i = 0; i < 300; i++) {
      p.succeeded();
      advance(1000 / 300);
    }
    p.throttled();
    const learnt = p.currentRate();
    expect(learnt).toBeCloseTo(270, 0);
    // Two seconds on (the window holds none of those answers, the pacing is still on), a retry
    // record of two connections: one answered, one throttled.
    advance(2_000);
    p.succeeded();
    p.throttled();
    expect(p.currentRate()).toBeGreaterThanOrEqual(learnt);
    // A tenth answer makes the window readable: the next throttle cuts.
    for (let i = 0; i < Pacer.MIN_ANSWERS - 3; i++) p.succeeded();
    p.throttled();
    expect(p.currentRate()).toBeLessThan(learnt);
  });

  it('takes a burst of throttles as one signal, then lowers again after a while', () => {
    const { p, advance } = pacer();
    for (let i = 0; i < 100; i++) p.succeeded();
    p.throttled();
    const once = p.currentRate();
    p.throttled();
    p.throttled();
    expect(p.currentRate()).toBe(once);
    advance(Pacer.DECREASE_EVERY_MS);
    p.throttled();
    expect(p.currentRate()).toBeLessThan(once);
  });

  it('raises its rate with each success and never paces below its lowest rate', () => {
    const { p } = pacer();
    throttleToLowestRate(p);
    expect(p.currentRate()).toBe(Pacer.MIN_RATE);
    p.succeeded();
    expect(p.currentRate()).toBeCloseTo(Pacer.MIN_RATE + Pacer.GROWTH / Pacer.MIN_RATE, 6);
  });

  it('refuses a slot that would come at or after the deadline, and takes none', async () => {
    const { p, sleeps, advance } = pacer();
    throttleToLowestRate(p);
    // Paced at the lowest rate: the first slot is now, the next one 1000 / MIN_RATE ms later.
    const slot = 1000 / Pacer.MIN_RATE;
    const deadline = 1_000_000 + slot / 2;
    await expect(p.acquire(deadline)).resolves.toBe(true);
    await expect(p.acquire(deadline)).resolves.toBe(false);
    expect(sleeps).toEqual([]);
    // The refused slot was not taken: without a deadline, the next post still waits one slot.
    advance(0);
    await expect(p.acquire()).resolves.toBe(true);
    expect(sleeps).toEqual([slot]);
  });

  it('lifts the pacing when a cut leaves the throttled share where it was (throttling that does not follow the rate)', () => {
    const { p, advance } = pacer();
    // Two posts in five throttled, whatever the rate: a fault, not a rate limit.
    const answer = (n: number) => {
      for (let i = 0; i < n; i++) {
        if (i % 5 < 2) p.throttled();
        else p.succeeded();
        advance(1);
      }
    };
    answer(50);
    advance(Pacer.DECREASE_EVERY_MS);
    answer(50);
    expect(p.currentRate()).toBeLessThan(Number.POSITIVE_INFINITY);
    advance(Pacer.DECREASE_EVERY_MS);
    answer(50);
    expect(p.currentRate()).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps cutting while each cut changes the throttled share (a rate limit)', () => {
    const { p, advance } = pacer();
    for (const throttledOfTen of [5, 2, 9]) {
      for (let i = 0; i < 10; i++) {
        if (i < throttledOfTen) p.throttled();
        else p.succeeded();
      }
      advance(Pacer.DECREASE_EVERY_MS);
    }
    p.throttled();
    expect(p.currentRate()).toBeLessThan(Number.POSITIVE_INFINITY);
  });

  it('stops pacing after a quiet spell without throttles', async () => {
    const { p, sleeps, advance } = pacer();
    for (let i = 0; i < 10; i++) p.succeeded();
    p.throttled();
    advance(Pacer.QUIET_MS + 1);
    await p.acquire();
    await p.acquire();
    expect(sleeps).toEqual([]);
    expect(p.currentRate()).toBe(Number.POSITIVE_INFINITY);
  });
});
