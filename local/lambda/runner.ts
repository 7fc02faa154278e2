/**
 * Local Lambda runner: invokes the same esbuild bundles (dist/<name>/index.mjs) that are deployed to AWS Lambda,
 * with Lambda-shaped context, environment, timeouts, errors and logs.
 *
 * Each execution environment is a `worker_threads` Worker (see worker-source.ts), chosen over swapping
 * `process.env` around an `import()` in the main thread because:
 * - Lambda functions read their configuration from `process.env` at module load and several functions share
 *   this process locally; a Worker's `env` option gives each one its own `process.env` copy, so nothing can
 *   leak between functions or into the host (and no lock around imports is needed);
 * - module state is per environment, as on Lambda: warm invocations reuse the module, a new environment
 *   (concurrent invocation, or after a crash or a timeout) starts cold;
 * - a timeout can really stop the code: Lambda ends a timed-out invocation by resetting the environment, and
 *   `worker.terminate()` does the same; `resourceLimits` gives a memory ceiling;
 * - the bundle is imported by Node's own ESM loader inside the Worker, so the runner works unchanged under
 *   jest (CommonJS transform), tsx, or bundled.
 * The cost is a structured-clone hop per invocation; events and results travel as JSON strings anyway, as they
 * do through the Lambda Invoke API (so Dates become strings and `undefined` becomes null, like on AWS).
 *
 * Functions share an account (account.ts): Lambda's concurrency quota, beyond which an invocation is
 * throttled as on AWS, and the host's capacity, which caps the environments alive and initializing at
 * once so that a burst queues for warm environments instead of starting hundreds of Workers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createLambdaAccount, type EnvironmentPool, type LambdaAccount } from './account.js';
import { LAMBDA_WORKER_SOURCE } from './worker-source.js';

/** Lambda's synchronous invocation payload quota (request and response): 6 MB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The response limit Lambda quotes in its `Function.ResponseSizeTooLarge` message. */
const MAX_RESPONSE_BYTES = 6_291_556;
/** Lambda's limit on the init phase of an on-demand environment. */
export const INIT_TIMEOUT_MS = 10_000;
/** Lambda's bounds for MemorySize (MB) and Timeout (15 minutes). */
const MIN_MEMORY_MB = 128;
const MAX_MEMORY_MB = 10_240;
const MAX_TIMEOUT_MS = 900_000;

/**
 * Variables Lambda sets itself and refuses in a function's configuration ("reserved keys"): a local config that
 * sets one would not deploy, so it is rejected here too. Region and credentials have their own options.
 */
const RESERVED_ENV_KEYS = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

export type LogStream = 'stdout' | 'stderr' | 'platform';

/** One log line of a function: its own output (`stdout`/`stderr`) or a runtime line (START, END, REPORT, …). */
export interface LogEntry {
  functionName: string;
  stream: LogStream;
  line: string;
  /**
   * The execution environment's log stream, as CloudWatch Logs names it on AWS: lines of one
   * invocation share it, so a reader can tell concurrent invocations apart.
   */
  logStream?: string;
}

export type LogSink = (entry: LogEntry) => void;

