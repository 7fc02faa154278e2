import { AwsJsonError } from '../../eventbridge/aws-json.js';
import {
  buildEnvelope,
  entrySize,
  formatEventTime,
  parsePutEventsRequest,
} from '../../eventbridge/put-events.js';

const LIMIT = 256 * 1024;
const context = {
  account: '111122223333',
  region: 'eu-west-1',
  now: () => new Date('2026-01-02T03:04:05.678Z'),
};
const valid = { Source: 'orders', DetailType: 'OrderUpdated', Detail: '{"topics":["a"]}' };

function rejection(body: unknown): AwsJsonError {
  try {
    parsePutEventsRequest(body, LIMIT);
  } catch (error) {
    if (error instanceof AwsJsonError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('parsePutEventsRequest', () => {
  it('reads Time sent as epoch seconds, as the SDK sends it, or as ISO text', () => {
    const [fromSeconds, fromText] = parsePutEventsRequest(
      {
        Entries: [
          { ...valid, Time: 1452733323.5 },
          { ...valid, Time: '2016-01-14T01:02:03Z' },
        ],
      },
      LIMIT,
    );
    expect(fromSeconds?.Time?.toISOString()).toBe('2016-01-14T01:02:03.500Z');
    expect(fromText?.Time?.toISOString()).toBe('2016-01-14T01:02:03.000Z');
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a body without Entries', {}, 'ValidationException', /Member must not be null/],
    ['no entries', { Entries: [] }, 'ValidationException', /greater than or equal to 1/],
    ['Entries that is not an array', { Entries: 'x' }, 'SerializationException', /Entries/],
    [
      'a Source that is not a string',
      { Entries: [{ ...valid, Source: 1 }] },
      'SerializationException',
      /Entries.0.Source/,
    ],
    [
      'a Time that is not a time',
      { Entries: [{ ...valid, Time: 'soon' }] },
      'SerializationException',
      /not a timestamp/,
    ],
    [
      'resources that are not strings',
      { Entries: [{ ...valid, Resources: [1] }] },
      'SerializationException',
      /Resources/,
    ],
  ])('refuses %s with %s', (_label, body, type, message) => {
    const error = rejection(body);
    expect(error.type).toBe(type);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('counts the entries of the whole request against the size limit', () => {
    const half = { ...valid, Detail: JSON.stringify({ data: 'x'.repeat(LIMIT / 2) }) };
    expect(() => parsePutEventsRequest({ Entries: [half] }, LIMIT)).not.toThrow();
    expect(rejection({ Entries: [half, half] }).message).toBe(
      'Total size of the entries in the request is over the limit.',
    );
  });
});

describe('entrySize', () => {
  it('counts 14 bytes for Time and the UTF-8 bytes of the other members, as AWS documents', () => {
    const size = entrySize({
      Time: new Date(0),
      Source: 'é',
      DetailType: 'ab',
      Detail: '{}',
      Resources: ['r1', '👍'],
      EventBusName: 'not counted',
    });
    expect(size).toBe(14 + 2 + 2 + 2 + 2 + 4);
  });
});

describe('buildEnvelope', () => {
  it('builds the envelope with its keys in wire order and the time to the second', () => {
    const built = buildEnvelope({ ...valid, Resources: ['arn:1'] }, context);
    if (!('envelope' in built)) throw new Error('expected an envelope');

    expect(Object.keys(built.envelope)).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(built.envelope).toMatchObject({
      version: '0',
      'detail-type': 'OrderUpdated',
      source: 'orders',
      account: '111122223333',
      time: '2026-01-02T03:04:05Z',
      region: 'eu-west-1',
      resources: ['arn:1'],
      detail: { topics: ['a'] },
    });
  });

  it.each([
    ['Source', { ...valid, Source: undefined }],
    ['DetailType', { ...valid, DetailType: '' }],
    ['Detail', { ...valid, Detail: undefined }],
  ])('fails an entry without %s with InvalidArgument', (member, entry) => {
    expect(buildEnvelope(entry, context)).toEqual({
      error: {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.`,
      },
    });
  });

  it.each(['nope', '"a string"', '42', 'null', '[{"topics":["a"]}]'])(
    'fails the Detail %s, which is not a JSON object, with MalformedDetail',
    (detail) => {
      expect(buildEnvelope({ ...valid, Detail: detail }, context)).toEqual({
        error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      });
    },
  );
});

describe('formatEventTime', () => {
  it('drops the milliseconds, as EventBridge times are to the second', () => {
    expect(formatEventTime(new Date('2017-12-22T18:43:48.999Z'))).toBe('2017-12-22T18:43:48Z');
  });
});
