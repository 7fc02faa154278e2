import { createBatchHandler } from '../../../shared/fanout/batch';
import { addConnection, envelopeBody, harness, sqsEvent } from './fixtures';

describe('fan-out SQS batch', () => {
  it('dead-letters a malformed record and still delivers the rest of the batch', async () => {
    const h = harness();
    await addConnection(h, 'a', ['t/1']);
    await addConnection(h, 'b', ['t/2']);
    const handle = createBatchHandler(h.engine);

    const response = await handle(
      sqsEvent([
        envelopeBody({ topics: ['t/1'] }, 'e1'),
        '{not json',
        envelopeBody({ topics: ['t/2'] }, 'e2'),
      ]),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.gateway.received('a')).toEqual([expect.objectContaining({ id: 'e1' })]);
    expect(h.gateway.received('b')).toEqual([expect.objectContaining({ id: 'e2' })]);
    expect(h.queue.deadLetters).toEqual([
      { body: '{not json', reason: 'malformed', detail: expect.any(String) },
    ]);
  });

  it('fails only the event the gateway answers 413 for, without reporting it as a batch failure', async () => {
    const h = harness();
    await addConnection(h, 'big', ['t/big']);
    await addConnection(h, 'small', ['t/small']);
    h.gateway.failNext('big', 'too_large');
    const tooLarge = envelopeBody({ topics: ['t/big'] }, 'e-big');

    const response = await createBatchHandler(h.engine)(
      sqsEvent([tooLarge, envelopeBody({ topics: ['t/small'] }, 'e-small')]),
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(h.gateway.received('small')).toHaveLength(1);
    expect(h.queue.deadLetters).toEqual([
      { body: tooLarge, reason: 'payload_too_large', detail: expect.any(String) },
    ]);
  });

  it('reports a record whose audience cannot be read in batchItemFailures, and only that one', async () => {
    const h = harness();
    await addConnection(h, 'a', ['ok/1']);
    h.store.failAudience = (source) => source.kind === 'pattern' && source.topic === 'down/1';

    const response = await createBatchHandler(h.engine)(
      sqsEvent([envelopeBody({ topics: ['down/1'] }, 'e-down'), envelopeBody({ topics: ['ok/1'] }, 'e-ok')]),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
    expect(h.gateway.received('a')).toHaveLength(1);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        extra: [{ eventId: 'e-down', kind: 'envelope' }, expect.any(Error)],
      }),
    );
  });

  it('lists every record when the whole batch fails, instead of throwing', async () => {
    const h = harness();
    h.store.failAudience = () => true;
    const response = await createBatchHandler(h.engine)(
      sqsEvent([envelopeBody({ topics: ['a'] }, 'e1'), envelopeBody({ users: ['u'] }, 'e2')]),
    );
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-0' }, { itemIdentifier: 'msg-1' }],
    });
  });

  it('reports a record whose dead letter cannot be written, so SQS keeps it', async () => {
    const h = harness();
    h.queue.failNext('deadLetter');
    const response = await createBatchHandler(h.engine)(sqsEvent(['nope']));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-0' }] });
  });
});
