import { backoffDelay } from '@fanout/protocol';
import { chunk, DEFAULT_RETRY } from '../../../shared/store/dynamodb-batch.js';
import { decodeCursor, encodeCursor, parseMeta } from '../../../shared/store/dynamodb-rows.js';
import { createTableInput, TABLE_KEY } from '../../../shared/store/table.js';

describe('table definition', () => {
  it('creates an on-demand table keyed by string pk and sk', () => {
    expect(TABLE_KEY).toEqual({ partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' });
    expect(createTableInput('connections')).toEqual({
      TableName: 'connections',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });
});

describe('batch helpers', () => {
  it('splits requests into chunks of at most the given size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });

  it('backs off exponentially with jitter, up to the cap', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const full = Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.baseDelayMs * 2 ** attempt);
      const delay = backoffDelay(attempt, DEFAULT_RETRY);
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    }
  });
});

describe('rows', () => {
  it('round-trips a LastEvaluatedKey through the opaque cursor', () => {
    const key = { pk: 'TOPIC#orders/*', sk: 'abc=' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'TOPIC#orders/*')).toEqual(key);
  });

  it('refuses a META row without connectedAt instead of inventing one', () => {
    expect(() => parseMeta('c1', { pk: 'CONN#c1', sk: 'META' })).toThrow(
      'CONN#c1/META has no numeric connectedAt',
    );
  });
});
