/**
 * IAM for the local runtime: each function talks to the local DynamoDB, SQS, SSM and `@connections`
 * through a guard of its own, which allows the actions its role is granted in functions.json and
 * answers any other with AccessDeniedException, as AWS would, before the call reaches the stand-in.
 * Every action a function calls is recorded, so a test can prove that each function calls exactly
 * what it is granted (test/integration/platform-iam.test.ts). The queue URLs a function is given
 * name the guard too: the SQS client sends each call to its queue's URL, not to its endpoint.
 *
 * Only actions are checked, not resources: locally there is one table, one pair of queues and one
 * parameter, all the functions' own. The action of a request is its `X-Amz-Target` (the AWS JSON
 * protocols of DynamoDB, SQS and SSM), with SQS's batch operations authorized as their single
 * action ("Amazon SQS API permissions: Actions and resource reference"); a request without one is
 * an `@connections` call, `execute-api:ManageConnections`.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers a request in this process, as the local gateway's `serveConnectionsCall` does. */
export type InProcessUpstream = (req: IncomingMessage, res: ServerResponse) => void;

export interface GuardUpstreams {
  dynamodb: string;
  sqs: string;
  ssm: string;
  /**
   * The gateway's origin, for `@connections` calls (their paths are kept), or its in-process handler:
   * then an allowed call is answered without a second loopback HTTP hop. On AWS an authorized call
   * costs no extra hop, and every post of a fan-out takes this path, so the hop would be a local cost
   * on the latency the benchmark measures (bench/lib/stages.ts).
   */
  connections: string | InProcessUpstream;
}

export interface IamGuard {
  /** Where the function's SDK clients and `@connections` calls go instead of the stand-ins. */
  readonly endpoint: string;
  /** Every action the function called, allowed or not, sorted. */
  called(): string[];
  /** The actions it was refused, sorted. */
  denied(): string[];
  /** How many calls of `action` arrived, allowed or not. */
  count(action: string): number;
  /**
   * Holds every allowed call of `action` for `ms` before passing it on (undefined: no longer): a
   * test makes a race between two functions happen, as a slow network would.
   */
  delay(action: string, ms: number | undefined): void;
  close(): Promise<void>;
}

/** IAM authorizes a batch operation as the action of a single one. */
const BATCH_ACTIONS: Readonly<Record<string, string>> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

const SERVICES: readonly { prefix: string; service: string; upstream: keyof GuardUpstreams }[] = [
  { prefix: 'DynamoDB_20120810.', service: 'dynamodb', upstream: 'dynamodb' },
  { prefix: 'AmazonSQS.', service: 'sqs', upstream: 'sqs' },
  { prefix: 'AmazonSSM.', service: 'ssm', upstream: 'ssm' },
];

/** The IAM action of a request and where it goes. */
export function actionOf(target: string | undefined): { action: string; upstream: keyof GuardUpstreams } {
  if (target === undefined) return { action: 'execute-api:ManageConnections', upstream: 'connections' };
  for (const { prefix, service, upstream } of SERVICES) {
    if (target.startsWith(prefix)) {
      const action = `${service}:${target.slice(prefix.length)}`;
      return { action: BATCH_ACTIONS[action] ?? action, upstream };
    }
  }
  return { action: `unknown:${target}`, upstream: 'connections' };
}

function deny(res: ServerResponse, role: string, action: string, json: boolean): void {
  const message = `User: arn:aws:sts::000000000000:assumed-role/${role}/${role} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`;
  // The AWS JSON services answer 400 AccessDeniedException; API Gateway's @connections, 403.
  const type = json ? 'AccessDeniedException' : 'ForbiddenException';
  const body = JSON.stringify(json ? { __type: type, message } : { message });
  res.writeHead(json ? 400 : 403, {
    'Content-Type': json ? 'application/x-amz-json-1.0' : 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

export async function startIamGuard(options: {
  /** The function's role name, for the refusal message. */
  role: string;
  /** The actions its code may call. */
  allowed: ReadonlySet<string>;
  upstreams: GuardUpstreams;
}): Promise<IamGuard> {
  const called = new Set<string>();
  const denied = new Set<string>();
  const delays = new Map<string, number>();
  const counts = new Map<string, number>();
  const agent = new Agent({ keepAlive: true });

  function forward(req: IncomingMessage, res: ServerResponse, upstream: keyof GuardUpstreams): void {
    const where = options.upstreams[upstream];
    if (typeof where === 'function') {
      where(req, res);
      return;
    }
    const target = new URL(where);
    if (upstream === 'sqs') {
      // The function's queue URLs name the guard; the local SQS knows its queues by their own URLs.
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.from(Buffer.concat(chunks).toString('utf8').replaceAll(endpoint, target.origin));
        send(req, res, target, body);
      });
      return;
    }
    send(req, res, target);
  }

  function send(req: IncomingMessage, res: ServerResponse, target: URL, body?: Buffer): void {
    const headers = { ...req.headers, host: target.host };
    if (body !== undefined) headers['content-length'] = String(body.length);
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (body === undefined) req.pipe(out);
    else out.end(body);
  }

  const server = createServer((req, res) => {
    const header = req.headers['x-amz-target'];
    const { action, upstream } = actionOf(typeof header === 'string' ? header : undefined);
    called.add(action);
    counts.set(action, (counts.get(action) ?? 0) + 1);
    if (!options.allowed.has(action)) {
      denied.add(action);
      req.resume();
      deny(res, options.role, action, header !== undefined);
      return;
    }
    const wait = delays.get(action);
    if (wait === undefined) forward(req, res, upstream);
    else setTimeout(() => forward(req, res, upstream), wait);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    called: () => [...called].sort(),
    denied: () => [...denied].sort(),
    count: (action) => counts.get(action) ?? 0,
    delay: (action, ms) => {
      if (ms === undefined) delays.delete(action);
      else delays.set(action, ms);
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
