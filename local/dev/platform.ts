import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type Message, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PlatformEndpoints as LocalConfig } from '@fanout/protocol';
import { Publisher } from '@fanout/publisher';
import { MIN_SECRET_BYTES } from '../../shared/auth/config.js';
import { BACKEND_ROUTES, type BackendRouteKey, requestParameters } from '../../shared/backend/contract.js';
import {
  codeActions,
  FUNCTION_NAMES as MANIFEST_FUNCTIONS,
  manifest,
  type WiredSource,
} from '../../shared/deployment/manifest.js';
import { type LocalDynamoDb, startLocalDynamoDb } from '../dynamodb/dynamodb.js';
import { type LocalEventBridge, startEventBridge } from '../eventbridge/server.js';
import { httpIntegration } from '../gateway/http-integration.js';
import { startGateway } from '../gateway/index.js';
import type { ConnectionsCall, GatewayFaults, GatewayHandle, Integration } from '../gateway/types.js';
import { type IamGuard, startIamGuard } from '../iam/guard.js';
import { createLambdaAccount, type LambdaAccount, type LambdaAccountOptions } from '../lambda/account.js';
import { type LambdaFunction, type LogSink, loadFunction, stdoutLogSink } from '../lambda/runner.js';
import { type Poller, type PollerLog, startPoller } from '../sqs/poller.js';
import { createQueueWithDlq, type LocalSqsServer, localSqsClient, startFauxqs } from '../sqs/queues.js';
import { type LocalSsm, startLocalSsm } from '../ssm/server.js';
import { type LocalBackend, ROUTE_FUNCTIONS, startBackendProcess } from './backend-process.js';
import { type DashboardServer, startDashboardServer } from './dashboard-server.js';
import { createLocalInspector, type LocalInspector, LogBuffer } from './inspector.js';
import { persistedSecret } from './secret.js';
import {
  functionEnvironment,
  readStackSettings,
  type StackOverrides,
  type StackSettings,
} from './settings.js';

/**
 * The whole platform on loopback, as on AWS: the built function bundles run unchanged (each in its
 * own Lambda-like environment) against local stand-ins that speak the AWS wire APIs: API Gateway's
 * WebSocket API and `@connections`, EventBridge PutEvents with the Terraform's rule pattern, SQS with
 * the Terraform's redrive policy and an event source mapping, and DynamoDB. Each function gets the
 * memory, timeout and environment the deployment manifest (functions.json) gives it on AWS.
 */

export const FUNCTION_NAMES = MANIFEST_FUNCTIONS;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export const ROUTE_BACKENDS = ['lambda', 'http'] as const;
export type RouteBackend = (typeof ROUTE_BACKENDS)[number];

/**
 * Where an event is on its way through the pipeline, for the latency benchmark's stage split: each
 * hook is called synchronously at the moment named, and reads its own clock. None is set by default,
 * and none may throw (a throw would count as a failure of the component that calls it).
 */
export interface PipelineTrace {
  /** The rule's SQS target accepted the event: SendMessage answered, with the body sent. */
  enqueued?: (body: string) => void;
  /** The event source mapping's ReceiveMessage returned these messages. */
  received?: (messages: readonly Message[]) => void;
  /** A fan-out invocation started in its environment, with the SQS event it was given. */
  invoked?: (event: unknown) => void;
  /** The gateway answered an `@connections` call. */
  answered?: (call: ConnectionsCall, status: number, data: Buffer | undefined) => void;
}