/** Default sink: the host's stdout, each line prefixed with the function name. */
export const stdoutLogSink: LogSink = ({ functionName, line }) => {
  process.stdout.write(`[${functionName}] ${line}\n`);
};

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FunctionConfig {
  /** Function name (context.functionName, AWS_LAMBDA_FUNCTION_NAME, log prefix). */
  name: string;
  /** The ESM bundle, e.g. dist/fanout/index.mjs. */
  bundlePath: string;
  /** Function timeout; Lambda's is whole seconds (1–900), milliseconds are accepted here for tests. */
  timeoutMs: number;
  /** MemorySize, 128–10240 (default 128); also the environment's V8 old-generation heap limit. */
  memoryMb?: number;
  /** The function's configured environment variables (Terraform `environment.variables`). */
  env?: Record<string, string>;
  /** Exported handler name (the part after the dot of `index.handler`); default `handler`. */
  handler?: string;
  /** AWS_REGION / AWS_DEFAULT_REGION; default `us-east-1`. */
  region?: string;
  /** Account id in the function ARN; default `000000000000` (the one local stand-ins use). */
  accountId?: string;
  /**
   * The execution role's credentials, which Lambda puts in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
   * AWS_SESSION_TOKEN; default dummy keys, which local stand-ins accept.
   */
  credentials?: AwsCredentials;
  /** Where log lines go; default {@link stdoutLogSink}. */
  logSink?: LogSink;
  /**
   * The account whose concurrency quota and host capacity the function shares with the others given
   * the same one (see account.ts); default an account of its own.
   */
  account?: LambdaAccount;
  /** The init phase's limit, Lambda's 10 s unless a test shortens it. */
  initTimeoutMs?: number;
  /** The Lambda runtime identifier (AWS_EXECUTION_ENV); default `nodejs22.x`. */
  runtime?: string;
  /**
   * Called as an invocation starts in its environment (where `START RequestId` is logged), with the
   * event as given to `invoke`: the latency benchmark's stage split. Not called for a failed init.
   */
  onInvocationStart?: (event: unknown) => void;
}

/** Lambda's error response body for a failed invocation. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** A failed invocation, carrying Lambda's `errorType` / `errorMessage` / `trace`. */
export class LambdaInvocationError extends Error implements LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
  readonly functionName: string;
  readonly requestId: string;

  constructor(functionName: string, requestId: string, payload: LambdaErrorPayload) {
    super(`${payload.errorType}: ${payload.errorMessage}`);
    this.name = 'LambdaInvocationError';
    this.errorType = payload.errorType;
    this.errorMessage = payload.errorMessage;
    this.trace = payload.trace;
    this.functionName = functionName;
    this.requestId = requestId;
  }
}

/**
 * A synchronous invocation refused because the account's concurrency is used up: Lambda answers HTTP 429
 * `TooManyRequestsException` with `{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`
 * (Lambda API reference, "Invoke": Errors). The function never runs: no START line, no logs.
 */
export class LambdaThrottledError extends LambdaInvocationError {
  readonly statusCode = 429;
  readonly reason = 'ConcurrentInvocationLimitExceeded';

  constructor(functionName: string, requestId: string) {
    super(functionName, requestId, {
      errorType: 'TooManyRequestsException',
      errorMessage: 'Rate Exceeded.',
      trace: [],
    });
    this.name = 'LambdaThrottledError';
  }
}

export interface LambdaFunction {
  readonly name: string;
  readonly arn: string;
  /**
   * Synchronous (RequestResponse) invocation: resolves with the JSON result, rejects with
   * LambdaInvocationError (LambdaThrottledError beyond the account's concurrency).
   */
  invoke(event: unknown): Promise<unknown>;
  /** Live execution environments (initializing, idle or busy). */
  environmentCount(): number;
  /** Admitted invocations waiting for an environment (the host's capacity is in use). */
  waitingCount(): number;
  /** Ends every environment; in-flight invocations fail. Further invokes are refused. */
  close(): Promise<void>;
}

interface ResolvedConfig {
  name: string;
  bundlePath: string;
  timeoutMs: number;
  initTimeoutMs: number;
  memoryMb: number;
  env: Record<string, string>;
  handler: string;
  region: string;
  arn: string;
  credentials: AwsCredentials;
  sink: LogSink;
  runtime: string;
  onInvocationStart?: (event: unknown) => void;
}

type Outcome =
  | { ok: true; payload: string; memoryUsedMb?: number }
  | { ok: false; error: LambdaErrorPayload; memoryUsedMb?: number };

type WorkerMessage =
  | { type: 'log'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'ready'; initDurationMs: number }
  | { type: 'init-error'; error: LambdaErrorPayload }
  | { type: 'result'; id: number; payload: string; memoryUsedMb?: number }
  | { type: 'error'; id: number; error: LambdaErrorPayload; memoryUsedMb?: number }
  | { type: 'crash'; error: LambdaErrorPayload };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toErrorPayload(value: unknown): LambdaErrorPayload {
  if (isRecord(value) && typeof value.errorType === 'string' && typeof value.errorMessage === 'string') {
    const trace = Array.isArray(value.trace)
      ? value.trace.filter((t): t is string => typeof t === 'string')
      : [];
    return { errorType: value.errorType, errorMessage: value.errorMessage, trace };
  }
  if (value instanceof Error) {
    return { errorType: value.name, errorMessage: value.message, trace: (value.stack ?? '').split('\n') };
  }
  return { errorType: typeof value, errorMessage: String(value), trace: [] };
}

