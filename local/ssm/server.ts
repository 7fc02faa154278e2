/**
 * A local SSM Parameter Store that knows one operation, GetParameter, over the AWS JSON 1.1 protocol
 * the SDK speaks (`X-Amz-Target: AmazonSSM.GetParameter`, API Reference "GetParameter"): enough for
 * the authorizer to read the HS256 secret from a SecureString parameter, as it does on AWS, instead
 * of from its environment. Parameters are given at start and may be replaced (a rotation).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsJsonError, readJsonBody, sendAwsError, sendJson } from '../eventbridge/aws-json.js';

const TARGET = 'AmazonSSM.GetParameter';
const MAX_REQUEST_BYTES = 64 * 1024;

export interface LocalSsm {
  readonly endpoint: string;
  /** Sets (or replaces, as a new version) a SecureString parameter. */
  put(name: string, value: string): void;
  /** GetParameter calls answered, by parameter name: what the tests count cold starts by. */
  reads(name: string): number;
  close(): Promise<void>;
}

interface Stored {
  value: string;
  version: number;
}

export async function startLocalSsm(
  options: { region?: string; parameters?: Readonly<Record<string, string>> } = {},
): Promise<LocalSsm> {
  const region = options.region ?? 'us-east-1';
  const parameters = new Map<string, Stored>();
  const readCounts = new Map<string, number>();
  const put = (name: string, value: string) =>
    parameters.set(name, { value, version: (parameters.get(name)?.version ?? 0) + 1 });
  for (const [name, value] of Object.entries(options.parameters ?? {})) put(name, value);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== TARGET) {
      req.resume();
      throw new AwsJsonError(
        'InvalidAction',
        `the local SSM answers ${TARGET} only, got ${String(req.headers['x-amz-target'])}`,
      );
    }
    const parsed = await readJsonBody(req, MAX_REQUEST_BYTES);
    const body: Record<string, unknown> =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const name = body.Name;
    if (typeof name !== 'string' || name === '')
      throw new AwsJsonError('ValidationException', 'Name is required');
    const stored = parameters.get(name);
    if (stored === undefined) throw new AwsJsonError('ParameterNotFound', `Parameter ${name} not found.`);
    readCounts.set(name, (readCounts.get(name) ?? 0) + 1);
    const decrypt = body.WithDecryption === true;
    sendJson(res, {
      Parameter: {
        Name: name,
        Type: 'SecureString',
        // Without WithDecryption, AWS answers a SecureString's ciphertext; nothing here needs it.
        Value: decrypt ? stored.value : Buffer.from(stored.value).toString('base64'),
        Version: stored.version,
        ARN: `arn:aws:ssm:${region}:000000000000:parameter/${name.replace(/^\//, '')}`,
        DataType: 'text',
      },
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendAwsError(
        res,
        err instanceof AwsJsonError ? err : new AwsJsonError('InternalServerError', String(err), 500),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    put,
    reads: (name) => readCounts.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
