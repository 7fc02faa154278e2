import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput, TABLE_KEY } from '../../shared/store/table.js';
import { LOCAL_CREDENTIALS } from '../dev/clients.js';
import { startWorkerServer } from '../worker-server.js';
import { DYNALITE_WORKER_SOURCE } from './dynalite-worker.js';
import { type DynamoDbFaults, sendDynamoDbError, withFaults } from './faults.js';
import { createActiveTable } from './tables.js';
import { startTtlSweeper, type TtlSweeper } from './ttl.js';

/**
 * Local DynamoDB: dynalite (a pure-JS implementation of the DynamoDB wire API) on loopback, with the
 * fan-out table created from the same key definition the Terraform uses. Data lives in memory, or on
 * disk under `path`.
 *
 * dynalite runs in a worker thread (dynalite-worker.ts), so its CPU does not hold the gateway's event
 * loop. The endpoint is a small server in this thread that injects faults (faults.ts: hooks a test
 * switches while the platform runs, so they stay here) and forwards every other call to the worker.
 *
 * dynalite has no UpdateTimeToLive: rows carry `expiresAt` as on AWS, and a sweeper (ttl.ts) deletes
 * them once expired, as DynamoDB's TTL does on AWS, every `ttlSweepIntervalMs`.
 */

/** How often expired rows are deleted by default: DynamoDB is lazy too ("typically within two days"). */
export const DEFAULT_TTL_SWEEP_INTERVAL_MS = 60_000;

// Resolved here and required in the worker: dynalite is CommonJS without type declarations.
const DYNALITE_ENTRY = createRequire(import.meta.url).resolve('dynalite');

/**
 * Headers of one hop (RFC 9110 §7.6.1, and the framing of §6.1), which the forwarder does not pass
 * on: each side keeps its own connection, and Node frames each message again.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'transfer-encoding',
]);

function endToEnd(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const kept: IncomingMessage['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.includes(name)) kept[name] = value;
  }
  return kept;
}

/**
 * Forwards a call, as it came, to dynalite on `port`, and its answer back. An answer cut off after
 * its head cuts the client's connection too (the SDK then retries, as after a network error); a
 * client that goes away aborts the call.
 */
export function forwardTo(port: number, agent: Agent): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, endToEnd(answer.headers));
        pipeline(answer, res, (err) => {
          if (err) res.destroy(err);
        });
      },
    );
    upstream.on('error', (err) => {
      // The worker is gone or broke the connection: DynamoDB's own answer to a call it failed.
      if (res.headersSent) res.destroy(err);
      else
        sendDynamoDbError(res, {
          status: 500,
          errorType: 'InternalServerError',
          message: `the local DynamoDB did not answer: ${err.message}`,
        });
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('error', (err) => upstream.destroy(err));
    req.pipe(upstream);
  };
}

export interface LocalDynamoDb {
  endpoint: string;
  port: number;
  tableName: string;
  /** Deletes the rows expired by now (what the TTL sweeper does every interval); resolves with the count. */
  sweepExpired(): Promise<number>;
  /** Faults injected into every call from now on (faults.ts); `undefined` clears them. */
  setFaults(faults: DynamoDbFaults | undefined): void;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: {
  tableName: string;
  region: string;
  host?: string;
  port?: number;
  path?: string;
  /** Time between TTL sweeps (default {@link DEFAULT_TTL_SWEEP_INTERVAL_MS}); `false`: only on demand. */
  ttlSweepIntervalMs?: number | false;
  /** Where a failed sweep is reported (it is tried again after the interval). */
  onSweepError?: (error: unknown) => void;
  /** Faults injected into every call (faults.ts); `setFaults` changes them later. */
  faults?: DynamoDbFaults;
}): Promise<LocalDynamoDb> {
  const worker = await startWorkerServer('dynalite', DYNALITE_WORKER_SOURCE, {
    entry: DYNALITE_ENTRY,
    path: options.path,
  });
  // One connection per call in flight, kept open: the forwarder adds no handshakes.
  const agent = new Agent({ keepAlive: true });
  let faults = options.faults;
  const server = createServer(withFaults(forwardTo(worker.port, agent), () => faults));
  const closeServer = async () => {
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    agent.destroy();
    await worker.stop();
  };
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await worker.stop();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const endpoint = `http://${host}:${address.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: options.region,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await createActiveTable(client, createTableInput(options.tableName));
  } catch (err) {
    // A table kept on disk from an earlier run is fine.
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) {
      client.destroy();
      await closeServer();
      throw err;
    }
  }
  const sweeper: TtlSweeper = startTtlSweeper({
    client,
    tableName: options.tableName,
    partitionKey: TABLE_KEY.partitionKey,
    sortKey: TABLE_KEY.sortKey,
    ttlAttribute: TABLE_KEY.ttlAttribute,
    intervalMs: options.ttlSweepIntervalMs ?? DEFAULT_TTL_SWEEP_INTERVAL_MS,
    ...(options.onSweepError ? { onError: options.onSweepError } : {}),
  });
  return {
    endpoint,
    port: address.port,
    tableName: options.tableName,
    sweepExpired: () => sweeper.sweep(),
    setFaults: (next) => {
      faults = next;
    },
    stop: async () => {
      await sweeper.stop();
      client.destroy();
      await closeServer();
    },
  };
}
