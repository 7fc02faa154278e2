import { MemoryConnectionGateway } from '../../../shared/gateway/gateway-memory';

const frame = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('MemoryConnectionGateway', () => {
  it('records decoded frames for live connections and answers 410 for unknown ones', async () => {
    const gateway = new MemoryConnectionGateway().connect('a');
    await gateway.post('a', frame({ n: 1 }));
    expect(gateway.received('a')).toEqual([{ n: 1 }]);
    await expect(gateway.post('b', frame({}))).rejects.toMatchObject({ kind: 'gone', statusCode: 410 });
    gateway.disconnect('a');
    await expect(gateway.post('a', frame({}))).rejects.toMatchObject({ kind: 'gone' });
    expect(gateway.log.map((l) => l.outcome)).toEqual(['ok', 'gone', 'gone']);
  });

  it('fails the next posts as scripted, then lets them through', async () => {
    const gateway = new MemoryConnectionGateway().connect('a').failNext('a', 'throttled', 2);
    await expect(gateway.post('a', frame(1))).rejects.toMatchObject({ kind: 'throttled', statusCode: 429 });
    await expect(gateway.post('a', frame(1))).rejects.toMatchObject({ kind: 'throttled' });
    await gateway.post('a', frame(1));
    expect(gateway.attempts.get('a')).toBe(3);
  });

  it('asks the fault hook with the attempt number', async () => {
    const gateway = new MemoryConnectionGateway({
      fault: (_id, attempt) => (attempt === 1 ? 'other' : undefined),
    });
    gateway.connect('a');
    await expect(gateway.post('a', frame(1))).rejects.toMatchObject({ kind: 'other', statusCode: 500 });
    await gateway.post('a', frame(1));
  });

  it('rejects frames over 128 KB with 413', async () => {
    const gateway = new MemoryConnectionGateway().connect('a');
    await expect(gateway.post('a', frame('x'.repeat(131_072)))).rejects.toMatchObject({
      kind: 'too_large',
      statusCode: 413,
    });
  });

  it('measures how many posts run at once, with latency', async () => {
    const gateway = new MemoryConnectionGateway({ latencyMs: 2 }).connect('a', 'b', 'c');
    await Promise.all(['a', 'b', 'c'].map((id) => gateway.post(id, frame(id))));
    expect(gateway.maxInFlight).toBe(3);
    expect(gateway.inFlight).toBe(0);
    expect(gateway.deliveredCount()).toBe(3);
  });
});