export interface LocalPlatformOptions {
  /** The repository: dist/ (bundles), terraform/modules/fanout (rule pattern), local/dashboard. */
  rootDir: string;
  /** Resource name prefix, like Terraform's `var.name`. */
  name?: string;
  region?: string;
  stage?: string;
  /** WebSocket API and @connections port (0: any free port). */
  gatewayPort?: number;
  /** Dashboard port (0: any free port); `false` starts no dashboard. */
  dashboardPort?: number | false;
  /**
   * HS256 secret the authorizer accepts; random per start unless given. The authorizer refuses one
   * shorter than MIN_SECRET_BYTES (shared/auth/config.ts), so such a secret is refused at start.
   */
  jwtSecret?: string;
  /**
   * Keep DynamoDB data on disk here instead of in memory, and the JWT secret beside it
   * (`<dataDir>/jwt-secret`, mode 0600) unless `jwtSecret` is given: tokens survive a restart.
   */
  dataDir?: string;
  /** API Gateway's idle (10 min) and maximum (2 h) connection durations, shortened for tests. */
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /** Latency and faults injected into @connections calls. */
  faults?: GatewayFaults;
  /** Reverse proxies whose X-Forwarded-For the gateway believes (GatewayOptions.trustedProxies). */
  trustedProxies?: readonly string[];
  /** The WebSocket URL browsers use through a reverse proxy (deploy/apache): the dashboard page gets it. */
  publicWebsocketUrl?: string;
  /**
   * Settings that differ from functions.json and variables.tf, as the Terraform module takes them
   * (tests shorten timeouts and the stage's throttling limits).
   */
  overrides?: StackOverrides;
  /**
   * The Lambda account the functions share: its concurrency quota (Lambda's default 1,000; beyond it an
   * invocation is throttled as on AWS) and the host's capacity (environments alive and initializing at
   * once; beyond it invocations wait for a warm environment). See local/lambda/account.ts.
   */
  lambda?: LambdaAccountOptions;
  /** Time between DynamoDB TTL sweeps (local/dynamodb/ttl.ts); `false`: none. Default 60 s. */
  ttlSweepIntervalMs?: number | false;
  /**
   * What serves the routes: `lambda` (default), the route functions as on AWS, or `http`, the built
   * `fanout backend` (dist/backend) in its own process, called through HTTP integrations with the
   * request parameters of shared/backend/contract.ts. The authorizer and the fan-out stay Lambda.
   */
  routeBackend?: RouteBackend;
  /** Run another bundle for a function (tests: a handler that throws). */
  bundles?: Partial<Record<FunctionName, string>>;
  /** Where function logs go (default: stdout, prefixed by the function name). */
  logSink?: LogSink;
  /**
   * Where the SQS event source mapping's own lines go (default: warnings and errors to stderr). Tests
   * collect them: a redelivery test expects "invocation failed" warnings and a short visibility timeout.
   */
  pollerLog?: PollerLog;
  /** Progress lines while starting and stopping. */
  progress?: (line: string) => void;
  /** Observation points for the latency benchmark (PipelineTrace); none by default. */
  trace?: PipelineTrace;
}

export interface LocalPlatform {
  config: LocalConfig;
  settings: StackSettings;
  gateway: GatewayHandle;
  dynamodb: LocalDynamoDb;
  /** The account the functions share: its quota, capacity and counters (`stats()`). */
  lambdaAccount: LambdaAccount;
  eventBridge: LocalEventBridge;
  sqs: SQSClient;
  /** The functions running: all of them, or with `routeBackend: 'http'` the authorizer and the fan-out. */
  functions: Partial<Record<FunctionName, LambdaFunction>>;
  /** With `routeBackend: 'http'`: the backend process and the proof its integrations send. */
  backend?: LocalBackend;
  /** The Parameter Store holding the HS256 secret (`secretParameter`) the authorizer reads. */
  ssm: LocalSsm;
  secretParameter: string;
  /** Each running function's IAM guard: what it called, and what it was refused. */
  iam: Partial<Record<FunctionName, IamGuard>>;
  poller: Poller;
  /** What the inspector page and `fanout inspect` show, read as they read it. */
  inspector: LocalInspector;
  close(): Promise<void>;
}

/** The rule's SQS target: the SQS client itself, or a send that tells the trace once SQS has the message. */
function sqsTarget(
  sqs: SQSClient,
  queueUrl: string,
  trace: PipelineTrace | undefined,
): { sqsClient: SQSClient } | { send: (body: string) => Promise<void> } {
  const enqueued = trace?.enqueued;
  if (!enqueued) return { sqsClient: sqs };
  return {
    send: async (body) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      enqueued(body);
    },
  };
}

