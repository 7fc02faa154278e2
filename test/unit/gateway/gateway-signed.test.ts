import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { FinalizeRequestMiddleware, HttpRequest } from '@smithy/types';
import { refreshingCredentials, SignedConnectionGateway } from '../../../shared/gateway/gateway-signed';

const ENDPOINT = 'https://abc123.execute-api.eu-west-1.amazonaws.com/live';
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'TOKEN',
};
const FRAME = new TextEncoder().encode('{"type":"event","id":"e1","data":{"n":1}}');

/** The request the SDK client would send, signed, with only the headers both clients send. */
async function sdkSignedRequest(
  connectionId: string,
  data: Uint8Array,
  credentials: typeof CREDENTIALS = CREDENTIALS,
): Promise<HttpRequest> {
  let captured: HttpRequest | undefined;
  const client = new ApiGatewayManagementApiClient({
    endpoint: ENDPOINT,
    region: 'eu-west-1',
    credentials,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        captured = request;
        return { response: { statusCode: 200, headers: {}, body: undefined } };
      },
    },
  });
  // The SDK also signs its bookkeeping headers (invocation id, attempt, user agent), which the lean
  // client does not send. Taking them out before signing leaves the same request for both signers.
  const sameHeaders: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next) => async (args) => {
      const request = args.request as HttpRequest;
      for (const name of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent', 'user-agent']) {
        delete request.headers[name];
      }
      return next(args);
    };
  client.middlewareStack.addRelativeTo(sameHeaders, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'sameHeadersAsTheLeanClient',
  });
  await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
  client.destroy();
  if (!captured) throw new Error('the SDK sent nothing');
  return captured;
}

