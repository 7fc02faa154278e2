/**
 * A local EventBridge endpoint (docs/architecture.md, "The local runtime"): PutEvents over AWS JSON 1.1, an event-pattern
 * matcher per rule, and SQS targets that receive the envelope exactly as EventBridge sends it, so
 * the real `@aws-sdk/client-eventbridge` and the fan-out Lambda see what they see on AWS.
 * DescribeEventBus and ListRules answer minimally, for tools that check what is configured.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AwsJsonError, readJsonBody, sendAwsError, sendJson, TARGET_PREFIX } from './aws-json.js';
import { type Bus, type BusConfig, buildBuses, findBus } from './buses.js';
import { DEFAULT_RETRY_POLICY, Deliveries, type DeliveryStats, type RetryPolicy } from './delivery.js';
import { type LogFn, stderrLog } from './log.js';
import { matches } from './pattern.js';
import {
  buildEnvelope,
  DEFAULT_MAX_ENTRIES_BYTES,
  type EnvelopeContext,
  type EventEnvelope,
  parsePutEventsRequest,
  type ResultEntry,
} from './put-events.js';

export interface EventBridgeOptions {
  /** Loopback by default: the local runtime serves this machine only. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly region?: string;
  readonly accountId?: string;
  /** Only configured buses exist; `default` too (PutEvents without EventBusName fails otherwise). */
  readonly buses: readonly BusConfig[];
  /** The clock for entries without `Time`. */
  readonly now?: () => Date;
  readonly log?: LogFn;
  readonly retry?: Partial<RetryPolicy>;
  /** The PutEvents size limit on the entries of one request (AWS: 256 KB). */
  readonly maxEntriesBytes?: number;
}

export interface EventBridgeStats extends DeliveryStats {
  readonly requests: number;
  readonly entriesAccepted: number;
  readonly entriesFailed: number;
  /** Rule matches: one per (event, rule) pair. */
  readonly matched: number;
}

export interface LocalEventBridge {
  readonly endpoint: string;
  readonly port: number;
  stats(): EventBridgeStats;
  /** Resolves once every target delivery started so far has succeeded or been given up. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Far above the entry-size limit; only guards the process against absurd bodies. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startEventBridge(options: EventBridgeOptions): Promise<LocalEventBridge> {
  const scope = { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '000000000000' };
  const buses = buildBuses(options.buses, scope);
  const log = options.log ?? stderrLog;
  const deliveries = new Deliveries({ ...DEFAULT_RETRY_POLICY, ...options.retry }, log);
  const maxEntriesBytes = options.maxEntriesBytes ?? DEFAULT_MAX_ENTRIES_BYTES;
  const envelopeContext: EnvelopeContext = {
    account: scope.accountId,
    region: scope.region,
    now: options.now ?? (() => new Date()),
  };
  const counts = { requests: 0, entriesAccepted: 0, entriesFailed: 0, matched: 0 };

  function putEvents(body: unknown): { FailedEntryCount: number; Entries: ResultEntry[] } {
    const results = parsePutEventsRequest(body, maxEntriesBytes).map((entry): ResultEntry => {
      const built = buildEnvelope(entry, envelopeContext);
      if ('error' in built) return built.error;
      const busName = entry.EventBusName || 'default';
      const bus = findBus(buses, busName, scope);
      // AWS's per-entry code for an unknown bus is not documented ("PutEvents", EventBridge API Reference);
      // ResourceNotFoundException with this text is what EventBridge's bus APIs say for one.
      if (!bus)
        return {
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Event bus ${busName} does not exist.`,
        };
      route(bus, built.envelope);
      return { EventId: built.envelope.id };
    });
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    counts.entriesFailed += failed;
    counts.entriesAccepted += results.length - failed;
    return { FailedEntryCount: failed, Entries: results };
  }

  function route(bus: Bus, envelope: EventEnvelope): void {
    const eventId = envelope.id;
    // Serialized once, compact, keys in wire order: the SQS message body ("Event structure reference").
    const body = JSON.stringify(envelope);
    for (const rule of bus.rules) {
      if (!matches(rule.pattern, envelope)) continue;
      counts.matched++;
      log({ level: 'debug', message: 'rule matched', eventId, bus: bus.name, rule: rule.name });
      for (const target of rule.targets) {
        deliveries.dispatch({
          eventId,
          busName: bus.name,
          ruleName: rule.name,
          target: target.queueUrl,
          body,
          send: target.send,
        });
      }
    }
  }

  function describeEventBus(body: unknown): unknown {
    const name = stringMember(body, 'Name') ?? 'default';
    const bus = findBus(buses, name, scope);
    if (!bus) throw new AwsJsonError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return { Name: bus.name, Arn: bus.arn };
  }

  function listRules(body: unknown): unknown {
    const name = stringMember(body, 'EventBusName') ?? 'default';
    const bus = findBus(buses, name, scope);
    if (!bus) throw new AwsJsonError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    const prefix = stringMember(body, 'NamePrefix') ?? '';
    return {
      Rules: bus.rules
        .filter((rule) => rule.name.startsWith(prefix))
        .map((rule) => ({
          Name: rule.name,
          Arn: rule.arn,
          EventPattern: rule.patternText,
          State: 'ENABLED',
          EventBusName: bus.name,
        })),
    };
  }

  const operations = new Map<string, (body: unknown) => unknown>([
    [
      'PutEvents',
      (body) => {
        counts.requests++;
        return putEvents(body);
      },
    ],
    ['DescribeEventBus', describeEventBus],
    ['ListRules', listRules],
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = req.headers['x-amz-target'];
      const operation =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? operations.get(target.slice(TARGET_PREFIX.length))
          : undefined;
      if (req.method !== 'POST' || !operation) {
        throw new AwsJsonError(
          'UnknownOperationException',
          `Unknown operation ${String(target ?? '(no X-Amz-Target)')}`,
        );
      }
      sendJson(res, operation(await readJsonBody(req, MAX_BODY_BYTES)));
    } catch (error) {
      if (error instanceof AwsJsonError) {
        sendAwsError(res, error);
        return;
      }
      log({ level: 'error', message: 'request failed', error: String(error) });
      sendAwsError(
        res,
        new AwsJsonError('InternalException', 'Internal error in the local EventBridge', 500),
      );
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('local EventBridge is not on a TCP port');
  const { port } = address;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log({ level: 'info', message: 'local EventBridge listening', endpoint, buses: [...buses.keys()] });

  return {
    endpoint,
    port,
    stats: () => ({ ...counts, ...deliveries.stats() }),
    idle: () => deliveries.idle(),
    close: async () => {
      deliveries.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

function stringMember(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null || !(key in body)) return undefined;
  const value: unknown = Reflect.get(body, key);
  return typeof value === 'string' ? value : undefined;
}
