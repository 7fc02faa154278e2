import { TokenBucket } from '../../local/gateway/throttle';
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
    return { p, sleeps, advance: (ms: number) => (now += ms), now: () => now };
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

  it('reads a first burst over at least MIN_SPAN_MS, not as an unbounded rate', () => {
    const { p } = pacer();
    for (let i = 0; i < 30; i++) p.succeeded();
    p.throttled();
    // 30 successes in no time: read over MIN_SPAN_MS, and paced a little under that.
    expect(p.currentRate()).toBeCloseTo(0.9 * ((30 * 1000) / Pacer.MIN_SPAN_MS), 6);
  });

  it('reads a short burst into an empty bucket as the share it was admitted, not as the floor', async () => {
    const { p, advance } = pacer();
    // Ten answers within 5 ms, four admitted: the burst of parallel invocations lifting together.
    for (let i = 0; i < 10; i++) {
      if (i % 5 < 2) p.succeeded();
      else p.throttled();
      advance(0.5);
    }
    // Four over MIN_SPAN_MS (200 a second), paced a little under: far above MIN_RATE.
    expect(p.currentRate()).toBeCloseTo(0.9 * ((4 * 1000) / Pacer.MIN_SPAN_MS), 6);
    expect(p.currentRate()).toBeGreaterThan(2 * Pacer.MIN_RATE);
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
    // Two seconds on (the window holds none of those answers; no post asked for a slot, so the
    // pacing is still on), a retry record of two connections: one answered, one throttled.
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

  it('raises its rate by GROWTH with each success and never paces below its lowest rate', () => {
    const { p } = pacer();
    throttleToLowestRate(p);
    expect(p.currentRate()).toBe(Pacer.MIN_RATE);
    p.succeeded();
    p.succeeded();
    expect(p.currentRate()).toBe(Pacer.MIN_RATE + 2 * Pacer.GROWTH);
  });

  it('doubles its rate within a second of successes at that rate (growth in proportion to the rate)', () => {
    const { p, advance } = pacer();
    throttleToLowestRate(p);
    const start = p.currentRate();
    // One success per slot at the current rate, for one second.
    for (let elapsed = 0; elapsed < 1000; elapsed += 1000 / p.currentRate()) {
      advance(1000 / p.currentRate());
      p.succeeded();
    }
    expect(p.currentRate()).toBeGreaterThanOrEqual(2 * start);
  });

  it('forgets its window when a quiet spell lifts the pacing: the next throttle reads only the answers after it', async () => {
    const { p, advance } = pacer();
    // 300 answered over a second, then a throttle: paced at 270 a second.
    for (let i = 0; i < 300; i++) {
      p.succeeded();
      advance(1000 / 300);
    }
    p.throttled();
    advance(Pacer.QUIET_MS + 1);
    await p.acquire();
    expect(p.currentRate()).toBe(Number.POSITIVE_INFINITY);
    // Within a second of those 300: had they been kept, they would count as admitted now.
    for (let i = 0; i < 20; i++) p.succeeded();
    p.throttled();
    // 20 answers in no time read over MIN_SPAN_MS, paced a little under.
    expect(p.currentRate()).toBeCloseTo(0.9 * ((20 * 1000) / Pacer.MIN_SPAN_MS), 6);
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

  /**
   * Posts one at a time for `ms` of the pacer's clock, each taking its paced slot and 1 ms to answer,
   * `throttle()` deciding whether it is throttled. Returns the successes and whether the pacing,
   * once on, was ever lifted.
   */
  async function drive(
    t: ReturnType<typeof pacer>,
    ms: number,
    throttle: () => boolean,
  ): Promise<{ succeeded: number; lifted: boolean }> {
    const end = t.now() + ms;
    let succeeded = 0;
    let paced = false;
    let lifted = false;
    while (t.now() < end) {
      await t.p.acquire();
      t.advance(1);
      if (throttle()) t.p.throttled();
      else {
        t.p.succeeded();
        succeeded++;
      }
      if (t.p.currentRate() < Number.POSITIVE_INFINITY) paced = true;
      else if (paced) lifted = true;
    }
    return { succeeded, lifted };
  }

  /** An account's token bucket (the local gateway's) on the pacer's clock: true when throttled. */
  function bucket(t: ReturnType<typeof pacer>, perSecond: number, burst: number): () => boolean {
    const tokens = new TokenBucket({ burstLimit: burst, rateLimit: perSecond }, t.now);
    return () => !tokens.take();
  }

  it('lifts the pacing when cuts bring the pace down and leave the throttled share where it was (throttling that does not follow the rate)', async () => {
    const t = pacer();
    // Two posts in five throttled, whatever the rate: a fault, not a rate limit.
    let n = 0;
    const { lifted } = await drive(t, 3_000, () => n++ % 5 < 2);
    expect(lifted).toBe(true);
  });

  it('keeps pacing at the account limit, delivering close to its rate, however steady the throttled share of the cycle', async () => {
    const t = pacer();
    const { succeeded, lifted } = await drive(t, 5_000, bucket(t, 200, 20));
    expect(lifted).toBe(false);
    expect(succeeded).toBeGreaterThanOrEqual(0.95 * (20 + 200 * 5));
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
