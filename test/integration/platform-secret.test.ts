/**
 * The HS256 secret on the local platform is where the module keeps it on AWS: in a SecureString
 * parameter the authorizer reads once per cold start with the real SDK, not in its environment.
 */
import { handshakeStatus } from '../../local/test/support/ws-client';
import { type PlatformHarness, startHarness } from '../support/platform';

let h: PlatformHarness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it('verifies tokens with the secret read from SSM, once per authorizer environment', async () => {
  const { ssm, secretParameter } = h.platform;
  const { authorizer } = h.platform.functions;
  if (!authorizer) throw new Error('the authorizer runs whatever serves the routes');
  expect(secretParameter).toMatch(/^\/.+\/auth-jwt-secret$/);
  for (const user of ['alice', 'bob', 'carol']) {
    const client = await h.connect(user, ['demo/*']);
    client.ws.close();
  }
  const environments = authorizer.environmentCount();
  expect(environments).toBeGreaterThanOrEqual(1);
  expect(ssm.reads(secretParameter)).toBe(environments);
  // A token signed with another secret is refused by the same environments, which read nothing more.
  const foreign = await h.token({ sub: 'mallory', topics: ['demo/*'], secret: 'x'.repeat(40) });
  expect(await handshakeStatus(h.url(foreign))).toMatchObject({ status: 401 });
  expect(ssm.reads(secretParameter)).toBe(authorizer.environmentCount());
}, 60_000);