/**
 * Refuses a JWT secret the authorizer would refuse at every cold start (it needs MIN_SECRET_BYTES,
 * RFC 7518 3.2): the platform would report ready, then fail every connection with 500.
 */
export function assertJwtSecret(secret: string, what = 'the JWT secret'): void {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new Error(
      `${what} must be at least ${MIN_SECRET_BYTES} bytes (HS256 needs a key as long as its hash), got ${bytes}: the authorizer would refuse it and every connection would fail`,
    );
  }
}

/** The secret given, else the one kept in the data directory, else a fresh one for this start. */
export function jwtSecretFor(
  options: Pick<LocalPlatformOptions, 'jwtSecret' | 'dataDir'>,
  progress: (line: string) => void,
): string {
  if (options.jwtSecret !== undefined) return options.jwtSecret;
  if (options.dataDir === undefined) return randomBytes(32).toString('base64url');
  const kept = persistedSecret(options.dataDir);
  if (kept.tightened) progress(`${kept.file} was readable by others: made it owner-only (0600)`);
  assertJwtSecret(kept.secret, kept.file);
  progress(`JWT secret             ${kept.file} (${kept.created ? 'new' : 'kept from an earlier start'})`);
  return kept.secret;
}

export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  if (options.jwtSecret !== undefined) assertJwtSecret(options.jwtSecret);
  const progress = options.progress ?? (() => {});
  const name = options.name ?? 'fanout-local';
  const region = options.region ?? 'us-east-1';
  const stage = options.stage ?? 'local';
  const jwtSecret = jwtSecretFor(options, progress);
  const stopList: { label: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const { label, stop } of stopList.reverse()) {
      progress(`stopping ${label}`);
      await stop().catch((err: unknown) => progress(`  ${label} did not stop cleanly: ${String(err)}`));
    }
  };

  try {
    const settings = readStackSettings(join(options.rootDir, 'terraform/modules/fanout'), options.overrides);
    const routeBackend = options.routeBackend ?? 'lambda';
    if (!(ROUTE_BACKENDS as readonly string[]).includes(routeBackend)) {
      throw new Error(`routeBackend must be ${ROUTE_BACKENDS.join(' or ')}, got ${String(routeBackend)}`);
    }
    // With an HTTP backend, no route function is created, as the Terraform choice creates none.
    const running = FUNCTION_NAMES.filter(
      (fn) => routeBackend === 'lambda' || !(ROUTE_FUNCTIONS as readonly string[]).includes(fn),
    );
    const bundlePath = (fn: FunctionName) =>
      options.bundles?.[fn] ?? join(options.rootDir, 'dist', fn, 'index.mjs');
    const backendBundle = join(options.rootDir, 'dist', 'backend', 'index.mjs');
    if (routeBackend === 'http' && !existsSync(backendBundle)) {
      throw new Error(`${backendBundle} is missing: run \`make build\` first`);
    }
    for (const fn of running) {
      if (!existsSync(bundlePath(fn)))
        throw new Error(`${bundlePath(fn)} is missing: run \`make build\` first`);
    }

    const dynamodb: LocalDynamoDb = await startLocalDynamoDb({
      tableName: `${name}-connections`,
      region,
      ...(options.dataDir ? { path: options.dataDir } : {}),
      ...(options.ttlSweepIntervalMs !== undefined ? { ttlSweepIntervalMs: options.ttlSweepIntervalMs } : {}),
      onSweepError: (err) => progress(`DynamoDB TTL sweep failed: ${String(err)}`),
    });
    stopList.push({ label: 'DynamoDB', stop: dynamodb.stop });
    progress(`DynamoDB (dynalite)    ${dynamodb.endpoint}  table ${dynamodb.tableName}`);

    // fauxqs is looked up from the project, not the working directory: `fanout dev` may run anywhere.
    const sqsServer: LocalSqsServer = await startFauxqs({ region, searchFrom: options.rootDir });
    stopList.push({ label: 'SQS', stop: sqsServer.stop });
    const sqs = localSqsClient(sqsServer.endpoint, region);
    stopList.push({ label: 'SQS client', stop: async () => sqs.destroy() });
    const queues = await createQueueWithDlq(sqs, {
      name,
      visibilityTimeoutSeconds: settings.fanoutQueue.visibility_timeout_seconds,
      maxReceiveCount: settings.fanoutQueue.max_receive_count,
      maxMessageSize: settings.fanoutQueue.max_message_size,
    });
    progress(`SQS (fauxqs)           ${sqsServer.endpoint}  queue ${queues.queueUrl}`);

    // The HS256 secret lives in a SecureString parameter, as the module keeps it on AWS: the authorizer
    // reads it once per cold start, never from its environment.
    const secretParameter = `/${name}/auth-jwt-secret`;
    const ssm: LocalSsm = await startLocalSsm({ region, parameters: { [secretParameter]: jwtSecret } });
    stopList.push({ label: 'SSM', stop: () => ssm.close() });

    // The gateway needs the route functions and the fan-out function needs the gateway's endpoint, so
    // the route integrations look functions up when they are called.
    const functions: Partial<Record<FunctionName, LambdaFunction>> = {};
    const invoke = (fn: FunctionName) => (event: object) => {
      const target = functions[fn];
      if (!target) throw new Error(`the ${fn} function is not running`);
      return target.invoke(event);
    };
    // The backend starts after the gateway (it needs the @connections endpoint): its integrations
    // are made once it listens, and looked up when a route is called.
    const apiId = 'local0api1';
    const backendCalls: Partial<Record<BackendRouteKey, Integration>> = {};
    const call =
      (route: BackendRouteKey): Integration =>
      (event, info) => {
        const integration = backendCalls[route];
        if (!integration) throw new Error(`the backend is not listening yet (${route})`);
        return integration(event, info);
      };
    const integrations: Record<string, Integration> =
      routeBackend === 'http'
        ? {
            $connect: call('$connect'),
            $disconnect: call('$disconnect'),
            $default: call('$default'),
            subscribe: call('subscribe'),
            unsubscribe: call('unsubscribe'),
          }
        : {
            $connect: invoke('connect'),
            $disconnect: invoke('disconnect'),
            $default: invoke('default'),
            subscribe: invoke('subscribe'),
            unsubscribe: invoke('unsubscribe'),
          };
    const gateway = await startGateway({
      port: options.gatewayPort ?? 0,
      stage,
      region,
      apiId,
      integrations,
      authorizer: { identitySource: 'route.request.querystring.token', invoke: invoke('authorizer') },
      twoWayRoutes: ['$default', 'subscribe', 'unsubscribe'],
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxConnectionMs ? { maxConnectionMs: options.maxConnectionMs } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
      ...(options.trace?.answered ? { onConnectionsCall: options.trace.answered } : {}),
      throttling: {
        burstLimit: settings.stageThrottling.stage_throttling_burst_limit,
        rateLimit: settings.stageThrottling.stage_throttling_rate_limit,
      },
    });
    stopList.push({ label: 'WebSocket gateway', stop: () => gateway.close() });
    progress(
      `WebSocket API          ${gateway.url}  (throttling per route: burst ${settings.stageThrottling.stage_throttling_burst_limit}, ${settings.stageThrottling.stage_throttling_rate_limit}/s)`,
    );

    // Deployed functions run on functions.json's runtime (nodejs22.x); the SDK's warning about an
    // older Node only concerns the machine running them here, so it is kept out of the function logs
    // with the SDK's own switch. The endpoint variables (below) point the functions' AWS SDK clients
    // at the local stand-ins.
    const runtime = {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    // What the module's common_environment sets, with its defaults.
    const common = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_METRICS_NAMESPACE: 'fanout',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    // The local stand-ins of what the module wires in (functions.json's "from").
    const wired: Record<WiredSource, string | undefined> = {
      table_name: dynamodb.tableName,
      fanout_queue_url: queues.queueUrl,
      fanout_dlq_url: queues.dlqUrl,
      management_endpoint: gateway.managementEndpoint,
      auth_jwt_secret: undefined,
      auth_jwt_secret_parameter: secretParameter,
      auth_jwt_secret_version: '1',
      auth_jwks_url: undefined,
      auth_issuer: undefined,
      auth_audience: undefined,
    };
    const lambdaAccount = createLambdaAccount(options.lambda);
    // The fan-out function's lines are kept for the inspector, as CloudWatch Logs keeps them on AWS.
    const fanoutLogs = new LogBuffer();
    const sink = options.logSink ?? stdoutLogSink;
    const fanoutName = `${name}-fanout`;
    const logSink: LogSink = (entry) => {
      if (entry.functionName === fanoutName) fanoutLogs.push(entry);
      sink(entry);
    };
    // Each function reaches the stand-ins through its own IAM guard, which allows what its role is
    // granted in functions.json and refuses the rest with AccessDeniedException, as AWS would.
    const iam: Partial<Record<FunctionName, IamGuard>> = {};
    for (const fn of running) {
      const guard = await startIamGuard({
        role: `${name}-${fn}`,
        allowed: new Set(codeActions(fn)),
        upstreams: {
          dynamodb: dynamodb.endpoint,
          sqs: sqsServer.endpoint,
          ssm: ssm.endpoint,
          connections: gateway.serveConnectionsCall,
        },
      });
      iam[fn] = guard;
      stopList.push({ label: `${fn} IAM guard`, stop: () => guard.close() });
      const { memory_size, timeout } = settings.functions[fn];
      const guarded = guard.endpoint;
      const endpoints = {
        AWS_ENDPOINT_URL_DYNAMODB: guarded,
        AWS_ENDPOINT_URL_SQS: guarded,
        AWS_ENDPOINT_URL_SSM: guarded,
      };
      // Through the guard: the management endpoint, and the queue URLs (the SQS client sends each
      // call to the queue's own URL).
      const viaGuard = (url: string) => `${guarded}${new URL(url).pathname}`;
      const loaded = loadFunction({
        name: `${name}-${fn}`,
        bundlePath: bundlePath(fn),
        timeoutMs: 1000 * timeout,
        memoryMb: memory_size,
        env: {
          ...runtime,
          ...endpoints,
          ...common,
          ...functionEnvironment(fn, settings, {
            ...wired,
            management_endpoint: viaGuard(gateway.managementEndpoint),
            fanout_queue_url: viaGuard(queues.queueUrl),
            fanout_dlq_url: viaGuard(queues.dlqUrl),
          }),
        },
        region,
        runtime: manifest.runtime,
        logSink,
        account: lambdaAccount,
        ...(fn === 'fanout' && options.trace?.invoked ? { onInvocationStart: options.trace.invoked } : {}),
      });
      functions[fn] = loaded;
      stopList.push({ label: `${fn} function`, stop: () => loaded.close() });
    }
    progress(`Lambda functions       ${running.join(', ')} (from ${join(options.rootDir, 'dist')})`);

    let backend: LocalBackend | undefined;
    if (routeBackend === 'http') {
      // The backend stands where a container would, outside any Lambda role: straight to the stand-ins.
      const env: Record<string, string> = {
        ...runtime,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
        ...common,
      };
      for (const fn of ROUTE_FUNCTIONS) Object.assign(env, functionEnvironment(fn, settings, wired));
      backend = await startBackendProcess({
        bundlePath: backendBundle,
        name: `${name}-backend`,
        region,
        env,
        logSink: options.logSink ?? stdoutLogSink,
      });
      const started = backend;
      stopList.push({ label: 'route backend', stop: () => started.stop() });
      for (const route of Object.keys(BACKEND_ROUTES) as BackendRouteKey[]) {
        backendCalls[route] = httpIntegration({
          uri: `${started.url}${BACKEND_ROUTES[route].path}`,
          requestParameters: requestParameters(route, started.proof),
          apiId,
        });
      }
      progress(`Route backend          ${started.url}  (fanout backend over HTTP integrations)`);
    }
    progress(
      `                       account concurrency ${lambdaAccount.concurrency}; environments at most ${lambdaAccount.maxEnvironmentsPerFunction} a function, ${lambdaAccount.maxEnvironments} in all, ${lambdaAccount.maxConcurrentInits} initializing at once`,
    );

    const eventBusName = `${name}-events`;
    const eventBridge = await startEventBridge({
      region,
      buses: [
        {
          name: eventBusName,
          rules: [
            {
              name: `${name}-fanout`,
              pattern: settings.eventPattern,
              targets: [
                { type: 'sqs', queueUrl: queues.queueUrl, ...sqsTarget(sqs, queues.queueUrl, options.trace) },
              ],
            },
          ],
        },
      ],
    });
    stopList.push({ label: 'EventBridge', stop: () => eventBridge.close() });
    progress(`EventBridge            ${eventBridge.endpoint}  bus ${eventBusName}`);

    const fanout = functions.fanout;
    if (!fanout) throw new Error('the fanout function is not running');
    const poller = await startPoller({
      sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region,
      fn: fanout,
      batchSize: settings.fanoutQueue.batch_size,
      maximumBatchingWindowMs: settings.fanoutQueue.batching_window_seconds * 1000,
      functionTimeoutMs: settings.functions.fanout.timeout * 1000,
      maximumConcurrency: Math.max(2, Math.min(settings.fanoutQueue.maximum_concurrency, 4)),
      ...(options.pollerLog ? { log: options.pollerLog } : {}),
      ...(options.trace?.received ? { onReceive: options.trace.received } : {}),
    });
    stopList.push({ label: 'SQS poller', stop: () => poller.stop() });

    const inspector = createLocalInspector({
      region,
      dynamodbEndpoint: dynamodb.endpoint,
      tableName: dynamodb.tableName,
      sqs,
      sqsEndpoint: sqsServer.endpoint,
      queueUrl: queues.queueUrl,
      dlqUrl: queues.dlqUrl,
      logs: fanoutLogs,
    });
    stopList.push({ label: 'inspector', stop: async () => inspector.close() });

    let dashboard: DashboardServer | undefined;
    const publisherClient = new EventBridgeClient({
      endpoint: eventBridge.endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    stopList.push({ label: 'EventBridge client', stop: async () => publisherClient.destroy() });
    if (options.dashboardPort !== false) {
      dashboard = await startDashboardServer({
        port: options.dashboardPort ?? 0,
        dashboardDir: join(options.rootDir, 'local/dashboard'),
        scriptPath: join(options.rootDir, 'dist/dashboard/dashboard.js'),
        websocketUrl: options.publicWebsocketUrl ?? gateway.url,
        jwtSecret,
        publisher: new Publisher({ eventBusName, source: 'fanout.dashboard', client: publisherClient }),
        inspector,
      });
      stopList.push({ label: 'dashboard', stop: () => dashboard?.close() ?? Promise.resolve() });
      progress(`Dashboard              ${dashboard.url}`);
    }

    const config: LocalConfig = {
      region,
      websocketUrl: gateway.url,
      managementEndpoint: gateway.managementEndpoint,
      eventBridgeEndpoint: eventBridge.endpoint,
      sqsEndpoint: sqsServer.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      ...(dashboard ? { dashboardUrl: dashboard.url } : {}),
      ...(options.publicWebsocketUrl ? { publicWebsocketUrl: options.publicWebsocketUrl } : {}),
      eventBusName,
      tableName: dynamodb.tableName,
      queueUrl: queues.queueUrl,
      dlqUrl: queues.dlqUrl,
      jwtSecret,
      token: "npx fanout token --sub <user> --topics '<pattern>,...'",
    };
    return {
      config,
      settings,
      gateway,
      dynamodb,
      lambdaAccount,
      eventBridge,
      sqs,
      ssm,
      secretParameter,
      iam,
      functions,
      ...(backend ? { backend } : {}),
      poller,
      inspector,
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
