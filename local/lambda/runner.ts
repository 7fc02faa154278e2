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
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LAMBDA_WORKER_SOURCE } from './worker-source.js';

/** Lambda's synchronous invocation payload quota (request and response): 6 MB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The response limit Lambda quotes in its `Function.ResponseSizeTooLarge` message. */
const MAX_RESPONSE_BYTES = 6_291_556;
/** Lambda's limit on the init phase of an on-demand environment. */
const INIT_TIMEOUT_MS = 10_000;
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

export interface LambdaFunction {
  readonly name: string;
  readonly arn: string;
  /** Synchronous (RequestResponse) invocation: resolves with the JSON result, rejects with LambdaInvocationError. */
  invoke(event: unknown): Promise<unknown>;
  /** Live execution environments (idle or busy). */
  environmentCount(): number;
  /** Ends every environment; in-flight invocations fail. Further invokes are refused. */
  close(): Promise<void>;
}

interface ResolvedConfig {
  name: string;
  bundlePath: string;
  timeoutMs: number;
  memoryMb: number;
  env: Record<string, string>;
  handler: string;
  region: string;
  arn: string;
  credentials: AwsCredentials;
  sink: LogSink;
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
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
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

/** One Lambda execution environment: a Worker with the bundle imported once. */
class ExecutionEnvironment {
  readonly logStreamName = newLogStreamName();
  /** Resolves with the init duration (ms) once the bundle is imported and the handler found. */
  readonly ready: Promise<number>;
  coldStart = true;
  private alive = true;
  private readonly worker: Worker;
  private pending: PendingInvocation | undefined;
  private readonly buffers: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private settleReady:
    | { resolve: (ms: number) => void; reject: (error: LambdaErrorPayload) => void }
    | undefined;
  private initTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly onEnd: (env: ExecutionEnvironment) => void,
  ) {
    this.ready = new Promise<number>((resolveReady, rejectReady) => {
      this.settleReady = { resolve: resolveReady, reject: rejectReady };
    });
    // Callers await `ready` only on a cold start; never let an early failure surface as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker = new Worker(LAMBDA_WORKER_SOURCE, {
      eval: true,
      env: environmentVariables(config, this.logStreamName),
      workerData: { bundlePath: config.bundlePath, handlerName: config.handler },
      resourceLimits: { maxOldGenerationSizeMb: config.memoryMb },
    });
    this.worker.on('message', (raw: unknown) => this.onMessage(raw));
    this.worker.on('error', (error: Error & { code?: string }) => {
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
    this.worker.on('exit', (code: number) => {
      const requestId = this.pending?.requestId ?? 'undefined';
      this.end({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
        trace: [],
      });
    });
    this.initTimer = setTimeout(() => {
      this.end({
        errorType: 'Sandbox.Timedout',
        errorMessage: `INIT phase timed out after ${seconds(INIT_TIMEOUT_MS)} seconds`,
        trace: [],
      });
      void this.worker.terminate();
    }, INIT_TIMEOUT_MS);
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Runs one invocation; a timeout resets the environment (Lambda restarts the runtime after one). */
  run(id: number, requestId: string, eventJson: string): Promise<Outcome> {
    const { config } = this;
    const deadline = Date.now() + config.timeoutMs;
    // Busy environments keep the host alive; idle ones must not (see idle()).
    this.worker.ref();
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
      }, config.timeoutMs);
      this.pending = {
        id,
        requestId,
        settle: (outcome) => {
          clearTimeout(timer);
          this.flushLogs();
          settle(outcome);
        },
      };
      this.worker.postMessage({
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
    if (this.alive) this.worker.unref();
  }

  async destroy(): Promise<void> {
    this.end({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${this.pending?.requestId ?? 'undefined'} Error: Runtime exited with error: environment shut down`,
      trace: [],
    });
    await this.worker.terminate();
  }

  /** The environment is gone: fail whatever waits on it (first reason wins) and leave the pool. */
  private end(reason: LambdaErrorPayload): void {
    if (!this.alive) return;
    this.alive = false;
    clearTimeout(this.initTimer);
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
        this.settleReady?.resolve(message.initDurationMs);
        this.settleReady = undefined;
        return;
      case 'init-error':
        this.end(message.error);
        void this.worker.terminate();
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
      this.config.sink({ functionName: this.config.name, stream, line });
    } catch {
      // A failing sink must not fail the invocation.
    }
  }
}

class LocalFunction implements LambdaFunction {
  readonly name: string;
  readonly arn: string;
  private readonly idleEnvironments: ExecutionEnvironment[] = [];
  private readonly environments = new Set<ExecutionEnvironment>();
  private nextInvocationId = 1;
  private closed = false;

  constructor(private readonly config: ResolvedConfig) {
    this.name = config.name;
    this.arn = config.arn;
  }

  environmentCount(): number {
    return this.environments.size;
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

    // Lambda sends a request to a free warm environment, or starts a new one (cold start) when all are busy.
    const env = this.idleEnvironments.pop() ?? this.spawn();
    let initDurationMs: number | undefined;
    if (env.coldStart) {
      env.coldStart = false;
      try {
        initDurationMs = await env.ready;
      } catch (reason) {
        const error = toErrorPayload(reason);
        env.emit('stderr', `${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(error)}`);
        env.emit('platform', `INIT_REPORT Phase: init\tStatus: error\tError Type: ${error.errorType}`);
        await env.destroy();
        return fail(error);
      }
    }

    env.emit('platform', `START RequestId: ${requestId} Version: $LATEST`);
    const started = performance.now();
    const outcome = await env.run(this.nextInvocationId++, requestId, eventJson);
    const durationMs = performance.now() - started;
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
    if (env.isAlive && !this.closed) {
      env.idle();
      this.idleEnvironments.push(env);
    }

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

  async close(): Promise<void> {
    this.closed = true;
    this.idleEnvironments.length = 0;
    await Promise.all([...this.environments].map((env) => env.destroy()));
  }

  private spawn(): ExecutionEnvironment {
    const env = new ExecutionEnvironment(this.config, (ended) => {
      this.environments.delete(ended);
      const index = this.idleEnvironments.indexOf(ended);
      if (index !== -1) this.idleEnvironments.splice(index, 1);
    });
    this.environments.add(env);
    return env;
  }
}

/**
 * Loads a Lambda function from its bundle. Nothing runs until the first invocation, which starts the first
 * execution environment (a cold start, as on Lambda); later invocations reuse idle environments.
 */
export function loadFunction(config: FunctionConfig): LambdaFunction {
  const bundlePath = resolve(config.bundlePath);
  if (!existsSync(bundlePath)) {
    throw new Error(`Lambda bundle not found for ${config.name}: ${bundlePath} (run \`make build\`)`);
  }
  if (!Number.isFinite(config.timeoutMs) || config.timeoutMs <= 0 || config.timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(`timeoutMs must be in (0, ${MAX_TIMEOUT_MS}], got ${config.timeoutMs}`);
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
  return new LocalFunction({
    name: config.name,
    bundlePath,
    timeoutMs: config.timeoutMs,
    memoryMb,
    env,
    handler: config.handler ?? 'handler',
    region,
    arn: `arn:aws:lambda:${region}:${accountId}:function:${config.name}`,
    credentials: config.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    sink: config.logSink ?? stdoutLogSink,
  });
}
