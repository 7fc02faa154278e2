import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeJwt } from 'jose';
import 'aws-sdk-client-mock-jest';
import { main } from '@fanout/cli';
import { parseDuration } from '../../../sdk/cli/src/commands';

const eventBridge = mockClient(EventBridgeClient);
const SECRET = 'cli-test-secret-0123456789abcdef0123';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

function localConfigFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-cli-'));
  const file = join(dir, 'local.json');
  writeFileSync(
    file,
    JSON.stringify({
      region: 'us-east-1',
      websocketUrl: 'ws://127.0.0.1:9/local',
      managementEndpoint: 'http://127.0.0.1:9/local',
      eventBridgeEndpoint: 'http://127.0.0.1:9/',
      sqsEndpoint: 'http://127.0.0.1:9/',
      dynamodbEndpoint: 'http://127.0.0.1:9/',
      eventBusName: 'fanout-local',
      tableName: 'fanout-local-connections',
      queueUrl: 'http://127.0.0.1:9/000000000000/fanout-local',
      dlqUrl: 'http://127.0.0.1:9/000000000000/fanout-local-dlq',
      jwtSecret: SECRET,
      token: 'npx fanout token',
    }),
  );
  return file;
}

beforeEach(() => eventBridge.reset());

describe('fanout CLI', () => {
  it('mints a token with the subject, the comma-separated topics and the lifetime', async () => {
    const { io, out } = capture();
    const code = await main(
      ['token', '--sub', 'alice', '--topics', 'demo/*,users/{sub}/*', '--ttl', '30m'],
      io,
      {
        FANOUT_JWT_SECRET: SECRET,
      },
    );
    expect(code).toBe(0);
    const claims = decodeJwt(out[0] ?? '');
    expect(claims).toMatchObject({ sub: 'alice', topics: ['demo/*', 'users/{sub}/*'] });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1800);
  });

  it('takes the token secret from the local config when none is given', async () => {
    const { io, out } = capture();
    expect(await main(['token', '--sub', 'bob', '--config', localConfigFile()], io, {})).toBe(0);
    expect(decodeJwt(out[0] ?? '').sub).toBe('bob');
  });

  it('explains where a token secret can come from when there is none', async () => {
    const { io, err } = capture();
    expect(await main(['token', '--sub', 'x', '--config', '/nonexistent/local.json'], io, {})).toBe(2);
    expect(err.join('\n')).toContain('pass --secret, set FANOUT_JWT_SECRET');
  });

  it('publishes to the local bus named in the local config', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] });
    const { io, out } = capture();
    const args = ['publish', '--topic', 'demo/hello', '--data', '{"hi":1}', '--config', localConfigFile()];
    expect(await main(args, io, {})).toBe(0);
    expect(out[0]).toBe('published ev-1 to fanout-local at http://127.0.0.1:9/');
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          EventBusName: 'fanout-local',
          Source: 'fanout.cli',
          DetailType: 'Notification',
          Detail: JSON.stringify({ data: { hi: 1 }, topics: ['demo/hello'] }),
        },
      ],
    });
  });

  it('needs a bus when publishing to AWS', async () => {
    const { io, err } = capture();
    expect(await main(['publish', '--topic', 'a', '--data', '1', '--aws'], io, {})).toBe(2);
    expect(err[0]).toContain('no event bus');
  });

  it('rejects data that is not JSON and unknown options with usage errors', async () => {
    const bad = capture();
    expect(await main(['publish', '--topic', 'a', '--data', '{', '--bus', 'b'], bad.io, {})).toBe(2);
    expect(bad.err[0]).toContain('--data must be JSON');
    const unknown = capture();
    expect(await main(['publish', '--nope'], unknown.io, {})).toBe(2);
    expect(await main(['frobnicate'], unknown.io, {})).toBe(2);
    expect(unknown.err.join('\n')).toContain('unknown command "frobnicate"');
  });

  it("reports a publish the SDK refuses as a failure with the publisher's code, not a usage error", async () => {
    const { io, err } = capture();
    const args = ['publish', '--topic', 'a b', '--data', '1', '--bus', 'b', '--region', 'us-east-1'];
    expect(await main(args, io, {})).toBe(1);
    expect(err[0]).toMatch(/^fanout publish: invalid_event: /);
    expect(err).toHaveLength(1);
  });

  it('parses durations in seconds, minutes, hours and days', () => {
    expect(parseDuration('45')).toBe(45);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('1d')).toBe(86400);
    expect(() => parseDuration('soon')).toThrow('is not a duration');
  });
});