function parseWorkerMessage(value: unknown): WorkerMessage | undefined {
  if (!isRecord(value)) return undefined;
  const memoryUsedMb = typeof value.memoryUsedMb === 'number' ? value.memoryUsedMb : undefined;
  switch (value.type) {
    case 'log':
      if ((value.stream === 'stdout' || value.stream === 'stderr') && typeof value.text === 'string') {
        return { type: 'log', stream: value.stream, text: value.text };
      }
      return undefined;
    case 'ready':
      return {
        type: 'ready',
        initDurationMs: typeof value.initDurationMs === 'number' ? value.initDurationMs : 0,
      };
    case 'init-error':
    case 'crash':
      return { type: value.type, error: toErrorPayload(value.error) };
    case 'result':
      if (typeof value.id === 'number' && typeof value.payload === 'string') {
        return { type: 'result', id: value.id, payload: value.payload, memoryUsedMb };
      }
      return undefined;
    case 'error':
      if (typeof value.id === 'number') {
        return { type: 'error', id: value.id, error: toErrorPayload(value.error), memoryUsedMb };
      }
      return undefined;
    default:
      return undefined;
  }
}

/** `2026/11/24/[$LATEST]<32 hex>`: Lambda's log stream name, one per execution environment. */
function newLogStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** Lambda's runtime environment variables, then the function's own. */
function environmentVariables(config: ResolvedConfig, logStreamName: string): Record<string, string> {
  const { credentials } = config;
  return {
    LANG: 'en_US.UTF-8',
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LAMBDA_TASK_ROOT: resolve(config.bundlePath, '..'),
    _HANDLER: `index.${config.handler}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${config.runtime}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: config.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
    AWS_REGION: config.region,
    AWS_DEFAULT_REGION: config.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }),
    ...config.env,
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

interface PendingInvocation {
  id: number;
  requestId: string;
  settle: (outcome: Outcome) => void;
}

/** How an environment's init phase went. */
interface InitOutcome {
  /** The init duration the runtime measured (the retried init's, after a timeout). */
  initDurationMs: number;
  /**
   * The init phase timed out and was retried as part of the first invocation ("suppressed init"): its
   * time counts against the function timeout, so the invocation gets only what is left.
   */
  retried: boolean;
  /** Wall-clock time since the retried init started (0 without a retry). */
  retryElapsedMs: number;
}

/**
 * One Lambda execution environment: a Worker with the bundle imported once. The Worker starts when the
 * account grants an init slot (see account.ts); until then the environment only holds its place.
 */
class ExecutionEnvironment {
  readonly logStreamName = newLogStreamName();
  /** Resolves once the bundle is imported and the handler found. */
  readonly ready: Promise<InitOutcome>;
  coldStart = true;
  /** When the environment last became idle (performance.now()). */
  idleSince = 0;
  private alive = true;
  private worker: Worker | undefined;
  private pending: PendingInvocation | undefined;
  private readonly buffers: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private settleReady:
    | { resolve: (outcome: InitOutcome) => void; reject: (error: LambdaErrorPayload) => void }
    | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private readonly initSlot: { done: () => void; cancel: () => void };
  private retryingInit = false;
  private retryStarted = 0;

  constructor(
    private readonly config: ResolvedConfig,
    account: LambdaAccount,
    private readonly onEnd: (env: ExecutionEnvironment) => void,
  ) {
    this.ready = new Promise<InitOutcome>((resolveReady, rejectReady) => {
      this.settleReady = { resolve: resolveReady, reject: rejectReady };
    });
    // Callers await `ready` only on a cold start; never let an early failure surface as an unhandled rejection.
    this.ready.catch(() => undefined);
    // Started from a microtask: the constructor has returned (and `initSlot` is set) by then.
    this.initSlot = account.requestInit(() => queueMicrotask(() => this.startInit()));
  }

  get isAlive(): boolean {
    return this.alive;
  }

  private startInit(): void {
    if (!this.alive) return;
    try {
      this.worker = this.createWorker();
    } catch (error) {
      this.end(toErrorPayload(error));
      return;
    }
    this.initTimer = setTimeout(() => this.onInitTimeout(), this.config.initTimeoutMs);
  }

  private createWorker(): Worker {
    const { config } = this;
    const worker = new Worker(LAMBDA_WORKER_SOURCE, {
      eval: true,
      env: environmentVariables(config, this.logStreamName),
      workerData: { bundlePath: config.bundlePath, handlerName: config.handler },
      resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
    });
    // A Worker replaced after an init timeout may still report: only the current one counts.
    worker.on('message', (raw: unknown) => {
      if (worker === this.worker) this.onMessage(raw);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (worker !== this.worker) return;
      const requestId = this.pending?.requestId ?? 'undefined';
      this.end(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? {
              errorType: 'Runtime.OutOfMemory',
              errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
              trace: [],
            }
          : toErrorPayload(error),
      );
    });
    worker.on('exit', (code: number) => {
      if (worker !== this.worker) return;
      const requestId = this.pending?.requestId ?? 'undefined';
      this.end({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
        trace: [],
      });
    });
    return worker;
  }

  /**
   * "The Init phase is limited to 10 seconds. If all three tasks do not complete within 10 seconds,
   * Lambda retries the Init phase at the time of the first function invocation with the configured
   * function timeout." (AWS Lambda Developer Guide, "Understanding the Lambda execution environment
   * lifecycle"). So the first timeout restarts the runtime and imports the bundle again, now bounded by
   * the function timeout; a second one fails the invocation as a timed-out task.
   */
  private onInitTimeout(): void {
    if (!this.alive) return;
    const { config } = this;
    if (this.retryingInit) {
      this.end({
        errorType: 'Sandbox.Timedout',
        errorMessage: `Task timed out after ${seconds(config.timeoutMs)} seconds`,
        trace: [],
      });
      return;
    }
    this.flushLogs();
    this.emit(
      'platform',
      `INIT_REPORT Init Duration: ${config.initTimeoutMs.toFixed(2)} ms\tPhase: init\tStatus: timeout`,
    );
    const stale = this.worker;
    this.worker = undefined;
    void stale?.terminate();
    this.retryingInit = true;
    this.retryStarted = performance.now();
    try {
      this.worker = this.createWorker();
    } catch (error) {
      this.end(toErrorPayload(error));
      return;
    }
    this.initTimer = setTimeout(() => this.onInitTimeout(), config.timeoutMs);
  }

  /**
   * Runs one invocation within `budgetMs` (the function timeout, less a retried init); a timeout resets
   * the environment (Lambda restarts the runtime after one).
   */
  run(id: number, requestId: string, eventJson: string, budgetMs: number): Promise<Outcome> {
    const { config } = this;
    const worker = this.worker;
    if (!this.alive || worker === undefined) {
      return Promise.resolve({
        ok: false,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: environment shut down`,
          trace: [],
        },
      });
    }
    const budget = Math.max(1, budgetMs);
    const deadline = Date.now() + budget;
    // Busy environments keep the host alive; idle ones must not (see idle()).
    worker.ref();
    return new Promise<Outcome>((settle) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        this.flushLogs();
        this.emit(
          'platform',
          `${new Date().toISOString()} ${requestId} Task timed out after ${seconds(config.timeoutMs)} seconds`,
        );
        settle({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds(config.timeoutMs)} seconds`,
            trace: [],
          },
        });
        void this.destroy();
      }, budget);
      this.pending = {
        id,
        requestId,
        settle: (outcome) => {
          clearTimeout(timer);
          this.flushLogs();
          settle(outcome);
        },
      };
      worker.postMessage({
        type: 'invoke',
        id,
        requestId,
        event: eventJson,
        deadline,
        functionName: config.name,
        invokedFunctionArn: config.arn,
        memoryLimitInMB: String(config.memoryMb),
        logGroupName: `/aws/lambda/${config.name}`,
        logStreamName: this.logStreamName,
      });
    });
  }

  /** Marks the environment idle: an idle Worker must not keep the host process alive. */
  idle(): void {
    this.idleSince = performance.now();
    if (this.alive) this.worker?.unref();
  }

  async destroy(): Promise<void> {
    const worker = this.worker;
    this.end({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${this.pending?.requestId ?? 'undefined'} Error: Runtime exited with error: environment shut down`,
      trace: [],
    });
    await worker?.terminate();
  }

  /** The environment is gone: fail whatever waits on it (first reason wins) and leave the pool. */
  private end(reason: LambdaErrorPayload): void {
    if (!this.alive) return;
    this.alive = false;
    clearTimeout(this.initTimer);
    this.initSlot.cancel();
    this.initSlot.done();
    const worker = this.worker;
    // Ended without a crash (init error, init timeout): the Worker may still be running.
    if (worker !== undefined && reason.errorType !== 'Runtime.ExitError') void worker.terminate();
    this.settleReady?.reject(reason);
    this.settleReady = undefined;
    const pending = this.pending;
    this.pending = undefined;
    this.flushLogs();
    pending?.settle({ ok: false, error: reason });
    this.onEnd(this);
  }

  private onMessage(raw: unknown): void {
    const message = parseWorkerMessage(raw);
    if (message === undefined) return;
    switch (message.type) {
      case 'log':
        this.collectLog(message.stream, message.text);
        return;
      case 'ready':
        clearTimeout(this.initTimer);
        this.initSlot.done();
        this.settleReady?.resolve({
          initDurationMs: message.initDurationMs,
          retried: this.retryingInit,
          retryElapsedMs: this.retryingInit ? performance.now() - this.retryStarted : 0,
        });
        this.settleReady = undefined;
        return;
      case 'init-error':
        this.end(message.error);
        return;
      case 'crash':
        // The worker exits right after; Lambda likewise restarts the runtime after an uncaught error.
        this.end(message.error);
        return;
      case 'result':
      case 'error': {
        const pending = this.pending;
        if (pending === undefined || pending.id !== message.id) return;
        this.pending = undefined;
        pending.settle(
          message.type === 'result'
            ? { ok: true, payload: message.payload, memoryUsedMb: message.memoryUsedMb }
            : { ok: false, error: message.error, memoryUsedMb: message.memoryUsedMb },
        );
        return;
      }
    }
  }

  private collectLog(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.buffers[stream] + text).split('\n');
    this.buffers[stream] = lines.pop() ?? '';
    for (const line of lines) this.emit(stream, line);
  }

  private flushLogs(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.buffers[stream] !== '') this.emit(stream, this.buffers[stream]);
      this.buffers[stream] = '';
    }
  }

  emit(stream: LogStream, line: string): void {
    try {
      this.config.sink({ functionName: this.config.name, stream, line, logStream: this.logStreamName });
    } catch {
      // A failing sink must not fail the invocation.
    }
  }
}

