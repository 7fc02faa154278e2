import type { WorkMessage } from '../../../shared/domain/envelope';
import { MemoryWorkQueue } from '../../../shared/queue/queue-memory';

const message: WorkMessage = {
  kind: 'fanout.page',
  event: { id: 'e', source: 's', detailType: 'd', time: 't', topics: ['a'], users: [], data: { n: 1 } },
  source: 0,
};

describe('MemoryWorkQueue', () => {
  it('keeps sent messages as SQS would carry them, and hands their bodies out oldest first', async () => {
    const queue = new MemoryWorkQueue();
    await queue.send([message, { ...message, source: 1 }]);
    expect(queue.sent).toEqual([message, { ...message, source: 1 }]);
    expect(queue.sent[0]).not.toBe(message);
    expect(queue.take()).toBe(JSON.stringify(message));
    expect(queue.pending).toHaveLength(1);
  });

  it('records dead letters and fails on demand', async () => {
    const queue = new MemoryWorkQueue().failNext('deadLetter').failNext('send', 2);
    await expect(queue.deadLetter([{ body: 'x', reason: 'malformed' }])).rejects.toThrow(
      'injected deadLetter',
    );
    await queue.deadLetter([{ body: 'x', reason: 'malformed' }]);
    expect(queue.deadLetters).toEqual([{ body: 'x', reason: 'malformed' }]);
    await expect(queue.send([message])).rejects.toThrow();
    await expect(queue.send([message])).rejects.toThrow();
    await queue.send([message]);
    expect(queue.sent).toHaveLength(1);
  });
});
