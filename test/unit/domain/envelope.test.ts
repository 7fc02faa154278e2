import { EventBridgeEnvelope, toFanoutEvent, WorkMessage } from '../../../shared/domain/envelope';
import { rowExpiry } from '../../../shared/domain/limits';

const envelope = (detail: unknown) => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'OrderUpdated',
  source: 'orders',
  account: '123456789012',
  time: '2026-11-24T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

describe('event envelope', () => {
  it('accepts the design example and normalises it for the engine', () => {
    const parsed = EventBridgeEnvelope.parse(
      envelope({ topics: ['orders/eu/1234', 'orders/eu/1234'], users: ['alice'], data: { n: 1 } }),
    );
    expect(toFanoutEvent(parsed)).toEqual({
      id: 'e-1',
      source: 'orders',
      detailType: 'OrderUpdated',
      time: '2026-11-24T10:00:00Z',
      topics: ['orders/eu/1234'],
      users: ['alice'],
      data: { n: 1 },
    });
  });

  it('keeps expiresAt when the publisher set one', () => {
    const parsed = EventBridgeEnvelope.parse(
      envelope({ users: ['a'], data: 1, expiresAt: '2026-11-24T10:05:00Z' }),
    );
    expect(toFanoutEvent(parsed).expiresAt).toBe('2026-11-24T10:05:00Z');
  });

  it.each([
    ['neither topics nor users', { data: 1 }, 'at least one of "topics" or "users"'],
    ['an invalid topic', { topics: ['bad topic'], data: 1 }, 'may only contain'],
    ['a wildcard as a topic', { topics: ['orders/*'], data: 1 }, 'may only contain'],
    ['a malformed expiresAt', { users: ['a'], data: 1, expiresAt: 'tomorrow' }, 'expiresAt'],
  ])('rejects a detail with %s', (_label, detail, message) => {
    const result = EventBridgeEnvelope.safeParse(envelope(detail));
    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(issues).toContain(message);
  });

  it('tells page and retry messages apart by kind', () => {
    const event = { id: 'e', source: 's', detailType: 'd', time: 't', topics: ['a'], users: [], data: null };
    expect(WorkMessage.parse({ kind: 'fanout.page', event, source: 0 }).kind).toBe('fanout.page');
    expect(
      WorkMessage.safeParse({
        kind: 'fanout.retry',
        event,
        attempt: 1,
        targets: [{ source: 0, connectionIds: [] }],
      }).success,
    ).toBe(false);
  });
});

describe('row expiry', () => {
  it('is two hours and a margin after the connection opened, in epoch seconds', () => {
    expect(rowExpiry(1_700_000_000_000)).toBe(1_700_000_000 + 7200 + 900);
  });
});
