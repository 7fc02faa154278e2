import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLambdaAccount } from '../lambda/account.js';
import {
  type FunctionConfig,
  type LambdaFunction,
  LambdaInvocationError,
  LambdaThrottledError,
  type LogEntry,
  loadFunction,
} from '../lambda/runner.js';

const fixture = (name: string): string => resolve(__dirname, 'fixtures/lambdas', `${name}.mjs`);

const opened: LambdaFunction[] = [];
const logs: LogEntry[] = [];

function load(config: Omit<FunctionConfig, 'bundlePath' | 'logSink'> & { fixture: string }): LambdaFunction {
  const { fixture: name, ...rest } = config;
  const fn = loadFunction({ ...rest, bundlePath: fixture(name), logSink: (entry) => logs.push(entry) });
  opened.push(fn);
  return fn;
}

async function invocationError(promise: Promise<unknown>): Promise<LambdaInvocationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LambdaInvocationError) return error;
    throw error;
  }
  throw new Error('the invocation succeeded');
}

const scratch = mkdtempSync(join(tmpdir(), 'lambda-runner-'));

afterAll(async () => {
  await Promise.all(opened.map((fn) => fn.close()));
  rmSync(scratch, { recursive: true, force: true });
});

const linesOf = (functionName: string): string[] =>
  logs.filter((entry) => entry.functionName === functionName).map((entry) => entry.line);

