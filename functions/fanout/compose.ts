import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionEnvironment, runtimeVariable } from '../../shared/config.js';
import { FanoutEngine } from '../../shared/fanout/engine.js';
import { createFanoutHandler, type FanoutHandler } from '../../shared/fanout/handler.js';
import { optionsFromEnvironment } from '../../shared/fanout/options.js';
import type { ConnectionGateway } from '../../shared/gateway/gateway.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { SqsWorkQueue } from '../../shared/queue/queue-sqs.js';
import { withoutSdkLogger } from '../../shared/sdk-logging.js';
import { DynamoDbHistoryStore } from '../../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

/** What any `@connections` adapter of the fan-out is built from: the function's own settings. */
export interface GatewaySettings {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (MANAGEMENT_ENDPOINT). */
  endpoint: string;
  region: string;
  /** The fan-out concurrency: one kept-alive socket per post in flight. */
  maxSockets: number;
  requestTimeoutMs: number;
}

/**
 * The fan-out function's composition, with the `@connections` adapter left open: the deployed
 * function (handler.ts) passes the lean signed one, and the benchmark builds a variant with the plain
 * SDK client (bench/fanout-sdk) from the same composition, so the two differ in the adapter only.
 * Everything here runs once per cold start; a missing or malformed variable fails it, naming the
 * variable.
 *
 * @example
 * export const handler = composeFanout((s) => new SignedConnectionGateway({ ...s, credentials: fromEnv() }));
 */
export function composeFanout(makeGateway: (settings: GatewaySettings) => ConnectionGateway): FanoutHandler {
  const env = functionEnvironment('fanout', process.env);
  const options = optionsFromEnvironment((name) => env.integer(name));
  // No SDK logger is configured: its middleware would only copy every audience page (sdk-logging.ts).
  const documents = DynamoDBDocumentClient.from(withoutSdkLogger(new DynamoDBClient({})));
  const tableName = env.string('TABLE_NAME');
  const store = new DynamoDbConnectionStore(documents, tableName);
  const history = new DynamoDbHistoryStore(documents, tableName, {
    retentionSeconds: env.integer('HISTORY_RETENTION_SECONDS'),
  });
  const queue = new SqsWorkQueue(withoutSdkLogger(new SQSClient({})), {
    queueUrl: env.string('QUEUE_URL'),
    deadLetterQueueUrl: env.string('DLQ_URL'),
  });
  const gateway = makeGateway({
    endpoint: env.string('MANAGEMENT_ENDPOINT'),
    region: runtimeVariable(process.env, 'AWS_REGION'),
    maxSockets: options.concurrency,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const powertools = observability('fanout');
  const { logger: log, metrics } = fromPowertools(powertools);
  const engine = new FanoutEngine({ store, history, gateway, queue, log, metrics }, options);
  return createFanoutHandler({ engine, powertools });
}
