import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionEnvironment, runtimeVariable } from '../../shared/config.js';
import { FanoutEngine } from '../../shared/fanout/engine.js';
import { createFanoutHandler } from '../../shared/fanout/handler.js';
import { optionsFromEnvironment } from '../../shared/fanout/options.js';
import { SignedConnectionGateway } from '../../shared/gateway/gateway-signed.js';
import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { SqsWorkQueue } from '../../shared/queue/queue-sqs.js';
import { withoutSdkLogger } from '../../shared/sdk-logging.js';
import { DynamoDbHistoryStore } from '../../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';

// Everything below runs once per cold start; every invocation reuses the clients and their
// keep-alive sockets. A missing or malformed variable fails the cold start, naming the variable.
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
// The lean @connections path: SigV4-signed posts on a keep-alive agent, with the execution role's
// credentials from the environment Lambda sets (docs/architecture.md, "The fan-out algorithm").
const gateway = new SignedConnectionGateway({
  endpoint: env.string('MANAGEMENT_ENDPOINT'),
  region: runtimeVariable(process.env, 'AWS_REGION'),
  credentials: fromEnv(),
  maxSockets: options.concurrency,
  requestTimeoutMs: options.requestTimeoutMs,
});
const powertools = observability('fanout');
const { logger: log, metrics } = fromPowertools(powertools);
const engine = new FanoutEngine({ store, history, gateway, queue, log, metrics }, options);

export const handler = createFanoutHandler({ engine, powertools });
