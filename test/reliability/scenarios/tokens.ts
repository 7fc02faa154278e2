/**
 * Nobody connects or subscribes without a token that allows it (issue 8), while events flow to the
 * clients that may have them: twelve kinds of bad token are refused at the handshake with 401 and
 * write nothing; a client with a good token asking for more than it was granted (another tree,
 * another user's, everything, a hostile nested frame) is answered with an error and stores nothing;
 * and none of them receives an event that was not for it.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { handshakeStatus } from '../../../local/test/support/ws-client';
import type { Frame } from '../../support/platform';
import { expectClean, pause, SCENARIO_TIMEOUT_MS, ScenarioRun } from '../support/scenario';
import type { Platform } from '../support/suite';

const ROUNDS = 10;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Every kind of bad token, each as an attacker or a buggy issuer would send it. */
async function badTokens(secret: string): Promise<{ what: string; token: string | undefined }[]> {
  const key = new TextEncoder().encode(secret);
  const hs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  const good = await hs256({ sub: 'mallory', topics: ['tk/public/*'] })
    .setExpirationTime('5m')
    .sign(key);
  const [header, , signature] = good.split('.');
  const { privateKey } = await generateKeyPair('RS256');
  return [
    { what: 'no token', token: undefined },
    { what: 'an empty token', token: '' },
    { what: 'text that is not a JWT', token: 'not-a-jwt' },
    {
      what: 'a token signed with another secret',
      token: await hs256({ sub: 'mallory', topics: ['*'] })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!')),
    },
    {
      what: 'a payload altered after signing',
      token: `${header}.${base64url({ sub: 'mallory', topics: ['*'], exp: nowSeconds() + 300 })}.${signature}`,
    },
    {
      what: 'an unsigned token (alg none)',
      token: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'mallory', topics: ['*'], exp: nowSeconds() + 300 })}.`,
    },
    {
      what: 'an expired token',
      token: await hs256({ sub: 'mallory', topics: ['tk/public/*'] })
        .setExpirationTime(nowSeconds() - 600)
        .sign(key),
    },
    {
      what: 'a token not valid yet (nbf)',
      token: await hs256({ sub: 'mallory', topics: ['tk/public/*'] })
        .setNotBefore(nowSeconds() + 600)
        .setExpirationTime('20m')
        .sign(key),
    },
    { what: 'a token without an expiry', token: await hs256({ sub: 'mallory', topics: ['*'] }).sign(key) },
    {
      what: 'a topics claim that is not an array of strings',
      token: await hs256({ sub: 'mallory', topics: 'tk/public/*' }).setExpirationTime('5m').sign(key),
    },
    {
      what: 'an empty sub',
      token: await hs256({ sub: '', topics: ['tk/public/*'] })
        .setExpirationTime('5m')
        .sign(key),
    },
    {
      what: 'an RS256 token where HS256 is configured',
      token: await new SignJWT({ sub: 'mallory', topics: ['*'] })
        .setProtectedHeader({ alg: 'RS256' })
        .setExpirationTime('5m')
        .sign(privateKey),
    },
  ];
}

/** A subscribe frame nested 16,000 arrays deep: it once overflowed the validator's stack. */
function nestedTopics(depth: number): string {
  return `{"action":"subscribe","id":"deep","topics":${'['.repeat(depth)}"x"${']'.repeat(depth)}}`;
}

export function tokens(platform: Platform): void {
  it(
    'refuses every bad token with 401 and every subscription beyond a grant, storing nothing and delivering nothing to them',
    async () => {
      const h = platform();
      const tokens = await badTokens(h.config.jwtSecret);
      const beyond = [['tk/secret/*'], ['tk/*'], ['*'], ['users/tk-other/*'], ['tk/public/*', 'tk/secret/a']];
      const run = await ScenarioRun.begin(h, {
        id: 'tokens-and-grants',
        test: expect.getState().currentTestName ?? 'tokens and grants',
        file: 'test/reliability/scenarios/tokens.ts',
        promises: ['tokens', 'delivery', 'noRowOutlives'],
        load: `2 clients with good tokens, ${ROUNDS} rounds of events on granted and ungranted topics and users`,
        faults: [],
        badInputs: [
          ...tokens.map((t) => `handshake with ${t.what}`),
          ...beyond.map((topics) => `subscribe beyond the grant: ${topics.join(', ')}`),
          'a subscribe frame nested 16,000 deep (32 KB)',
        ],
      });
      const grants = ['tk/public/*', 'users/{sub}/*'];
      await run.connectAll([
        { name: 'reader', sub: 'tk-user', grants, subscribe: ['tk/public/*', 'users/tk-user/*'] },
        { name: 'prober', sub: 'tk-prober', grants, subscribe: ['tk/public/*'] },
      ]);
      const rowsBefore = await h.connectionRows();
      const connectsBefore = h.invocations('connect');

      const statuses: number[] = [];
      const answers: Frame[] = [];
      const probing = (async () => {
        for (const { token } of tokens) {
          const url = token === undefined ? h.url() : h.url(token);
          statuses.push((await handshakeStatus(url)).status);
        }
        // Sent raw, outside the ledger: the prober never holds these, so a frame from them is misdelivered.
        for (const topics of beyond)
          answers.push(await run.client('prober').request({ action: 'subscribe', topics }));
        await run.client('prober').send(nestedTopics(16_000));
        answers.push(await run.client('prober').waitFor((f) => f.id === 'deep', 'the nested frame answer'));
      })();
      for (let round = 0; round < ROUNDS; round += 1) {
        await run.publish(
          { detail: { topics: ['tk/public/a'], data: { round } } },
          { detail: { topics: ['tk/secret/a'], data: { round } } },
          { detail: { topics: ['users/tk-user/inbox'], data: { round } } },
          { detail: { topics: ['users/tk-other/inbox'], data: { round } } },
          { detail: { users: ['tk-other'], data: { round } } },
        );
        await pause(60);
      }
      await probing;
      await run.waitForDelivery();
      const rowsAfter = await h.connectionRows();
      const refused = statuses.filter((status) => status === 401).length;
      const codes = answers.map((a) => (a.type === 'error' ? String(a.code) : String(a.type)));
      const report = await run.finish({
        tokens: `${refused} of ${tokens.length} bad tokens refused with 401, ${h.invocations('connect') - connectsBefore} $connect runs for them; ${codes.filter((c) => c === 'forbidden' || c === 'invalid_topic').length} of ${answers.length} subscriptions beyond the grant refused (${[...new Set(codes)].join(', ')}); rows written for them: ${rowsAfter.length - rowsBefore.length}`,
      });
      expectClean(report, h);
      expect(statuses).toEqual(tokens.map(() => 401));
      expect(h.invocations('connect')).toBe(connectsBefore);
      expect(codes).toEqual([...beyond.map(() => 'forbidden'), 'invalid_topic']);
      expect(rowsAfter).toEqual(rowsBefore);
    },
    SCENARIO_TIMEOUT_MS,
  );
}
