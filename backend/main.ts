import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readBackendSettings } from '../shared/backend/config.js';
import { GatewayProof } from '../shared/backend/proof.js';
import { type BackendHandle, startBackend } from '../shared/backend/server.js';
import { ConfigError, functionEnvironment, isConfigError, runtimeVariable } from '../shared/config.js';
import { SignedConnectionGateway } from '../shared/gateway/gateway-signed.js';
import { fromPowertools, observability } from '../shared/observability/powertools.js';
import { recoveryMarginMs } from '../shared/routes/recovery.js';
import { assertMaxSubscriptions } from '../shared/routes/subscribe.js';
import { DynamoDbHistoryStore } from '../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../shared/store/store-dynamodb.js';

/** Where the command prints what is not a log line (usage, configuration errors). */
export interface BackendIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: BackendIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

const HELP = `fanout backend [--port 8080] [--host 127.0.0.1]

Serves every WebSocket route ($connect, $disconnect, $default, subscribe, unsubscribe, ping) for
API Gateway HTTP integrations. Configuration comes from the environment, as for the route
functions (functions.json): TABLE_NAME, MANAGEMENT_ENDPOINT, AWS_REGION, the routes' settings
(MAX_SUBSCRIPTIONS, HISTORY_RETENTION_SECONDS, ...), and FANOUT_BACKEND_PROOF, the secret the
integrations send in X-Fanout-Gateway-Proof. FANOUT_BACKEND_PORT / FANOUT_BACKEND_HOST are the
defaults of --port / --host. SIGTERM or SIGINT stops it after the calls in flight.`;

/**
 * Wires the route use cases as the Lambda handlers do (functions/<route>/handler.ts), but once for
 * the process: one DynamoDB client and one @connections signer shared by every call.
 */
async function start(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<BackendHandle> {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: 'string' }, host: { type: 'string' } },
  });
  // Every configuration problem at once, not one per restart.
  const problems: string[] = [];
  const read = <T>(what: () => T): T | undefined => {
    try {
      return what();
    } catch (err) {
      if (!isConfigError(err)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  const settings = read(() => readBackendSettings(env, values));
  // Each route reads what its function reads, from the same variables and manifest.
  const connectEnv = read(() => functionEnvironment('connect', env));
  const disconnectEnv = read(() => functionEnvironment('disconnect', env));
  const subscribeEnv = read(() => functionEnvironment('subscribe', env));
  read(() => functionEnvironment('unsubscribe', env));
  const region = read(() => runtimeVariable(env, 'AWS_REGION'));
  if (!settings || !connectEnv || !disconnectEnv || !subscribeEnv || !region) {
    throw new ConfigError([...new Set(problems.flatMap((p) => p.split('; ')))].join('; '));
  }

  const powertools = observability('backend');
  // The ports only: the Powertools instances are for middy's Lambda middlewares, which do not run here.
  const { logger, metrics } = fromPowertools(powertools);
  const ports = { logger, metrics };
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region }));
  const tableName = connectEnv.string('TABLE_NAME');
  const store = new DynamoDbConnectionStore(documents, tableName);
  const history = new DynamoDbHistoryStore(documents, tableName, {
    retentionSeconds: disconnectEnv.integer('HISTORY_RETENTION_SECONDS'),
  });
  // The task's or instance's role (ECS, EC2, EKS), or the environment's keys: the default chain.
  const gateway = new SignedConnectionGateway({
    endpoint: subscribeEnv.string('MANAGEMENT_ENDPOINT'),
    region,
    credentials: defaultProvider(),
    maxSockets: 16,
    requestTimeoutMs: 3_000,
  });
  const maxSubscriptions = subscribeEnv.integer('MAX_SUBSCRIPTIONS');
  assertMaxSubscriptions(maxSubscriptions);

  return startBackend({
    host: settings.host,
    port: settings.port,
    integrationTimeoutMs: settings.integrationTimeoutMs,
    proof: new GatewayProof(settings.proof),
    log: ports.logger,
    flushMetrics: () => powertools.metrics.publishStoredMetrics(),
    routes: {
      connect: { store, ...ports },
      disconnect: { store, history, ...ports },
      default: ports,
      unsubscribe: { store, ...ports },
      subscribe: {
        store,
        maxSubscriptions,
        recovery: {
          history,
          gateway,
          marginMs: recoveryMarginMs(
            subscribeEnv.integer('FANOUT_MAX_PAGE_SECONDS'),
            subscribeEnv.integer('FANOUT_REQUEST_TIMEOUT_MS'),
          ),
          maxEvents: subscribeEnv.integer('RECOVERY_MAX_EVENTS'),
        },
        ...ports,
      },
    },
  });
}

/**
 * `fanout backend [--port N] [--host H]`: runs until SIGTERM or SIGINT, then stops gracefully.
 * Resolves with the exit code: 0 stopped, 1 bad configuration, 2 usage error.
 */
export async function backendMain(
  argv: readonly string[],
  io: BackendIo = consoleIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(HELP);
    return 0;
  }
  let backend: BackendHandle;
  try {
    backend = await start(argv, env);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    if (code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`fanout backend: ${(err as Error).message}\nrun \`fanout backend --help\` for usage`);
      return 2;
    }
    if (isConfigError(err) || err instanceof RangeError) {
      io.err(`fanout backend: configuration_invalid: ${err.message}`);
      return 1;
    }
    throw err;
  }
  await new Promise<void>((stopped) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      stopped();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await backend.close();
  return 0;
}
