import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type InspectorTarget,
  type InspectSnapshot,
  inspect,
  type LogLine,
  localOldestMessageAge,
  redriveLetters,
} from '../../sdk/cli/src/inspect.js';
import type { LogEntry } from '../lambda/runner.js';

/**
 * The inspector of the local platform: the snapshot `fanout inspect` prints, taken with the same
 * code (sdk/cli/src/inspect.ts) against the local stand-ins, for the dashboard server's inspector
 * page. What CloudWatch Logs keeps on AWS, the fan-out function's log lines, is kept here.
 */

/** Lines of the fan-out function kept for the inspector: a few hundred invocations' worth. */
export const LOG_BUFFER_LINES = 5000;

/** The last lines a function logged, with when they came (CloudWatch Logs' ingestion time). */
export class LogBuffer {
  private readonly lines: LogLine[] = [];

  constructor(private readonly capacity = LOG_BUFFER_LINES) {}

  push(entry: LogEntry, now = Date.now()): void {
    this.lines.push({
      message: entry.line,
      timestamp: now,
      logStream: entry.logStream ?? entry.functionName,
    });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** The newest `limit` lines, oldest first. */
  recent(limit: number): LogLine[] {
    return this.lines.slice(-Math.max(0, limit));
  }
}

export interface LocalInspector {
  snapshot(): Promise<InspectSnapshot>;
  /** Redrives DLQ letters by message id, as `fanout dlq redrive ID...` does. */
  redrive(ids: readonly string[]): Promise<string[]>;
  logLines(limit: number): LogLine[];
  close(): void;
}

export interface LocalInspectorOptions {
  region: string;
  dynamodbEndpoint: string;
  tableName: string;
  sqs: SQSClient;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  logs: LogBuffer;
}

export function createLocalInspector(options: LocalInspectorOptions): LocalInspector {
  const dynamodb = new DynamoDBClient({
    endpoint: options.dynamodbEndpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const target: InspectorTarget = {
    mode: 'local',
    tableName: options.tableName,
    queueUrl: options.queueUrl,
    dlqUrl: options.dlqUrl,
    dynamodb,
    sqs: options.sqs,
    telemetry: {
      oldestMessageAgeSeconds: (url) => localOldestMessageAge(options.sqsEndpoint, url),
      fanoutLogLines: async (limit) => options.logs.recent(limit),
    },
  };
  // One at a time: a snapshot holds the DLQ's letters while it reads them (SQS has no peek), and a
  // redrive running meanwhile would not find the letter it was asked for.
  let last: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
  return {
    snapshot: () => serially(() => inspect(target)),
    redrive: (ids) => serially(() => redriveLetters(target, ids)),
    logLines: (limit) => options.logs.recent(limit),
    close: () => dynamodb.destroy(),
  };
}
