import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { actionOf, type IamGuard, startIamGuard } from '../iam/guard.js';
import { type LocalSsm, startLocalSsm } from '../ssm/server.js';

let ssm: LocalSsm;
const guards: IamGuard[] = [];

beforeAll(async () => {
  ssm = await startLocalSsm({ parameters: { '/p': 'value' } });
});

afterAll(async () => {
  await Promise.all(guards.map((guard) => guard.close()));
  await ssm.close();
});

async function guarded(allowed: string[]): Promise<{ guard: IamGuard; client: SSMClient }> {
  const guard = await startIamGuard({
    role: 'fanout-test-authorizer',
    allowed: new Set(allowed),
    upstreams: { dynamodb: ssm.endpoint, sqs: ssm.endpoint, ssm: ssm.endpoint, connections: ssm.endpoint },
  });
  guards.push(guard);
  const client = new SSMClient({
    endpoint: guard.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return { guard, client };
}

describe('the local IAM guard', () => {
  it('passes a granted action on to the stand-in and records it', async () => {
    const { guard, client } = await guarded(['ssm:GetParameter']);
    const { Parameter } = await client.send(new GetParameterCommand({ Name: '/p', WithDecryption: true }));
    expect(Parameter?.Value).toBe('value');
    expect([guard.called(), guard.denied()]).toEqual([['ssm:GetParameter'], []]);
    client.destroy();
  });

  it('refuses an action the role is not granted with AccessDeniedException, as AWS does, and records it', async () => {
    const { guard, client } = await guarded(['dynamodb:Query']);
    const reads = ssm.reads('/p');
    const err = await client.send(new GetParameterCommand({ Name: '/p' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(String((err as Error).message)).toContain(
      'fanout-test-authorizer is not authorized to perform: ssm:GetParameter',
    );
    expect(ssm.reads('/p')).toBe(reads);
    expect([guard.called(), guard.denied()]).toEqual([['ssm:GetParameter'], ['ssm:GetParameter']]);
    client.destroy();
  });

  it('refuses an @connections call without ManageConnections with 403 ForbiddenException', async () => {
    const { guard } = await guarded([]);
    const answer = await fetch(`${guard.endpoint}/live/@connections/AAAAAAAAAAAAAAA%3D`, {
      method: 'POST',
      body: 'x',
    });
    expect([answer.status, answer.headers.get('x-amzn-errortype')]).toEqual([403, 'ForbiddenException']);
    expect(guard.denied()).toEqual(['execute-api:ManageConnections']);
  });

  it('answers a granted @connections call through an in-process upstream, and still refuses an ungranted one', async () => {
    const seen: string[] = [];
    const start = (allowed: string[]) =>
      startIamGuard({
        role: 'fanout-test-fanout',
        allowed: new Set(allowed),
        upstreams: {
          dynamodb: ssm.endpoint,
          sqs: ssm.endpoint,
          ssm: ssm.endpoint,
          connections: (req, res) => {
            seen.push(`${req.method} ${req.url}`);
            req.resume();
            res.writeHead(200, { 'Content-Length': 0 });
            res.end();
          },
        },
      });
    const granted = await start(['execute-api:ManageConnections']);
    const refused = await start([]);
    guards.push(granted, refused);
    const path = '/live/@connections/AAAAAAAAAAAAAAA%3D';
    const ok = await fetch(`${granted.endpoint}${path}`, { method: 'POST', body: 'x' });
    const no = await fetch(`${refused.endpoint}${path}`, { method: 'POST', body: 'x' });
    expect([ok.status, no.status]).toEqual([200, 403]);
    expect(seen).toEqual([`POST ${path}`]);
    expect(granted.count('execute-api:ManageConnections')).toBe(1);
  });

  it('authorizes SQS batch operations as their single action, and names any other target', () => {
    expect(actionOf('AmazonSQS.SendMessageBatch')).toEqual({ action: 'sqs:SendMessage', upstream: 'sqs' });
    expect(actionOf('AmazonSQS.DeleteMessageBatch').action).toBe('sqs:DeleteMessage');
    expect(actionOf('DynamoDB_20120810.BatchWriteItem')).toEqual({
      action: 'dynamodb:BatchWriteItem',
      upstream: 'dynamodb',
    });
    expect(actionOf('AWSEvents.PutEvents').action).toBe('unknown:AWSEvents.PutEvents');
    expect(actionOf(undefined)).toEqual({ action: 'execute-api:ManageConnections', upstream: 'connections' });
  });

  it('answers 502 when the stand-in behind it is gone', async () => {
    const guard = await startIamGuard({
      role: 'fanout-test-connect',
      allowed: new Set(['dynamodb:Query']),
      // Port 9 (discard) has no listener on loopback: connections are refused at once.
      upstreams: {
        dynamodb: 'http://127.0.0.1:9',
        sqs: ssm.endpoint,
        ssm: ssm.endpoint,
        connections: ssm.endpoint,
      },
    });
    guards.push(guard);
    const answer = await fetch(guard.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.Query' },
      body: '{}',
    });
    expect(answer.status).toBe(502);
    expect(guard.count('dynamodb:Query')).toBe(1);
  });
});

describe('the local SSM', () => {
  const call = (target: string, body: string) =>
    fetch(ssm.endpoint, { method: 'POST', headers: { 'x-amz-target': target }, body });

  it('answers only GetParameter, with AWS-shaped errors for the rest', async () => {
    const other = await call('AmazonSSM.PutParameter', '{}');
    expect([other.status, other.headers.get('x-amzn-errortype')]).toEqual([400, 'InvalidAction']);
    const nameless = await call('AmazonSSM.GetParameter', '{}');
    expect([nameless.status, nameless.headers.get('x-amzn-errortype')]).toEqual([400, 'ValidationException']);
    const missing = await call('AmazonSSM.GetParameter', '{"Name":"/nope"}');
    expect([missing.status, missing.headers.get('x-amzn-errortype')]).toEqual([400, 'ParameterNotFound']);
    const broken = await call('AmazonSSM.GetParameter', '{not json');
    expect([broken.status, broken.headers.get('x-amzn-errortype')]).toEqual([400, 'SerializationException']);
  });

  it('gives a SecureString ciphertext-like value without WithDecryption, and versions replacements', async () => {
    ssm.put('/versioned', 'one');
    ssm.put('/versioned', 'two');
    const plain = (await (await call('AmazonSSM.GetParameter', '{"Name":"/versioned"}')).json()) as {
      Parameter: { Value: string; Version: number };
    };
    expect(plain.Parameter).toMatchObject({ Value: Buffer.from('two').toString('base64'), Version: 2 });
  });
});