describe('the lean @connections client', () => {
  beforeAll(() => {
    jest.useFakeTimers({
      now: Date.UTC(2026, 11, 1, 12, 0, 0),
      doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'],
    });
  });

  afterAll(() => {
    jest.useRealTimers();
  });

  it.each([['L0SM9cOFvHcCIhw='], ['a/b+c'], ['plain'], ['.'], ['..'], ["it's (*)! ü%"]])(
    'signs a post to %s exactly as the SDK client does: same path, canonical headers and signature',
    async (connectionId) => {
      const gateway = new SignedConnectionGateway({
        endpoint: ENDPOINT,
        region: 'eu-west-1',
        credentials: async () => CREDENTIALS,
        maxSockets: 1,
        requestTimeoutMs: 1000,
      });
      const ours = await gateway.sign(connectionId, FRAME);
      const sdk = await sdkSignedRequest(connectionId, FRAME);
      gateway.destroy();

      expect(ours.path).toBe(sdk.path);
      const lower = (headers: Record<string, string>) =>
        Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      expect(lower(ours.headers)).toEqual(lower(sdk.headers));
      expect(lower(ours.headers).authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261201\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
      );
    },
  );

  const lowerHeaders = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

  it('signs as the SDK client does in the next second too (dates are formatted once a second)', async () => {
    const gateway = new SignedConnectionGateway({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      maxSockets: 1,
      requestTimeoutMs: 1000,
    });
    const first = await gateway.sign('plain', FRAME);
    jest.advanceTimersByTime(1_500);
    const second = await gateway.sign('plain', FRAME);
    const sdk = await sdkSignedRequest('plain', FRAME);
    gateway.destroy();
    expect(lowerHeaders(second.headers)).toEqual(lowerHeaders(sdk.headers));
    expect(first.headers['x-amz-date']).toBe('20261201T120000Z');
    expect(second.headers['x-amz-date']).toBe('20261201T120001Z');
  });

  it('signs with new credentials as soon as they change, as the SDK client does with them', async () => {
    const rotated = { accessKeyId: 'AKIDROTATED', secretAccessKey: 'another secret', sessionToken: 'TOKEN2' };
    let current: typeof CREDENTIALS = CREDENTIALS;
    const gateway = new SignedConnectionGateway({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      // About to expire: asked again on every post.
      credentials: async () => ({ ...current, expiration: new Date(Date.now() + 60_000) }),
      maxSockets: 1,
      requestTimeoutMs: 1000,
    });
    await gateway.sign('plain', FRAME);
    current = rotated;
    const ours = await gateway.sign('plain', FRAME);
    const sdk = await sdkSignedRequest('plain', FRAME, rotated);
    gateway.destroy();
    expect(lowerHeaders(ours.headers)).toEqual(lowerHeaders(sdk.headers));
    expect(ours.headers.authorization).toContain('Credential=AKIDROTATED/');
  });

  it('signs as the SDK client does on the next day (a new signing key) and without a session token', async () => {
    const longTerm = { accessKeyId: 'AKIDLONGTERM', secretAccessKey: 'long-term secret' };
    const gateway = new SignedConnectionGateway({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      credentials: async () => longTerm,
      maxSockets: 1,
      requestTimeoutMs: 1000,
    });
    await gateway.sign('plain', FRAME);
    jest.advanceTimersByTime(24 * 60 * 60_000);
    const ours = await gateway.sign('plain', FRAME);
    const sdk = await sdkSignedRequest('plain', FRAME, longTerm as typeof CREDENTIALS);
    gateway.destroy();
    expect(lowerHeaders(ours.headers)).toEqual(lowerHeaders(sdk.headers));
    expect(ours.headers['x-amz-date']).toMatch(/^20261202T/);
    expect(ours.headers).not.toHaveProperty('x-amz-security-token');
  });

  it('signs posts of two frames in turn, each with its own payload hash and length, as the SDK client does', async () => {
    const other = new TextEncoder().encode('{"type":"event","id":"e2","data":{"n":22}}');
    const gateway = new SignedConnectionGateway({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      maxSockets: 1,
      requestTimeoutMs: 1000,
    });
    const signed = [
      await gateway.sign('one', FRAME),
      await gateway.sign('two', other),
      await gateway.sign('three', FRAME),
    ];
    const sdk = [
      await sdkSignedRequest('one', FRAME),
      await sdkSignedRequest('two', other),
      await sdkSignedRequest('three', FRAME),
    ];
    gateway.destroy();
    expect(signed.map((s) => lowerHeaders(s.headers))).toEqual(sdk.map((s) => lowerHeaders(s.headers)));
  });

  it('fails the post, as the SDK signer does, when the credentials provider answers something unusable', async () => {
    const gateway = new SignedConnectionGateway({
      endpoint: ENDPOINT,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKID' }) as unknown as typeof CREDENTIALS,
      maxSockets: 1,
      requestTimeoutMs: 1000,
    });
    await expect(gateway.sign('plain', FRAME)).rejects.toThrow('Resolved credential object is not valid');
    await expect(gateway.post('plain', FRAME)).rejects.toThrow('Resolved credential object is not valid');
    gateway.destroy();
  });

  it('refuses an endpoint that is not http(s)', () => {
    expect(
      () =>
        new SignedConnectionGateway({
          endpoint: 'ftp://example.com/live',
          region: 'eu-west-1',
          credentials: async () => CREDENTIALS,
          maxSockets: 1,
          requestTimeoutMs: 1000,
        }),
    ).toThrow('must be an http(s) URL');
  });
});

describe('refreshing credentials', () => {
  it('asks its source once while the credentials are valid, and again shortly before they expire', async () => {
    let now = 0;
    let calls = 0;
    const provider = refreshingCredentials(
      async () => {
        calls += 1;
        return { ...CREDENTIALS, expiration: new Date(now + 60 * 60_000) };
      },
      () => now,
    );
    await provider();
    now += 50 * 60_000;
    await provider();
    expect(calls).toBe(1);
    now += 6 * 60_000; // 4 minutes left: inside the refresh margin
    await provider();
    expect(calls).toBe(2);
  });

  it('shares one refresh between concurrent callers, and asks again after a failure', async () => {
    let calls = 0;
    let fail = true;
    const provider = refreshingCredentials(async () => {
      calls += 1;
      if (fail) throw new Error('metadata service down');
      return CREDENTIALS;
    });
    await expect(Promise.all([provider(), provider()])).rejects.toThrow('metadata service down');
    expect(calls).toBe(1);
    fail = false;
    await expect(provider()).resolves.toEqual(CREDENTIALS);
    await provider();
    expect(calls).toBe(2);
  });
});