interface Waiter {
  sequence: number;
  resolve: (env: ExecutionEnvironment) => void;
  reject: (error: Error) => void;
}

class LocalFunction implements LambdaFunction, EnvironmentPool {
  readonly name: string;
  readonly arn: string;
  /** Idle environments, the most recently used last (reused first, as warm as can be). */
  private readonly idleEnvironments: ExecutionEnvironment[] = [];
  private readonly environments = new Set<ExecutionEnvironment>();
  /** Admitted invocations waiting for an environment, oldest first. */
  private readonly waiters: Waiter[] = [];
  private nextInvocationId = 1;
  private closed = false;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly account: LambdaAccount,
  ) {
    this.name = config.name;
    this.arn = config.arn;
    account.register(this);
  }

  environmentCount(): number {
    return this.environments.size;
  }

  waitingCount(): number {
    return this.waiters.length;
  }

  get liveEnvironments(): number {
    return this.environments.size;
  }

  oldestWaiter(): number | undefined {
    return this.waiters[0]?.sequence;
  }

  oldestIdle(): number | undefined {
    return this.idleEnvironments[0]?.idleSince;
  }

  evictIdle(): void {
    void this.idleEnvironments.shift()?.destroy();
  }

  grantSlot(): void {
    const waiter = this.waiters.shift();
    const env = this.spawn();
    if (waiter) waiter.resolve(env);
    else this.release(env); // nobody waits any more: keep it (or pass it on) like a finished one
  }

  async invoke(event: unknown): Promise<unknown> {
    const { config } = this;
    if (this.closed) throw new Error(`function ${config.name} is closed`);
    const requestId = randomUUID();
    const fail = (error: LambdaErrorPayload): never => {
      throw new LambdaInvocationError(config.name, requestId, error);
    };
    const eventJson = JSON.stringify(event === undefined ? null : event) ?? 'null';
    const eventBytes = Buffer.byteLength(eventJson);
    if (eventBytes > MAX_SYNC_PAYLOAD_BYTES) {
      fail({
        errorType: 'RequestEntityTooLargeException',
        errorMessage: `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        trace: [],
      });
    }
    if (!this.account.admit()) throw new LambdaThrottledError(config.name, requestId);
    try {
      return await this.invokeAdmitted(requestId, event, eventJson, fail);
    } finally {
      this.account.leave();
    }
  }

  private async invokeAdmitted(
    requestId: string,
    event: unknown,
    eventJson: string,
    fail: (error: LambdaErrorPayload) => never,
  ): Promise<unknown> {
    const { config } = this;
    // A free warm environment, or a new one (a cold start) when all are busy and the host has room;
    // otherwise the first to finish (see account.ts).
    const env = await this.acquire();
    let initDurationMs: number | undefined;
    let budgetMs = config.timeoutMs;
    let retryElapsedMs = 0;
    if (env.coldStart) {
      env.coldStart = false;
      try {
        const init = await env.ready;
        if (init.retried) {
          retryElapsedMs = init.retryElapsedMs;
          budgetMs = config.timeoutMs - retryElapsedMs;
        } else {
          initDurationMs = init.initDurationMs;
        }
      } catch (reason) {
        const error = toErrorPayload(reason);
        if (error.errorType === 'Sandbox.Timedout') {
          // The retried init ran into the function timeout: the invocation timed out.
          env.emit(
            'platform',
            `${new Date().toISOString()} ${requestId} Task timed out after ${seconds(config.timeoutMs)} seconds`,
          );
          return fail({ ...error, errorMessage: `RequestId: ${requestId} Error: ${error.errorMessage}` });
        }
        env.emit('stderr', `${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(error)}`);
        env.emit('platform', `INIT_REPORT Phase: init\tStatus: error\tError Type: ${error.errorType}`);
        return fail(error);
      }
    }

    env.emit('platform', `START RequestId: ${requestId} Version: $LATEST`);
    config.onInvocationStart?.(event);
    const started = performance.now();
    const outcome = await env.run(this.nextInvocationId++, requestId, eventJson, budgetMs);
    const durationMs = performance.now() - started + retryElapsedMs;
    env.emit('platform', `END RequestId: ${requestId}`);
    env.emit(
      'platform',
      [
        `REPORT RequestId: ${requestId}`,
        `Duration: ${durationMs.toFixed(2)} ms`,
        `Billed Duration: ${Math.ceil(durationMs + (initDurationMs ?? 0))} ms`,
        `Memory Size: ${config.memoryMb} MB`,
        `Max Memory Used: ${outcome.memoryUsedMb ?? 0} MB`,
        ...(initDurationMs === undefined ? [] : [`Init Duration: ${initDurationMs.toFixed(2)} ms`]),
      ].join('\t'),
    );
    this.release(env);

    if (!outcome.ok) return fail(outcome.error);
    const responseBytes = Buffer.byteLength(outcome.payload);
    if (responseBytes > MAX_RESPONSE_BYTES) {
      fail({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size (${responseBytes} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        trace: [],
      });
    }
    return JSON.parse(outcome.payload) as unknown;
  }

  private acquire(): Promise<ExecutionEnvironment> {
    const idle = this.idleEnvironments.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    return new Promise<ExecutionEnvironment>((resolve, reject) => {
      this.waiters.push({ sequence: this.account.nextSequence(), resolve, reject });
      this.account.dispatch();
    });
  }

  /**
   * An environment finished an invocation: the next invocation of this function takes it warm, unless
   * the host is full and another function is starved of environments (then the slot goes there); with
   * nobody waiting it stays idle, or gives its slot to another function that cannot get one otherwise.
   */
  private release(env: ExecutionEnvironment): void {
    if (!env.isAlive) return;
    if (this.closed) {
      void env.destroy();
      return;
    }
    if (this.waiters.length > 0) {
      const target = this.account.yieldTarget(this);
      if (target === undefined) this.waiters.shift()?.resolve(env);
      else this.account.handOver(target, () => void env.destroy());
      return;
    }
    if (this.account.othersNeedSlot(this)) {
      void env.destroy();
      return;
    }
    env.idle();
    this.idleEnvironments.push(env);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.account.unregister(this);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`function ${this.name} is closed`));
    this.idleEnvironments.length = 0;
    await Promise.all([...this.environments].map((env) => env.destroy()));
  }

  private spawn(): ExecutionEnvironment {
    const env = new ExecutionEnvironment(this.config, this.account, (ended) => {
      this.environments.delete(ended);
      const index = this.idleEnvironments.indexOf(ended);
      if (index !== -1) this.idleEnvironments.splice(index, 1);
      this.account.environmentEnded();
    });
    this.environments.add(env);
    return env;
  }
}

/**
 * Loads a Lambda function from its bundle. Nothing runs until the first invocation, which starts the first
 * execution environment (a cold start, as on Lambda); later invocations reuse idle environments. Functions
 * given the same `account` share its concurrency quota and host capacity; without one, a function has an
 * account of its own with the defaults.
 */
export function loadFunction(config: FunctionConfig): LambdaFunction {
  const bundlePath = resolve(config.bundlePath);
  if (!existsSync(bundlePath)) {
    throw new Error(`Lambda bundle not found for ${config.name}: ${bundlePath} (run \`make build\`)`);
  }
  if (!Number.isFinite(config.timeoutMs) || config.timeoutMs <= 0 || config.timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(`timeoutMs must be in (0, ${MAX_TIMEOUT_MS}], got ${config.timeoutMs}`);
  }
  const initTimeoutMs = config.initTimeoutMs ?? INIT_TIMEOUT_MS;
  if (!Number.isFinite(initTimeoutMs) || initTimeoutMs <= 0) {
    throw new RangeError(`initTimeoutMs must be a positive number, got ${initTimeoutMs}`);
  }
  const memoryMb = config.memoryMb ?? MIN_MEMORY_MB;
  if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
    throw new RangeError(
      `memoryMb must be an integer in [${MIN_MEMORY_MB}, ${MAX_MEMORY_MB}], got ${memoryMb}`,
    );
  }
  const env = config.env ?? {};
  const reserved = Object.keys(env).filter((key) => RESERVED_ENV_KEYS.has(key));
  if (reserved.length > 0) {
    // Same refusal as Lambda's CreateFunction/UpdateFunctionConfiguration for reserved keys.
    throw new Error(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(',')}`,
    );
  }
  const region = config.region ?? 'us-east-1';
  const accountId = config.accountId ?? '000000000000';
  return new LocalFunction(
    {
      name: config.name,
      bundlePath,
      timeoutMs: config.timeoutMs,
      initTimeoutMs,
      memoryMb,
      env,
      handler: config.handler ?? 'handler',
      region,
      arn: `arn:aws:lambda:${region}:${accountId}:function:${config.name}`,
      credentials: config.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
      sink: config.logSink ?? stdoutLogSink,
      runtime: config.runtime ?? 'nodejs22.x',
      ...(config.onInvocationStart ? { onInvocationStart: config.onInvocationStart } : {}),
    },
    config.account ?? createLambdaAccount(),
  );
}
