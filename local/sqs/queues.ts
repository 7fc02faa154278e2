/**
 * Local SQS: fauxqs 1.9.2 (an SQS/SNS/S3 emulator speaking the AWS JSON protocol that `@aws-sdk/client-sqs` v3
 * uses) on loopback, and the fan-out queue + DLQ created through the same wire API Terraform uses on AWS.
 *
 * fauxqs is ESM-only. It runs in a `worker_threads` Worker of this process (`eval: true`,
 * ../worker-server.ts) because:
 * - jest transforms our code to CommonJS and a native `import()` from there fails without
 *   --experimental-vm-modules (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG); inside a Worker, `import()` is
 *   Node's own loader, under jest or not, whatever jest.config.cjs transforms;
 * - `startFauxqs()` always listens on 0.0.0.0, so the Worker calls `buildApp()` and listens on 127.0.0.1
 *   itself (loopback only, as the local runtime promises).
 *
 * Queue URLs: by default fauxqs names queues `http://sqs.<region>.localhost:<port>/000000000000/<name>`, a host
 * that does not resolve here. The SDK (3.1169) sends a request to the QueueUrl's host whenever it differs from
 * the client's resolved endpoint, unless `endpoint` is set in code: with only AWS_ENDPOINT_URL_SQS in the
 * environment (how a Lambda bundle is pointed at a local endpoint) it fails with ENOTFOUND (checked). So the
 * Worker gives fauxqs an SqsStore whose `host` is empty, which makes fauxqs build queue URLs from the request's
 * Host header: `http://127.0.0.1:<port>/000000000000/<name>`, the endpoint itself, which every client reaches
 * whatever its endpoint settings (as an AWS queue URL is on the region's SQS endpoint). That store is imported
 * from fauxqs's dist/ files (not in its package exports), hence the pinned 1.9.2.
 */

import { resolve } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startWorkerServer } from '../worker-server.js';

const FAUXQS_WORKER_SOURCE = `
'use strict';
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { parentPort, workerData } = require('node:worker_threads');

function findEntry() {
  if (workerData.entry) return workerData.entry;
  const start = workerData.searchFrom || process.cwd();
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'fauxqs', 'dist', 'app.js');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error('fauxqs not found in node_modules above ' + start);
  }
}

(async () => {
  const entry = findEntry();
  const url = (relative) => pathToFileURL(join(dirname(entry), relative)).href;
  const { buildApp } = await import(url('app.js'));
  const { SqsStore } = await import(url('sqs/sqsStore.js'));
  const { SnsStore } = await import(url('sns/snsStore.js'));
  const { S3Store } = await import(url('s3/s3Store.js'));
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  const app = buildApp({
    logger: false,
    defaultRegion: workerData.region,
    stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() },
  });
  await app.listen({ host: workerData.host, port: workerData.port });
  const address = app.server.address();
  parentPort.on('message', (message) => {
    if (message && message.type === 'stop') {
      app.close().then(
        () => parentPort.postMessage({ type: 'stopped' }),
        (error) => parentPort.postMessage({ type: 'stopped', error: String(error) }),
      );
    }
  });
  parentPort.postMessage({ type: 'listening', port: address.port });
})().catch((error) => parentPort.postMessage({ type: 'error', error: String((error && error.stack) || error) }));
`;

export interface LocalSqsServer {
  /** `http://127.0.0.1:<port>`: the SQS endpoint for SDK clients (and AWS_ENDPOINT_URL_SQS). */
  endpoint: string;
  port: number;
  region: string;
  stop(): Promise<void>;
}

export interface StartFauxqsOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** fauxqs's fallback region (requests signed for another region still use theirs); default us-east-1. */
  region?: string;
  /** fauxqs's `dist/app.js`; default: found in `node_modules` at or above `searchFrom`. */
  fauxqsEntry?: string;
  /**
   * Where the search for fauxqs starts; default the working directory. `fanout dev` passes the
   * project's own directory, so it works from any directory (it used to fail outside the checkout).
   */
  searchFrom?: string;
}

/** Starts fauxqs on loopback with an ephemeral port. */
export async function startFauxqs(options: StartFauxqsOptions = {}): Promise<LocalSqsServer> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const entry = options.fauxqsEntry === undefined ? undefined : resolve(options.fauxqsEntry);
  const { port, stop } = await startWorkerServer('fauxqs', FAUXQS_WORKER_SOURCE, {
    entry,
    searchFrom: options.searchFrom === undefined ? undefined : resolve(options.searchFrom),
    host,
    port: options.port ?? 0,
    region,
  });
  return { endpoint: `http://${host}:${port}`, port, region, stop };
}

/** An SQS client for a local endpoint; any credentials are accepted by fauxqs. */
export function localSqsClient(endpoint: string, region: string): SQSClient {
  return new SQSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export interface QueueWithDlqOptions {
  /** Name prefix, as Terraform's `var.name`: queues `<name>-fanout` and `<name>-fanout-dlq`. Default `fanout-dev`. */
  name?: string;
  /** VisibilityTimeout (s); Terraform sets 6 × function timeout + batching window. Default 30 (SQS's). */
  visibilityTimeoutSeconds?: number;
  /** RedrivePolicy maxReceiveCount; default 5 (Terraform's `fanout_max_receive_count`). */
  maxReceiveCount?: number;
  /** MessageRetentionPeriod (s) of the queue, default 86400, and of the DLQ, default 1209600 (Terraform's). */
  messageRetentionSeconds?: number;
  dlqMessageRetentionSeconds?: number;
  /** MaximumMessageSize (bytes) of both queues, as Terraform sets it from functions.json. Default 1048576. */
  maxMessageSize?: number;
}

export interface QueueWithDlq {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = output.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

/**
 * Creates the DLQ, then the queue with a RedrivePolicy pointing at it, as terraform/modules/fanout/messaging.tf
 * does (ReceiveMessageWaitTimeSeconds 20 too; consumers that pass WaitTimeSeconds override it).
 */
export async function createQueueWithDlq(
  sqs: SQSClient,
  options: QueueWithDlqOptions = {},
): Promise<QueueWithDlq> {
  const name = options.name ?? 'fanout-dev';
  const maximumMessageSize = String(options.maxMessageSize ?? 1_048_576);
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-fanout-dlq`,
      Attributes: {
        MessageRetentionPeriod: String(options.dlqMessageRetentionSeconds ?? 1_209_600),
        MaximumMessageSize: maximumMessageSize,
      },
    }),
  );
  if (dlq.QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl for the DLQ');
  const dlqArn = await queueArn(sqs, dlq.QueueUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-fanout`,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        MessageRetentionPeriod: String(options.messageRetentionSeconds ?? 86_400),
        ReceiveMessageWaitTimeSeconds: '20',
        MaximumMessageSize: maximumMessageSize,
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  if (queue.QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
  return {
    queueUrl: queue.QueueUrl,
    queueArn: await queueArn(sqs, queue.QueueUrl),
    dlqUrl: dlq.QueueUrl,
    dlqArn,
  };
}