describe('local Lambda runner', () => {
  it('returns the handler result and passes a Lambda-shaped context', async () => {
    const fn = load({
      name: 'context-fn',
      fixture: 'context',
      timeoutMs: 3000,
      memoryMb: 256,
      region: 'eu-west-1',
    });

    const first = (await fn.invoke({ pauseMs: 60 })) as Record<string, unknown>;
    const second = (await fn.invoke({ pauseMs: 1 })) as Record<string, unknown>;

    expect(first).toMatchObject({
      event: { pauseMs: 60 },
      functionName: 'context-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:context-fn',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/context-fn',
      callbackWaitsForEmptyEventLoop: true,
      legacy: ['function', 'function', 'function'],
    });
    expect(first.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(first.awsRequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second.awsRequestId).not.toBe(first.awsRequestId);
    const before = Number(first.before);
    const after = Number(first.after);
    expect(before).toBeLessThanOrEqual(3000);
    expect(before).toBeGreaterThan(2800);
    expect(after).toBeLessThanOrEqual(before - 50);
  });

  it('writes function logs in Lambda text format with START, END and REPORT lines to the sink', async () => {
    const fn = load({ name: 'logging-fn', fixture: 'context', timeoutMs: 3000 });
    const result = (await fn.invoke({ pauseMs: 1 })) as { awsRequestId: string };
    const id = result.awsRequestId;
    const lines = logs.filter((entry) => entry.functionName === 'logging-fn').map((entry) => entry.line);

    expect(lines[0]).toBe(`START RequestId: ${id} Version: $LATEST`);
    expect(lines[1]).toMatch(
      new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z\\t${id}\\tINFO\\tremaining \\d+ \\d+$`),
    );
    expect(lines[2]).toBe(`END RequestId: ${id}`);
    expect(lines[3]).toMatch(
      new RegExp(`^REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\t.*Init Duration: [\\d.]+ ms$`),
    );
  });

  it('gives each function its own environment variables, isolated from the host and from each other', async () => {
    process.env.HOST_ONLY_VARIABLE = 'host';
    const english = load({ name: 'english', fixture: 'config', timeoutMs: 3000, env: { GREETING: 'hello' } });
    const french = load({
      name: 'french',
      fixture: 'config',
      timeoutMs: 3000,
      env: { GREETING: 'bonjour' },
      region: 'eu-west-3',
    });

    const [en, fr] = await Promise.all([english.invoke({ mutate: true }), french.invoke({})]);

    expect(en).toEqual({
      greeting: 'hello',
      currentGreeting: 'mutated by english',
      region: 'us-east-1',
      hostOnly: null,
      functionName: 'english',
      memorySize: '128',
      hasCredentials: true,
    });
    expect(fr).toMatchObject({
      greeting: 'bonjour',
      currentGreeting: 'bonjour',
      region: 'eu-west-3',
      hostOnly: null,
    });
    expect(process.env.GREETING).toBeUndefined();
    delete process.env.HOST_ONLY_VARIABLE;
  });

  it('keeps configuration read at module load even when process.env changes later', async () => {
    const fn = load({
      name: 'load-time-config',
      fixture: 'config',
      timeoutMs: 3000,
      env: { GREETING: 'hi' },
    });

    await fn.invoke({ mutate: true });
    const later = await fn.invoke({});

    expect(later).toMatchObject({ greeting: 'hi', currentGreeting: 'mutated by load-time-config' });
  });

  it('refuses environment variables that Lambda reserves', () => {
    expect(() =>
      loadFunction({
        name: 'reserved',
        bundlePath: fixture('config'),
        timeoutMs: 1000,
        env: { AWS_REGION: 'x' },
      }),
    ).toThrow(/reserved keys.*AWS_REGION/);
  });

  it('keeps module state across warm invocations and starts a new environment for concurrent ones', async () => {
    const fn = load({ name: 'counter-warm', fixture: 'counter', timeoutMs: 3000 });

    expect(await fn.invoke({})).toEqual({ invocations: 1 });
    expect(await fn.invoke({})).toEqual({ invocations: 2 });
    const concurrent = await Promise.all([fn.invoke({ sleepMs: 100 }), fn.invoke({ sleepMs: 100 })]);

    expect(concurrent).toEqual(expect.arrayContaining([{ invocations: 3 }, { invocations: 1 }]));
    expect(fn.environmentCount()).toBe(2);
  });

  it('fails a timed-out invocation with Task timed out and restarts the environment cold', async () => {
    const fn = load({ name: 'counter-timeout', fixture: 'counter', timeoutMs: 300 });
    await fn.invoke({});

    const started = Date.now();
    const error = await invocationError(fn.invoke({ sleepMs: 5000 }));

    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.errorMessage).toBe(`RequestId: ${error.requestId} Error: Task timed out after 0.30 seconds`);
    expect(
      logs.some(
        (entry) =>
          entry.functionName === 'counter-timeout' &&
          entry.line.endsWith('Task timed out after 0.30 seconds'),
      ),
    ).toBe(true);
    expect(fn.environmentCount()).toBe(0);
    expect(await fn.invoke({})).toEqual({ invocations: 1 });
  });

  it('propagates an error thrown by the handler with its errorType, errorMessage and trace', async () => {
    const fn = load({ name: 'throws', fixture: 'throws', timeoutMs: 3000 });

    const error = await invocationError(fn.invoke({ value: 42 }));
    const plain = await invocationError(fn.invoke({ kind: 'string' }));

    expect(error.errorType).toBe('ValidationError');
    expect(error.errorMessage).toBe('bad input: 42');
    expect(error.trace[0]).toBe('ValidationError: bad input: 42');
    expect(plain).toMatchObject({ errorType: 'string', errorMessage: 'plain string failure', trace: [] });
    expect(fn.environmentCount()).toBe(1);
  });

  it('fails the invocation on an unhandled rejection and replaces the environment', async () => {
    const fn = load({ name: 'unhandled', fixture: 'throws', timeoutMs: 3000 });

    const error = await invocationError(fn.invoke({ kind: 'unhandled' }));

    expect(error.errorType).toBe('Runtime.UnhandledPromiseRejection');
    expect(error.errorMessage).toBe('Error: nobody awaits this');
    expect(fn.environmentCount()).toBe(0);
  });

  it('supports callback handlers and the deprecated context.succeed and context.fail', async () => {
    const fn = load({ name: 'callbacks', fixture: 'callback', timeoutMs: 3000 });

    expect(await fn.invoke({})).toEqual({ via: 'callback' });
    expect(await fn.invoke({ style: 'succeed' })).toEqual({ via: 'context.succeed' });
    await expect(fn.invoke({ style: 'fail' })).rejects.toMatchObject({ errorMessage: 'via context.fail' });
  });

  it('fails with Runtime.HandlerNotFound when the bundle does not export the handler', async () => {
    const fn = load({ name: 'no-handler', fixture: 'counter', timeoutMs: 3000, handler: 'missing' });

    const error = await invocationError(fn.invoke({}));

    expect(error).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.missing is undefined or not exported',
    });
    expect(fn.environmentCount()).toBe(0);
  });
});

describe('the account the local functions share', () => {
  it('throttles invocations beyond the concurrency quota with TooManyRequestsException, as Lambda does', async () => {
    const account = createLambdaAccount({ concurrency: 3 });
    const fn = load({ name: 'quota', fixture: 'counter', timeoutMs: 3000, account });

    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => fn.invoke({ sleepMs: 150 })));

    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(refused).toHaveLength(2);
    for (const error of refused) {
      expect(error).toBeInstanceOf(LambdaThrottledError);
      expect(error).toMatchObject({
        statusCode: 429,
        reason: 'ConcurrentInvocationLimitExceeded',
        errorType: 'TooManyRequestsException',
        errorMessage: 'Rate Exceeded.',
      });
    }
    // A throttled invocation never reaches the function: no START line of its own.
    expect(linesOf('quota').filter((line) => line.startsWith('START '))).toHaveLength(3);
    expect(account.stats()).toMatchObject({ throttled: 2, inflight: 0, peakInflight: 3 });
    // The quota is of invocations in flight: once they finish, there is room again.
    expect(await fn.invoke({})).toEqual({ invocations: expect.any(Number) });
  });

  it('queues a burst for the warm environments the host has room for instead of starting one per invocation', async () => {
    const account = createLambdaAccount({ maxEnvironments: 2 });
    const fn = load({ name: 'capped', fixture: 'counter', timeoutMs: 3000, account });

    const burst = Promise.all(Array.from({ length: 8 }, () => fn.invoke({ sleepMs: 40 })));
    // Two started environments at once; the other six wait for them.
    expect(fn.waitingCount()).toBe(6);
    expect(fn.environmentCount()).toBe(2);
    const results = (await burst) as { invocations: number }[];

    // Two environments served all eight, each counting its own invocations (warm reuse): two firsts.
    expect(fn.environmentCount()).toBe(2);
    expect(account.stats().peakEnvironments).toBe(2);
    expect(results.filter((r) => r.invocations === 1)).toHaveLength(2);
    expect(Math.max(...results.map((r) => r.invocations))).toBeGreaterThanOrEqual(4);
    expect(linesOf('capped').filter((line) => line.includes('Init Duration'))).toHaveLength(2);
  });

  it('caps each function on its own, so that a burst on one leaves the others their warm environments', async () => {
    const account = createLambdaAccount({ maxEnvironmentsPerFunction: 2, maxEnvironments: 10 });
    const hot = load({ name: 'hot', fixture: 'counter', timeoutMs: 3000, account });
    const calm = load({ name: 'calm', fixture: 'counter', timeoutMs: 3000, account });
    expect(await calm.invoke({})).toEqual({ invocations: 1 });

    const burst = Promise.all(Array.from({ length: 10 }, () => hot.invoke({ sleepMs: 30 })));
    expect({ live: hot.environmentCount(), waiting: hot.waitingCount() }).toEqual({ live: 2, waiting: 8 });
    // The same warm environment as before the burst.
    expect(await calm.invoke({})).toEqual({ invocations: 2 });
    await burst;

    expect(hot.environmentCount()).toBe(2);
    expect(calm.environmentCount()).toBe(1);
  });

  it("ends another function's idle environment when the host is full, and starves no function", async () => {
    const account = createLambdaAccount({ maxEnvironments: 1 });
    const busy = load({ name: 'busy', fixture: 'counter', timeoutMs: 3000, account });
    const other = load({ name: 'other', fixture: 'counter', timeoutMs: 3000, account });

    const finished: string[] = [];
    const burst = Array.from({ length: 4 }, (_, i) =>
      busy.invoke({ sleepMs: 100 }).then(() => finished.push(`busy${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const single = other.invoke({}).then(() => finished.push('other'));
    await Promise.all([...burst, single]);

    // `other` waited for one busy invocation at most, not for the whole burst.
    expect(finished.indexOf('other')).toBeLessThanOrEqual(1);
    expect(busy.environmentCount() + other.environmentCount()).toBeLessThanOrEqual(1);
    expect(account.stats().peakEnvironments).toBe(1);
  });

  it('initializes only so many environments at once, and starts the init timer when an init starts', async () => {
    const account = createLambdaAccount({ maxEnvironmentsPerFunction: 5, maxConcurrentInits: 1 });
    const fn = load({
      name: 'init-queue',
      fixture: 'slow-init',
      timeoutMs: 3000,
      initTimeoutMs: 1000,
      env: { INIT_DELAY_MS: '300' },
      account,
    });

    const results = await Promise.all(Array.from({ length: 5 }, () => fn.invoke({ sleepMs: 50 })));

    // Five inits of 300 ms one after the other take longer than the init timeout: none timed out.
    expect(results).toHaveLength(5);
    expect(linesOf('init-queue').filter((line) => line.includes('Status: timeout'))).toEqual([]);
    expect(linesOf('init-queue').filter((line) => line.includes('Init Duration'))).toHaveLength(5);
    expect(account.stats().peakEnvironments).toBe(5);
  });

  it('retries a timed-out init phase within the first invocation, bounded by the function timeout', async () => {
    const fn = load({
      name: 'init-retry',
      fixture: 'slow-init',
      timeoutMs: 2000,
      initTimeoutMs: 200,
      env: { INIT_DELAY_MS: '1000', INIT_ONCE_MARKER: join(scratch, 'init-once') },
    });

    const result = await fn.invoke({});

    // The second init found the marker and was quick: the invocation ran on the retried init.
    expect(result).toEqual({ invocations: 1, initDelayMs: 0 });
    const lines = linesOf('init-retry');
    expect(lines[0]).toBe('INIT_REPORT Init Duration: 200.00 ms\tPhase: init\tStatus: timeout');
    expect(lines.find((line) => line.startsWith('REPORT '))).not.toContain('Init Duration');
    expect(fn.environmentCount()).toBe(1);
  });

  it('fails the invocation as a timed-out task when the retried init runs into the function timeout', async () => {
    const fn = load({
      name: 'init-stuck',
      fixture: 'slow-init',
      timeoutMs: 500,
      initTimeoutMs: 200,
      env: { INIT_DELAY_MS: '5000' },
    });

    const started = Date.now();
    const error = await invocationError(fn.invoke({}));

    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(3000);
    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.errorMessage).toBe(`RequestId: ${error.requestId} Error: Task timed out after 0.50 seconds`);
    expect(linesOf('init-stuck').some((line) => line.includes('Status: timeout'))).toBe(true);
    expect(fn.environmentCount()).toBe(0);
  });
});
