import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { PublishError, Publisher } from '@fanout/publisher';

const eventBridge = mockClient(EventBridgeClient);
const publisher = () =>
  new Publisher({
    eventBusName: 'fanout-dev',
    source: 'orders',
    client: new EventBridgeClient({ region: 'us-east-1' }),
  });

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => undefined,
    (err: unknown) => (err instanceof PublishError ? err.code : String(err)),
  );

beforeEach(() => eventBridge.reset());

describe('Publisher', () => {
  it('sends one PutEvents entry with the design envelope and returns the event id', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'id-1' }] });
    const id = await publisher().publish({
      topics: ['orders/eu/1234'],
      users: ['alice'],
      data: { status: 'shipped' },
      detailType: 'OrderUpdated',
      expiresAt: '2026-11-24T10:05:00Z',
    });
    expect(id).toBe('id-1');
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          EventBusName: 'fanout-dev',
          Source: 'orders',
          DetailType: 'OrderUpdated',
          Detail: JSON.stringify({
            data: { status: 'shipped' },
            topics: ['orders/eu/1234'],
            users: ['alice'],
            expiresAt: '2026-11-24T10:05:00.000Z',
          }),
        },
      ],
    });
  });

  it('sends ten entries per call', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const ids = await publisher().publishAll(
      Array.from({ length: 23 }, (_, i) => ({ topics: [`t/${i}`], data: i })),
    );
    expect(ids).toHaveLength(23);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
  });

  it('surfaces an entry EventBridge refused with its error code', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' }],
    });
    await expect(publisher().publish({ topics: ['a'], data: 1 })).rejects.toThrow(
      'EventBridge rejected the event: InternalFailure (Internal Service Failure)',
    );
  });

  it.each([
    ['no topic and no user', { data: 1 }],
    ['an invalid topic', { topics: ['bad topic'], data: 1 }],
    ['a wildcard topic', { topics: ['orders/*'], data: 1 }],
    ['an empty user id', { users: [''], data: 1 }],
    ['no data', { topics: ['a'] }],
    ['a bad expiresAt', { topics: ['a'], data: 1, expiresAt: 'soon' }],
  ])('rejects a notification with %s before sending', async (_label, notification) => {
    expect(await codeOf(publisher().publish(notification as never))).toBe('invalid_event');
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('rejects a notification whose delivered frame would exceed 128 KB, before sending', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'id-1' }] });
    const data = 'x'.repeat(128 * 1024 - 150);
    expect(await codeOf(publisher().publish({ topics: ['a'], data }))).toBe('too_large');
    expect(await publisher().publish({ topics: ['a'], data: data.slice(0, -200) })).toBe('id-1');
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('needs a bus and a source', () => {
    expect(() => new Publisher({ eventBusName: '', source: 's' })).toThrow('eventBusName is required');
    expect(() => new Publisher({ eventBusName: 'b', source: '' })).toThrow('source is required');
  });
});
