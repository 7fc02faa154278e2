import type { Message } from '@aws-sdk/client-sqs';
import { envelopeId, frameEventId, StageRecorder, splitStages } from '../../bench/lib/stages';

const envelope = (id: string): string =>
  JSON.stringify({ version: '0', id, 'detail-type': 'BenchEvent', source: 'bench', detail: {} });
const frame = (id: string): Buffer =>
  Buffer.from(JSON.stringify({ type: 'event', id, topic: 't', data: {} }));

describe('the latency stage split', () => {
  it('times each stage from PutEvents and from the stage before, per event, post and frame', () => {
    const rows = splitStages({
      sentAt: new Map([
        ['e1', 1000],
        ['e2', 2000],
      ]),
      enqueued: new Map([
        ['e1', 1010],
        ['e2', 2020],
      ]),
      received: new Map([
        ['e1', 1011],
        ['e2', 2030],
      ]),
      invoked: new Map([
        ['e1', 1012],
        ['e2', 2040],
      ]),
      answered: [
        { eventId: 'e1', connectionId: 'a', at: 1030 },
        { eventId: 'e2', connectionId: 'a', at: 2050 },
      ],
      arrived: [
        { eventId: 'e1', connectionId: 'a', at: 1029 },
        { eventId: 'e2', connectionId: 'a', at: 2052 },
      ],
    });
    const by = Object.fromEntries(rows.map((r) => [r.stage, r]));
    expect(rows.map((r) => r.stage)).toEqual(['enqueued', 'received', 'invoked', 'answered', 'arrived']);
    expect(by.enqueued).toEqual({ stage: 'enqueued', count: 2, p50: 10, p99: 20, ownP50: 10, ownP99: 20 });
    expect(by.received).toMatchObject({ p50: 11, p99: 30, ownP50: 1, ownP99: 10 });
    expect(by.invoked).toMatchObject({ p50: 12, p99: 40, ownP50: 1, ownP99: 10 });
    expect(by.answered).toMatchObject({ count: 2, p50: 30, p99: 50, ownP50: 10, ownP99: 18 });
    // The gateway writes the frame before it answers the post: a frame's own time may be negative.
    expect(by.arrived).toMatchObject({ count: 2, p50: 29, p99: 52, ownP50: -1, ownP99: 2 });
  });

  it('leaves out items of events not sent in the run, and own times whose previous stage is missing', () => {
    const rows = splitStages({
      sentAt: new Map([['e1', 1000]]),
      enqueued: new Map([['stray', 5]]),
      received: new Map([['e1', 1100]]),
      invoked: new Map(),
      answered: [{ eventId: 'stray', connectionId: 'a', at: 9 }],
      arrived: [{ eventId: 'e1', connectionId: 'b', at: 1200 }],
    });
    const by = Object.fromEntries(rows.map((r) => [r.stage, r]));
    expect(by.enqueued?.count).toBe(0);
    expect(by.enqueued?.p50).toBeNaN();
    expect(by.received).toMatchObject({ count: 1, p50: 100 });
    expect(by.received?.ownP50).toBeNaN();
    expect(by.answered?.count).toBe(0);
    expect(by.arrived).toMatchObject({ count: 1, p50: 200 });
    expect(by.arrived?.ownP50).toBeNaN();
  });

  it('reads event ids from EventBridge envelopes and event frames only', () => {
    expect(envelopeId(envelope('e1'))).toBe('e1');
    expect(envelopeId(JSON.stringify({ kind: 'fanout.page', event: { id: 'e1' } }))).toBeUndefined();
    expect(envelopeId('not json')).toBeUndefined();
    expect(envelopeId(undefined)).toBeUndefined();
    expect(frameEventId(frame('e1'))).toBe('e1');
    expect(frameEventId(Buffer.from(JSON.stringify({ type: 'pong', id: 'x' })))).toBeUndefined();
    expect(frameEventId(Buffer.from('{'))).toBeUndefined();
    expect(frameEventId(undefined)).toBeUndefined();
  });

  it('records the first time an event reaches each stage, and only while recording', () => {
    let clock = 0;
    const recorder = new StageRecorder(() => clock);
    const { trace } = recorder;
    trace.enqueued(envelope('before'));
    recorder.start();
    clock = 1;
    trace.enqueued(envelope('e1'));
    clock = 2;
    trace.received([{ Body: envelope('e1') }, { Body: 'page' }] as Message[]);
    clock = 3;
    trace.invoked({ Records: [{ body: envelope('e1') }, { body: 42 }] });
    trace.invoked('not an event');
    clock = 4;
    // Received again after a failed batch: not the event's way in.
    trace.received([{ Body: envelope('e1') }] as Message[]);
    trace.answered({ method: 'POST', connectionId: 'c1' }, 200, frame('e1'));
    trace.answered({ method: 'POST', connectionId: 'c2' }, 410, frame('e1'));
    trace.answered({ method: 'GET', connectionId: 'c3' }, 200, undefined);
    recorder.stop();
    trace.enqueued(envelope('after'));
    expect([...recorder.enqueued]).toEqual([['e1', 1]]);
    expect([...recorder.received]).toEqual([['e1', 2]]);
    expect([...recorder.invoked]).toEqual([['e1', 3]]);
    expect(recorder.answered).toEqual([{ eventId: 'e1', connectionId: 'c1', at: 4 }]);
    recorder.start();
    expect(recorder.enqueued.size + recorder.received.size + recorder.answered.length).toBe(0);
  });
});
